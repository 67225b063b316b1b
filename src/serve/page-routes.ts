// The status page's routes in `mfd serve`: GET / (HTML), /api/status (JSON), /api/events (the
// deploy under way, server-sent events) and /runs/<id>/log (also /runs/<id>: the link a commit
// status or a notification gives). Each asks page-access.ts first;
// server.ts hands them every request and keeps /webhook and /healthz to itself.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Layout } from '../state/layout.ts';
import { FsError } from '../errors/index.ts';
import { EventStreams } from './events-stream.ts';
import type { LiveRuns } from './events.ts';
import { checkAccess, type PageAccess } from './page-access.ts';
import { documentOf, type Shell } from './page-html.ts';
import { readRunLog } from './page-log.ts';
import { renderStatusPage } from './page.ts';
import { readStatus, type StatusDocument, type StatusSources } from './status-api.ts';

export interface StatusPageOptions {
  access: PageAccess;
  status: StatusSources;
  live: LiveRuns;
  layout: Layout;
}

export interface StatusRoutes {
  /** Answers `path` and returns true when it is one of the page's; false leaves it to the caller. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
}

// /runs/<id> is what commit statuses and MFD_RUN_URL link to: the run is its log view.
const LOG_PATH = /^\/runs\/([^/]+)(?:\/log)?$/;

export function statusRoutes(options: StatusPageOptions): StatusRoutes {
  const streams = new EventStreams(options.live);
  return {
    async handle(req, res, path) {
      const log = LOG_PATH.exec(path);
      if (path !== '/' && path !== '/api/status' && path !== '/api/events' && !log) return false;
      const json = path.startsWith('/api/');
      const methods = path === '/api/events' ? 'GET' : 'GET, HEAD';
      if (!methods.split(', ').includes(req.method ?? '')) {
        reply(res, 405, { ok: false, reason: `${methods} this` }, json, { allow: methods });
        return true;
      }
      const verdict = checkAccess(req.headers, options.access);
      if (!verdict.ok) {
        reply(res, verdict.status, { ok: false, reason: verdict.reason }, json, verdict.headers ?? {});
        return true;
      }
      if (path === '/api/events') {
        if (!streams.start(res)) reply(res, 503, { ok: false, reason: 'too many open event streams; reload later' }, true, { 'retry-after': '10' });
        return true;
      }
      if (log) {
        let id: string;
        try {
          id = decodeURIComponent(log[1]!);
        } catch {
          // Malformed percent-encoding is a bad id like any other; the client hears so.
          id = '';
        }
        const view = await readRunLog(options.layout, id);
        if (!view.ok) reply(res, view.status, { ok: false, reason: view.reason }, false);
        else page(res, view.shell);
        return true;
      }
      let doc: StatusDocument;
      try {
        doc = await readStatus(options.status);
      } catch (error) {
        // The app root's state cannot be read (permissions, a file where a directory should be):
        // the world's fault, said as such, and the server goes on.
        // mfd's own file errors say what and where (state/stored.ts names the file).
        if (error instanceof FsError) {
          reply(res, 500, { ok: false, reason: `cannot read the app's state in ${options.layout.state}: ${error.message}` }, json);
          return true;
        }
        const { code, path, message } = error as NodeJS.ErrnoException;
        if (typeof code !== 'string') throw error;
        // Some fs errors (EISDIR of a read) name no path: the state directory at least says where.
        reply(res, 500, { ok: false, reason: `cannot read the app's state in ${options.layout.state}: ${path ? `${code} on ${path}` : message}` }, json);
        return true;
      }
      if (json) reply(res, 200, { ok: true, ...doc }, true);
      else page(res, renderStatusPage(doc));
      return true;
    },
  };
}

function page(res: ServerResponse, shell: Shell): void {
  const { text, headers } = documentOf(shell);
  res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(text) });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** JSON for /api/*, one plain line for a browser's paths; never HTML built from a reason. */
function reply(res: ServerResponse, status: number, body: { ok: boolean; reason?: string } & Record<string, unknown>, json: boolean, headers: Record<string, string | string[]> = {}): void {
  const text = json ? `${JSON.stringify(body)}\n` : `${body.reason ?? ''}\n`;
  res.writeHead(status, {
    'content-type': json ? 'application/json' : 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
