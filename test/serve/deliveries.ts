// Deliveries as each forge sends them, signed by the test: GitHub's real example payloads from
// @octokit/webhooks-examples, and Gitea- and GitLab-shaped ones with the headers their docs list.
// Sent over real HTTP with node:http, so a test sees exactly the status and body a forge would.
import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Example { name: string; examples: Record<string, unknown>[] }
const EXAMPLES = require('@octokit/webhooks-examples') as Example[];

/** A real GitHub example payload of `event` (deep-copied), the first one `pick` accepts. */
export function githubExample(event: string, pick: (p: Record<string, unknown>) => boolean = () => true): Record<string, unknown> {
  const found = EXAMPLES.find((e) => e.name === event)?.examples.find(pick);
  if (!found) throw new Error(`no ${event} example matches`);
  return structuredClone(found);
}

export const hmac = (secret: string, body: string | Buffer) => createHmac('sha256', secret).update(body).digest('hex');

export interface Delivery {
  headers: Record<string, string>;
  body: string;
}

export function github(event: string, payload: unknown, secret: string, options: { id?: string; form?: boolean } = {}): Delivery {
  const json = JSON.stringify(payload);
  const body = options.form ? new URLSearchParams({ payload: json }).toString() : json;
  return {
    body,
    headers: {
      'content-type': options.form ? 'application/x-www-form-urlencoded' : 'application/json',
      'user-agent': 'GitHub-Hookshot/044aadd',
      'x-github-event': event,
      'x-github-delivery': options.id ?? randomUUID(),
      'x-github-hook-id': '292430182',
      'x-hub-signature-256': `sha256=${hmac(secret, body)}`,
    },
  };
}

/** As Gitea 1.2x sends it: its own headers, GitHub's and Gogs' for compatibility, both signatures. */
export function gitea(event: string, payload: unknown, secret: string, options: { id?: string; hubHeader?: boolean } = {}): Delivery {
  const body = JSON.stringify(payload);
  const id = options.id ?? randomUUID();
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-delivery': id,
      'x-github-event': event,
      'x-gogs-delivery': id,
      'x-gogs-event': event,
      'x-gitea-delivery': id,
      'x-gitea-event': event,
      'x-gitea-event-type': event,
      'x-gitea-signature': hmac(secret, body),
      'x-gogs-signature': hmac(secret, body),
      ...(options.hubHeader === false ? {} : { 'x-hub-signature-256': `sha256=${hmac(secret, body)}` }),
    },
  };
}

/** A Gitea push payload (docs.gitea.com "Webhooks" example, trimmed to what a receiver reads). */
export function giteaPush(opts: { ref: string; cloneUrl: string; fullName: string; deleted?: boolean }): Record<string, unknown> {
  return {
    ref: opts.ref,
    before: '28e1879d029cb852e4844d9c718537df08844e03',
    after: opts.deleted ? '0000000000000000000000000000000000000000' : 'bffeb74224043ba2feb48d137756c8a9331c449a',
    compare_url: '',
    commits: [],
    repository: { id: 140, name: opts.fullName.split('/')[1], full_name: opts.fullName, private: false, html_url: opts.cloneUrl.replace(/\.git$/, ''), clone_url: opts.cloneUrl, ssh_url: '' },
    pusher: { id: 1, login: 'gitea', username: 'gitea' },
    sender: { id: 1, login: 'gitea', username: 'gitea' },
  };
}

/**
 * As GitLab sends it (docs.gitlab.com "Webhooks", delivery headers; app/services/web_hook_service.rb):
 * the token in X-Gitlab-Token, the event's name in X-Gitlab-Event; `Idempotency-Key` (17.4+) is one
 * per delivery and kept by its retries, `X-Gitlab-Webhook-UUID` (16.2+) is new on every request,
 * `X-Gitlab-Event-UUID` is shared by all the hooks a webhook-triggered request sets off. `version`
 * drops the headers an older GitLab does not send: '17.3' (no Idempotency-Key), '16.1' (no Webhook-UUID).
 */
export function gitlab(
  event: 'Push Hook' | 'Tag Push Hook' | 'Issue Hook',
  payload: unknown,
  token: string,
  options: { id?: string; webhookUuid?: string; eventUuid?: string; version?: '17.5' | '17.3' | '16.1' } = {},
): Delivery {
  const version = options.version ?? '17.5';
  return {
    body: JSON.stringify(payload),
    headers: {
      'content-type': 'application/json',
      'user-agent': `GitLab/${version}.0`,
      'x-gitlab-event': event,
      'x-gitlab-token': token,
      'x-gitlab-instance': 'https://gitlab.example.com',
      ...(version === '17.5' ? { 'idempotency-key': options.id ?? randomUUID() } : {}),
      ...(version === '16.1' ? {} : { 'x-gitlab-webhook-uuid': options.webhookUuid ?? randomUUID() }),
      'x-gitlab-event-uuid': options.eventUuid ?? randomUUID(),
    },
  };
}

/** A GitLab push payload (docs.gitlab.com "Webhook events", push events), trimmed. */
export function gitlabPush(opts: { ref: string; httpUrl: string; path: string; deleted?: boolean }): Record<string, unknown> {
  return {
    object_kind: opts.ref.startsWith('refs/tags/') ? 'tag_push' : 'push',
    event_name: opts.ref.startsWith('refs/tags/') ? 'tag_push' : 'push',
    before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
    after: opts.deleted ? '0000000000000000000000000000000000000000' : 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    ref: opts.ref,
    checkout_sha: opts.deleted ? null : 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    user_username: 'jsmith',
    project_id: 15,
    project: { id: 15, name: opts.path.split('/').pop(), web_url: opts.httpUrl.replace(/\.git$/, ''), git_http_url: opts.httpUrl, git_ssh_url: '', path_with_namespace: opts.path, default_branch: 'main' },
    commits: [],
    total_commits_count: 0,
    repository: { name: opts.path.split('/').pop(), url: '', homepage: opts.httpUrl.replace(/\.git$/, ''), git_http_url: opts.httpUrl, git_ssh_url: '' },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: Record<string, unknown>;
}

/** One HTTP request to 127.0.0.1; `body` may be a Buffer, or undefined for none. */
export function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // A HEAD answer, or a body that is not JSON: the test looks at `body`.
        }
        resolve({ status: res.statusCode!, headers: res.headers, body: text, json });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export const deliver = (url: string, d: Delivery) => send(`${url}/webhook`, { headers: d.headers, body: d.body });
