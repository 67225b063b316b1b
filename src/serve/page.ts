// GET /: the status page, rendered on the server from the same document GET /api/status returns:
// what is live and how healthy, whether the loop holds, the deploy under way, the last runs.
// Every value goes through html`` (escaped); the deploy under way is kept live by page-live.ts.
import { formatAge } from '../errors/index.ts';
import { html, type Html, type Shell } from './page-html.ts';
import { LIVE_SCRIPT } from './page-live.ts';
import type { Health, LoopRunning, RunRow, StatusDocument } from './status-api.ts';

const HEALTH: Record<Health, [string, string]> = {
  healthy: ['ok', 'healthy: came up and passed its checks'],
  unchecked: ['warn', 'not checked: activated, but nothing checked that it came up'],
  unhealthy: ['bad', 'unhealthy: recorded failed'],
  missing: ['bad', 'missing: active points at a directory that is gone'],
};

export function renderStatusPage(doc: StatusDocument): Shell {
  const now = Date.parse(doc.now);
  const ago = (iso: string | null) => (iso ? html`<span title="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</span> <span class="dim">(${formatAge(Math.max(0, now - Date.parse(iso)))} ago)</span>` : 'unknown');
  const body = html`
<header><h1>${doc.app.name}</h1>
<div class="dim">${doc.app.repo} &middot; ${doc.app.branch}${doc.app.unit ? html` &middot; unit ${doc.app.unit}` : ''} &middot; as of ${doc.now}</div></header>
<section id="active"><h2>Active deployment</h2>${activeOf(doc, ago)}</section>
<section id="loop"><h2>Continuous deployment</h2>${loopOf(doc, ago)}</section>
<section id="running"><h2>Running</h2><div id="running-body" data-live="${doc.running?.by === 'loop' ? '1' : '0'}">${runningOf(doc, ago)}</div></section>
<section id="runs"><h2>Last runs</h2>${runsOf(doc.runs, ago)}</section>
${doc.problems.length ? html`<section id="problems"><h2>Problems</h2><ul>${doc.problems.map((p) => html`<li class="warn">${p}</li>`)}</ul></section>` : ''}`;
  return { title: `${doc.app.name}: mfd status`, body, script: LIVE_SCRIPT };
}

type Ago = (iso: string | null) => Html | string;

function activeOf(doc: StatusDocument, ago: Ago): Html {
  const a = doc.active;
  if (!a) return html`<p>Nothing is deployed yet.</p>`;
  const [cls, text] = HEALTH[a.health];
  return html`<p class="mono sha">${a.sha ?? a.directory}</p>
<ul><li>ref: <code>${a.ref ?? 'unknown'}</code></li><li>directory: <code>${a.directory}</code></li>
<li>since: ${ago(a.since)}</li><li>state: <strong class="${cls}">${text}</strong></li></ul>`;
}

function loopOf(doc: StatusDocument, ago: Ago): Html {
  const p = doc.paused;
  const hold = !p
    ? html`<p class="ok">Deploying pushes to <code>${doc.app.branch}</code> by itself.</p>`
    : 'problem' in p
      ? html`<p class="bad">Paused: the pause file cannot be read (${p.problem}); "mfd resume" releases it.</p>`
      : html`<p class="warn">Paused by ${p.by} since ${ago(p.at)}${p.reason ? html`: ${p.reason}` : ''}. "mfd resume" releases it.</p>`;
  const marks = doc.quarantined.length
    ? html`<p>Quarantined (never deployed again by itself; "mfd deploy SHA" can):</p><ul>${doc.quarantined.map(
        (q) => html`<li><code class="sha">${q.sha}</code> <span class="bad">${q.outcome}</span> ${ago(q.at)}: ${q.reason}</li>`,
      )}</ul>`
    : '';
  // A deploy, good or failed, is in the runs below; what a quiet look found is said only here.
  const latest = doc.loop && doc.loop.kind !== 'deployed' && doc.loop.kind !== 'deploy-failed' ? html`<p class="${doc.loop.kind === 'resolve-failed' || doc.loop.kind === 'unreadable' ? 'bad' : 'dim'}">Last look: ${doc.loop.text}</p>` : '';
  return html`${hold}${marks}${latest}`;
}

function runningOf(doc: StatusDocument, ago: Ago): Html {
  const r = doc.running;
  if (!r) return html`<p class="dim">No deploy running.</p>`;
  if (r.by === 'other') return html`<p class="warn">mfd ${r.command}${r.ref ? html` ${r.ref}` : ''} by ${r.holder}, since ${ago(r.since)} (not this server's loop).</p>`;
  return loopRunningOf(r, ago);
}

/** The same markup page-live.ts builds in the browser from each event. */
function loopRunningOf(r: LoopRunning, ago: Ago): Html {
  const now = [...r.steps].reverse().find((s) => s.state === 'running');
  return html`<p class="warn" id="running-now">Deploying: ${now ? `${now.step} ${now.detail}` : r.finishing ? 'finishing' : 'starting'}</p>
<p class="dim">since ${ago(r.startedAt)}${r.log ? html` &middot; <a href="${r.log}">log so far</a>` : ''}</p>
<ul id="running-steps">${r.steps.map((s) => html`<li class="${s.state === 'ok' ? 'ok' : s.state === 'failed' ? 'bad' : 'warn'}">${s.state === 'ok' ? '\u2713' : s.state === 'failed' ? '\u2717' : '\u2026'} ${s.step} ${s.detail}${s.ms === undefined ? '' : ` ${(s.ms / 1000).toFixed(2)}s`}</li>`)}</ul>
${r.tail.length ? html`<pre id="running-tail">${r.tail.join('\n')}</pre>` : ''}`;
}

const OUTCOME_CLASS: Record<RunRow['outcome'], string> = { success: 'ok', failed: 'bad', 'rolled-back': 'bad', 'needs-attention': 'bad', interrupted: 'warn', refused: 'dim' };

function runsOf(runs: RunRow[], ago: Ago): Html {
  if (runs.length === 0) return html`<p class="dim">No runs yet.</p>`;
  return html`<table><thead><tr><th>started</th><th>run</th><th>trigger</th><th>outcome</th><th>took</th><th></th></tr></thead><tbody>${runs.map(
    (r) => html`<tr class="run"><td>${ago(r.start)}</td><td>${r.command} ${r.ref ?? ''} <code class="sha">${r.commit ? r.commit.slice(0, 12) : ''}</code> <span class="dim">by ${r.user}</span></td>
<td data-label="trigger">${r.trigger}</td><td data-label="outcome"><strong class="${OUTCOME_CLASS[r.outcome]}">${r.outcome}</strong>${r.error ? html`<div class="dim">${r.error.code}: ${r.error.message}</div>` : ''}</td>
<td data-label="took">${(r.durationMs / 1000).toFixed(1)}s</td><td><a href="${r.log}">log</a></td></tr>`,
  )}</tbody></table>`;
}
