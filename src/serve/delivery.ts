// A delivery's envelope, from its headers alone: which forge sent it, the event, its id, and
// whether it proves the secret (GitHub / Gitea / Forgejo sign the raw body, GitLab sends a token).
// Authentication happens here, on the raw bytes, before the body is parsed.
import type { IncomingHttpHeaders } from 'node:http';
import type { Secret } from '../config/secret.ts';
import { verifyHubSignature, verifyToken } from './signature.ts';

export type Forge = 'github' | 'gitea' | 'forgejo' | 'gitlab';

export interface Envelope {
  forge: Forge;
  /** The event header as sent: `push`, `ping`, GitLab's `Push Hook`, ... */
  event: string;
  /** The forge's delivery id, when it sends one (replays are recognised by it). */
  id: string | undefined;
}

export type Authenticated = { ok: true; envelope: Envelope } | { ok: false; envelope: Envelope; why: 'missing' | 'bad' };

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** A header as a log line may show it: anyone can send one, so printable characters only, bounded. */
const printable = (value: string | undefined): string | undefined => value?.replace(/[^\x21-\x7e ]/g, '?').slice(0, 100);

/** Which forge, by the headers only that forge sends (Gitea and Forgejo also send GitHub's). */
export function envelopeOf(headers: IncomingHttpHeaders): Envelope {
  const h = (name: string) => printable(header(headers, name));
  if (h('x-gitlab-event') !== undefined || h('x-gitlab-token') !== undefined) {
    // Idempotency-Key (GitLab 17.4+) is one per delivery and kept by its retries and resends;
    // before it, X-Gitlab-Webhook-UUID (16.2+) is new on every request. X-Gitlab-Event-UUID is
    // shared by every hook a webhook-triggered request sets off, so it would take one delivery
    // for a replay of another: never an id (docs.gitlab.com, webhooks, "Delivery headers").
    return { forge: 'gitlab', event: h('x-gitlab-event') ?? '', id: h('idempotency-key') ?? h('x-gitlab-webhook-uuid') };
  }
  if (h('x-forgejo-event') !== undefined || h('x-forgejo-delivery') !== undefined) {
    return { forge: 'forgejo', event: h('x-forgejo-event') ?? h('x-gitea-event') ?? '', id: h('x-forgejo-delivery') ?? h('x-gitea-delivery') };
  }
  if (h('x-gitea-event') !== undefined || h('x-gitea-delivery') !== undefined) {
    return { forge: 'gitea', event: h('x-gitea-event') ?? '', id: h('x-gitea-delivery') };
  }
  return { forge: 'github', event: h('x-github-event') ?? '', id: h('x-github-delivery') };
}

/** The envelope, and whether the delivery proves the secret. */
export function authenticate(headers: IncomingHttpHeaders, body: Buffer, secret: Secret): Authenticated {
  const envelope = envelopeOf(headers);
  const h = (name: string) => header(headers, name);
  let proof: string | undefined;
  let valid: boolean;
  if (envelope.forge === 'gitlab') {
    proof = h('x-gitlab-token');
    valid = verifyToken(proof, secret);
  } else {
    // X-Hub-Signature-256 first (GitHub's, which Gitea and Forgejo send too); older Gitea and
    // Forgejo send only their own header, the same HMAC as bare hex.
    proof = h('x-hub-signature-256') ?? h('x-forgejo-signature') ?? h('x-gitea-signature');
    valid = verifyHubSignature(proof, body, secret);
  }
  if (proof === undefined || proof === '') return { ok: false, envelope, why: 'missing' };
  return valid ? { ok: true, envelope } : { ok: false, envelope, why: 'bad' };
}
