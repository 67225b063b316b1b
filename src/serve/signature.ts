// Who sent a delivery: the HMAC-SHA256 of the raw body GitHub, Gitea and Forgejo sign with the hook's
// secret, and the token GitLab sends as it is. Every comparison takes the same time for every
// wrong value of the same length, and a value of another length is a plain mismatch, never a throw.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../config/secret.ts';

/** `sha256=` + the hex HMAC-SHA256 of `body`: the value of X-Hub-Signature-256. */
export function signBody(secret: Secret | string, body: Buffer | string): string {
  const key = typeof secret === 'string' ? secret : secret.reveal();
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
}

/** Constant-time equality of two byte strings; unequal lengths are unequal, at once. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether `header` (X-Hub-Signature-256: `sha256=<hex>`, or Gitea's and Forgejo's own header: the
 * bare hex) is the signature of `body` under `secret`. Checked on the raw bytes, before any parsing.
 */
export function verifyHubSignature(header: string | undefined, body: Buffer, secret: Secret): boolean {
  if (header === undefined) return false;
  const hex = header.startsWith('sha256=') ? header.slice('sha256='.length) : header;
  // Exactly 64 hex digits: Buffer.from(hex, 'hex') stops at the first non-hex digit and drops an
  // odd last one, so a valid signature with anything appended would still compare equal.
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const expected = createHmac('sha256', secret.reveal()).update(body).digest();
  return sameBytes(Buffer.from(hex, 'hex'), expected);
}

/**
 * Whether GitLab's X-Gitlab-Token is the secret. Both sides are hashed first, so the comparison is
 * of equal lengths and its time says nothing about the secret's length either.
 */
export function verifyToken(header: string | undefined, secret: Secret): boolean {
  if (header === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return sameBytes(digest(header), digest(secret.reveal()));
}
