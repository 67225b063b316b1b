// Masks whatever looks like a credential in a URL, however malformed or encoded the URL is, so
// no message, history line or log can carry one. Used on every URL and every error text.

const MASK = '***';
// scheme, then up to three slashes (`http:/u:p@h` is still a URL to WHATWG parsers), then userinfo.
// `:`, `/` and `@` may be percent-encoded, as in a URL nested inside a query string.
// Userinfo runs to its last `@` (a password may hold `%40`), never past a `/`.
const SCHEME_USERINFO = /([a-z][a-z0-9+.-]*(?::|%3a)(?:\/|%2f){0,3})([^\s/?#@"'<>]+)(@|%40)/gi;
// `user:password@host` with no scheme (first: the rule below would take `user:` for a scheme).
const BARE_USERINFO = /(^|[\s"'(<,=[])([^\s"'<>/?#@:]+(?::|%3a)[^\s"'<>/?#@]*)@/gi;
// The scp form `user@host:path`: the user may be a token (`ghp_…@github.com:me/app`).
// Only at the start of the text (or of a quoted value): elsewhere `alice@web1: ...` is a lock holder.
const SCP_USER = /^(["']?)[^\s@/:"']+@(?=[^\s@/:]+:)/;
// Query or fragment parameters that carry secrets (GitLab's private_token, OAuth, signed URLs).
const SECRET_PARAM = /([?&#;](?:access_token|private_token|oauth_token|token|api_key|apikey|key|password|passwd|pass|pwd|secret|client_secret|auth|sig|signature|x-amz-signature|x-amz-credential|x-goog-signature)=)[^&#\s"'<>]*/gi;

/** `text` with every credential-shaped part of any URL in it replaced by `***`. Idempotent. */
export function redact(text: string): string {
  // Each rule needs an `@` (or `%40`) or an `=`: text with none of them, most text, skips the four
  // regular expressions, which V8 compiles at their first use (1% of the instructions of `mfd ls`).
  if (!text.includes('@') && !text.includes('%40') && !text.includes('=')) return text;
  return text
    .replace(BARE_USERINFO, `$1${MASK}@`)
    .replace(SCHEME_USERINFO, (_m, scheme: string, _userinfo: string, at: string) => `${scheme}${MASK}${at}`)
    .replace(SCP_USER, `$1${MASK}@`)
    .replace(SECRET_PARAM, `$1${MASK}`);
}
