// A stand-in forge on 127.0.0.1: the commit status endpoints of GitHub, Gitea (Forgejo) and GitLab
// as their public API documentation describes them (paths, auth headers, states, body fields),
// rejecting anything else (401 / 404 / 422). It records every request and can be told to answer
// 500, 429 with Retry-After, 401 (at once or when the test says), or to hang.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Provider = 'github' | 'gitea' | 'gitlab';

export interface ForgeRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body (undefined when it was not JSON). */
  body: Record<string, unknown> | undefined;
  raw: string;
  /** What the forge answered (0: it hung). */
  status: number;
}

/** A scripted answer for the next request, before any validation; `after`: sent once that settles. */
export type Fault = { status: 500 | 502 | 503 | 401 | 429; retryAfter?: string; after?: Promise<unknown> } | { hang: true };

export interface Forge {
  provider: Provider;
  /** The API base to give [status] api_url: http://127.0.0.1:<port>/api/v3 (GitHub), /api/v1 (Gitea), /api/v4 (GitLab). */
  apiUrl: string;
  requests: ForgeRequest[];
  /** Accepted statuses, in order: `sha state description`. */
  accepted(): { sha: string; state: string; description: string; context: string; targetUrl?: string }[];
  /** Answers the next requests with these, one each, in order. */
  fail(...faults: Fault[]): void;
  /** Resolves once `n` requests have come in (answered or hanging). */
  waitFor(n: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

const STATES: Record<Provider, readonly string[]> = {
  github: ['error', 'failure', 'pending', 'success'],
  gitea: ['pending', 'success', 'error', 'failure', 'warning'],
  gitlab: ['pending', 'running', 'success', 'failed', 'canceled'],
};
const BASE: Record<Provider, string> = { github: '/api/v3', gitea: '/api/v1', gitlab: '/api/v4' };

export async function startForge(options: { provider: Provider; token: string; owner?: string; repo?: string; project?: string }): Promise<Forge> {
  const { provider, token } = options;
  const owner = options.owner ?? 'me';
  const repo = options.repo ?? 'app';
  const project = options.project ?? `${owner}/${repo}`;
  const requests: ForgeRequest[] = [];
  const faults: Fault[] = [];
  const sockets = new Set<Socket>();
  const waiters: (() => void)[] = [];

  const route = (path: string): string | undefined => {
    const base = BASE[provider];
    if (!path.startsWith(`${base}/`)) return undefined;
    const rest = path.slice(base.length);
    if (provider === 'gitlab') {
      const m = /^\/projects\/([^/]+)\/statuses\/([^/]+)$/.exec(rest);
      return m && decodeURIComponent(m[1]!) === project ? m[2] : undefined;
    }
    const m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([^/]+)$/.exec(rest);
    return m && m[1] === owner && m[2] === repo ? m[3] : undefined;
  };

  const authorized = (headers: IncomingMessage['headers']): boolean => {
    if (provider === 'gitlab') return headers['private-token'] === token && headers.authorization === undefined;
    if (provider === 'gitea') return headers.authorization === `token ${token}`;
    return headers.authorization === `Bearer ${token}`;
  };

  /** Why the request is not one the forge's documentation describes, as [status, message], or undefined. */
  const check = (req: IncomingMessage, path: string, body: Record<string, unknown> | undefined): [number, string] | undefined => {
    const sha = route(path);
    if (req.method !== 'POST' || sha === undefined) return [404, 'Not Found'];
    if (!authorized(req.headers)) return [401, provider === 'gitlab' ? '401 Unauthorized' : 'Bad credentials'];
    if (provider === 'github' && (req.headers.accept !== 'application/vnd.github+json' || req.headers['x-github-api-version'] !== '2022-11-28')) {
      return [415, 'expected Accept: application/vnd.github+json and X-GitHub-Api-Version: 2022-11-28'];
    }
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return [415, 'expected a JSON body'];
    if (!/^[0-9a-f]{40}$/.test(sha)) return [422, 'No commit found for SHA'];
    if (!body) return [400, 'Problems parsing JSON'];
    const fields = provider === 'gitlab' ? ['state', 'name', 'description', 'target_url', 'ref', 'context', 'coverage', 'pipeline_id'] : ['state', 'target_url', 'description', 'context'];
    const unknown = Object.keys(body).filter((k) => !fields.includes(k));
    if (unknown.length > 0) return [422, `unknown fields: ${unknown.join(', ')}`];
    if (typeof body.state !== 'string' || !STATES[provider].includes(body.state)) return [422, `state is not one of ${STATES[provider].join(', ')}`];
    if (body.description !== undefined && (typeof body.description !== 'string' || body.description.length > 140)) return [422, 'description is too long (maximum is 140 characters)'];
    const label = provider === 'gitlab' ? body.name : body.context;
    if (typeof label !== 'string' || label === '') return [422, `${provider === 'gitlab' ? 'name' : 'context'} is missing`];
    if (body.target_url !== undefined && !/^https?:\/\//.test(String(body.target_url))) return [422, 'target_url must be an http(s) URL'];
    return undefined;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(raw);
        body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
      } catch {
        // Not JSON: check() answers 400.
      }
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const entry: ForgeRequest = { method: req.method ?? '', path, headers: req.headers, body, raw, status: 0 };
      requests.push(entry);
      for (const w of waiters.splice(0)) w();
      const fault = faults.shift();
      if (fault && 'hang' in fault) return;
      const answer = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        entry.status = status;
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(JSON.stringify(json));
      };
      if (fault) {
        const send = () => answer(fault.status, { message: `scripted ${fault.status}` }, fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {});
        return void (fault.after ? fault.after.finally(send) : send());
      }
      const problem = check(req, path, body);
      if (problem) return answer(problem[0], { message: problem[1] });
      // The status made, as each documents it: GitHub names its state `state`; Gitea (its Status
      // struct) and GitLab (its CommitStatus entity, in GitLab's own spelling) name it `status`.
      answer(201, { id: requests.length, ...(provider === 'github' ? { state: body!.state } : { status: body!.state }), description: body!.description });
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    provider,
    apiUrl: `http://127.0.0.1:${port}${BASE[provider]}`,
    requests,
    accepted: () =>
      requests.filter((r) => r.status === 201).map((r) => ({
        sha: r.path.split('/').pop()!,
        state: String(r.body!.state),
        description: String(r.body!.description ?? ''),
        context: String(provider === 'gitlab' ? r.body!.name : r.body!.context),
        ...(r.body!.target_url ? { targetUrl: String(r.body!.target_url) } : {}),
      })),
    fail: (...more) => void faults.push(...more),
    async waitFor(n, ms = 30_000) {
      const end = Date.now() + ms;
      while (requests.length < n) {
        if (Date.now() > end) throw new Error(`the forge got ${requests.length} of ${n} requests: ${JSON.stringify(requests.map((r) => [r.path, r.body?.state, r.status]))}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, end - Date.now()));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
