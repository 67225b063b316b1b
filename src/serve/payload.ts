// What an authenticated delivery asks for, from its parsed body: a ping, a push to the watched
// branch (poke the loop), or something to ignore with a reason. Only the ref, the deletion flag and
// the repository are read; the payload's sha and clone URL are never trusted (the loop resolves).
import type { Envelope } from './delivery.ts';
import { claimedName, sameRepository, type RepositoryClaim } from './repository.ts';

export type Verdict =
  | { status: 200; action: 'pong'; subscribesPush: boolean }
  | { status: 202; action: 'deploy'; ref: string }
  | { status: 202; action: 'ignored'; reason: string }
  | { status: 400 | 403 | 415; action: 'refused'; reason: string };

/** The JSON a forge sent, as JSON or as GitHub's form encoding (`payload=<json>`). */
export function parsePayload(contentType: string | undefined, body: Buffer): { ok: true; payload: unknown } | { ok: false; verdict: Verdict } {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  let json: string;
  if (type === 'application/json' || type.endsWith('+json')) json = body.toString('utf8');
  else if (type === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(body.toString('utf8')).get('payload');
    if (payload === null) return refuse(400, 'a form-encoded delivery without a payload field');
    json = payload;
  } else return refuse(415, `content type ${JSON.stringify(type || 'none')}: expected application/json or application/x-www-form-urlencoded`);
  try {
    return { ok: true, payload: JSON.parse(json) as unknown };
  } catch {
    // The message of JSON.parse quotes the body; the reason says enough.
    return refuse(400, 'the body is not valid JSON');
  }
}

function refuse(status: 400 | 403 | 415, reason: string): { ok: false; verdict: Verdict } {
  return { ok: false, verdict: { status, action: 'refused', reason } };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const strings = (o: unknown, keys: string[]): string[] =>
  isObject(o) ? keys.map((k) => o[k]).filter((v): v is string => typeof v === 'string' && v !== '') : [];

/** The repository a payload is about, as each forge names it. */
export function claimOf(envelope: Envelope, payload: Json): RepositoryClaim {
  if (envelope.forge === 'gitlab') {
    return {
      urls: [...strings(payload.project, ['git_http_url', 'web_url', 'http_url', 'git_ssh_url']), ...strings(payload.repository, ['git_http_url', 'homepage', 'git_ssh_url'])],
      names: strings(payload.project, ['path_with_namespace']),
    };
  }
  return { urls: strings(payload.repository, ['clone_url', 'html_url', 'ssh_url']), names: strings(payload.repository, ['full_name']) };
}

const ZERO_SHA = /^0{40}$/;

export interface Watch {
  /** The branch the loop deploys, as a full ref (`refs/heads/main`). */
  ref: string;
  /** repo.url, or [serve] repository. */
  repository: string;
}

export function judge(envelope: Envelope, payload: unknown, watch: Watch): Verdict {
  if (!isObject(payload)) return { status: 400, action: 'refused', reason: 'the payload is not a JSON object' };
  const claim = claimOf(envelope, payload);
  const named = claim.urls.length + claim.names.length > 0;
  if (named && !sameRepository(watch.repository, claim)) {
    const said = claimedName(watch.repository, claim);
    return { status: 403, action: 'refused', reason: `the delivery is for ${JSON.stringify(said)}, not ${JSON.stringify(watch.repository)}` };
  }
  const event = envelope.forge === 'gitlab' ? gitlabEvent(envelope.event) : envelope.event;
  if (event === 'ping') {
    const events = isObject(payload.hook) && Array.isArray(payload.hook.events) ? payload.hook.events : [];
    return { status: 200, action: 'pong', subscribesPush: events.includes('push') || events.includes('*') };
  }
  if (event !== 'push' && event !== 'tag_push') return { status: 202, action: 'ignored', reason: `event ${JSON.stringify(envelope.event)} is not a push` };
  if (!named) return { status: 400, action: 'refused', reason: 'the push names no repository' };
  const ref = payload.ref;
  if (typeof ref !== 'string' || ref === '') return { status: 400, action: 'refused', reason: 'the push names no ref' };
  if (event === 'tag_push' || ref.startsWith('refs/tags/')) return { status: 202, action: 'ignored', reason: `${ref} is a tag; mfd serve deploys ${watch.ref}` };
  const deleted = payload.deleted === true || (typeof payload.after === 'string' && ZERO_SHA.test(payload.after));
  if (deleted) return { status: 202, action: 'ignored', reason: `${ref} was deleted` };
  if (ref !== watch.ref) return { status: 202, action: 'ignored', reason: `${ref} is not the watched branch ${watch.ref}` };
  return { status: 202, action: 'deploy', ref };
}

/** GitLab's X-Gitlab-Event names ("Push Hook", "Tag Push Hook") as the others name events. */
function gitlabEvent(event: string): string {
  if (event === 'Push Hook') return 'push';
  if (event === 'Tag Push Hook') return 'tag_push';
  return event;
}
