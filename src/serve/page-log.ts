// GET /runs/<id>/log: one run's full log as a page. The id is checked as a run id (stored.ts
// RUN_ID: letters, digits, - and _), never used as a path; the file is opened without following a
// link, and only its last MAX_LOG_BYTES are shown. Terminal colour codes are dropped, the rest escaped.
import { FsLayoutError } from '../errors/index.ts';
import type { Layout } from '../state/layout.ts';
import { readRunLogText } from '../state/runlog.ts';
import { RUN_ID } from '../state/stored.ts';
import { html, type Shell } from './page-html.ts';

export const MAX_LOG_BYTES = 2 * 1024 ** 2;

export type LogView = { ok: true; shell: Shell; text: string } | { ok: false; status: 400 | 404; reason: string };

export async function readRunLog(layout: Layout, runId: string): Promise<LogView> {
  if (!RUN_ID.test(runId)) return { ok: false, status: 400, reason: 'not a run id: letters, digits, "-" and "_" only' };
  let log: { text: string; cut: number } | undefined;
  try {
    log = await readRunLogText(layout, runId, MAX_LOG_BYTES);
  } catch (error) {
    // A link, a directory or a fifo in the log's place is no log of this run.
    if (!(error instanceof FsLayoutError)) throw error;
  }
  if (!log) return { ok: false, status: 404, reason: `no log for run ${runId} (pruned with its deployment, or never written)` };
  const { text, cut } = log;
  const plain = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  const body = html`<header><h1>Run ${runId}</h1><div class="dim"><a href="../../">status</a>${cut ? ` \u00b7 the first ${cut} bytes are left out` : ''}</div></header>
<pre id="log">${plain || '(empty)'}</pre>`;
  return { ok: true, shell: { title: `mfd run ${runId}`, body }, text: plain };
}
