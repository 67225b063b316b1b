// The status page's one script: it listens to GET /api/events and redraws the deploy under way
// with textContent only (never markup from the stream), and reloads the page once that run ends.
// Without EventSource (or with scripts off) the page is still complete as the server rendered it.
export const LIVE_SCRIPT = `(() => {
  const body = document.getElementById('running-body');
  if (!body || !window.EventSource) return;
  let shown = body.dataset.live === '1';
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  const mark = (s) => s.state === 'ok' ? ['ok', '\\u2713'] : s.state === 'failed' ? ['bad', '\\u2717'] : ['warn', '\\u2026'];
  const draw = (r) => {
    const now = [...r.steps].reverse().find((s) => s.state === 'running');
    const head = el('p', 'warn', 'Deploying: ' + (now ? now.step + ' ' + now.detail : r.finishing ? 'finishing' : 'starting'));
    head.id = 'running-now';
    const meta = el('p', 'dim', 'since ' + r.startedAt.replace('T', ' ').replace(/\\.\\d+Z$/, 'Z'));
    if (r.log) { const a = el('a', '', 'log so far'); a.href = r.log; meta.append(' \\u00b7 ', a); }
    const list = el('ul');
    list.id = 'running-steps';
    for (const s of r.steps) {
      const [cls, sign] = mark(s);
      list.append(el('li', cls, sign + ' ' + s.step + ' ' + s.detail + (s.ms === undefined ? '' : ' ' + (s.ms / 1000).toFixed(2) + 's')));
    }
    const parts = [head, meta, list];
    if (r.tail.length) { const pre = el('pre', '', r.tail.join('\\n')); pre.id = 'running-tail'; parts.push(pre); }
    body.replaceChildren(...parts);
    body.dataset.live = '1';
    shown = true;
  };
  const events = new EventSource('api/events');
  events.addEventListener('run', (e) => {
    const run = JSON.parse(e.data);
    if (run) draw(run);
    // The run the page showed ended while the stream was away: the page is out of date.
    else if (shown) { events.close(); location.reload(); }
  });
  events.addEventListener('finished', () => { events.close(); location.reload(); });
})();`;
