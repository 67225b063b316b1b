// Whether a payload is about the repository mfd deploys: its clone/web URLs (or, with none, its full
// name) against repo.url (or [serve] repository), compared as host + path, case-folded, without the
// scheme, credentials, a trailing ".git" or "/". A webhook for another repository is refused (403).

/** `host/owner/name` of a URL (any scheme, scp-like `git@host:owner/name` too); undefined if none. */
export function normaliseUrl(url: string): string | undefined {
  const scp = /^[^\s/@:]+@([^\s/:]+):(.+)$/.exec(url);
  let host: string;
  let path: string;
  if (scp) {
    [host, path] = [scp[1]!, scp[2]!];
  } else {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      // Not a URL at all: the caller compares it as a full name instead.
      return undefined;
    }
    if (!parsed.host) return undefined;
    [host, path] = [parsed.host, parsed.pathname];
  }
  const clean = path.replace(/\/+$/, '').replace(/\.git$/i, '').replace(/^\/+/, '');
  return `${host}/${clean}`.toLowerCase();
}

/** `owner/name` (or GitLab's `group/sub/name`) folded for comparison: the forges' names are case-insensitive. */
function normaliseName(name: string): string {
  return name.replace(/^\/+|\/+$/g, '').replace(/\.git$/i, '').toLowerCase();
}

/** An owner and a name at least: a bare `app` is a name any owner on any forge may have. */
const isFullName = (name: string) => /^[^/]+(\/[^/]+)+$/.test(name);

/** `path` is `name`, or ends in it on a segment boundary (a forge under a path prefix). */
const endsWithName = (path: string, name: string) => path === name || path.endsWith(`/${name}`);

/** What a refusal says the payload named: a URL when the expected repository is one (that decided). */
export function claimedName(expected: string, claim: RepositoryClaim): string | undefined {
  return normaliseUrl(expected) === undefined ? (claim.names[0] ?? claim.urls[0]) : (claim.urls[0] ?? claim.names[0]);
}

export interface RepositoryClaim {
  urls: string[];
  names: string[];
}

/**
 * True when the payload names `expected` (a URL, or an `owner/name`). A URL must be one of the
 * payload's URLs (host and path); only a payload with no URL at all is matched by its full name,
 * against the end of the expected URL's path. A full name matches the payload's full name exactly,
 * else (a payload without one) the end of its URLs' paths, on whole segments.
 */
export function sameRepository(expected: string, claim: RepositoryClaim): boolean {
  const url = normaliseUrl(expected);
  const urls = claim.urls.map(normaliseUrl).filter((u): u is string => u !== undefined);
  const names = claim.names.map(normaliseName).filter(isFullName);
  if (url === undefined) {
    const name = normaliseName(expected);
    // config/serve.ts refuses a bare name; one here (from elsewhere) matches nothing.
    if (!isFullName(name)) return false;
    // The full name is the forge's own word for the repository: `group/app` is not `evil/group/app`.
    if (names.length > 0) return names.includes(name);
    return urls.some((u) => endsWithName(u, name));
  }
  // The same owner/name on another host is another repository (one secret shared by two forges):
  // GitHub, Gitea, Forgejo and GitLab all send URLs with a push, so they decide. A URL that does
  // not parse counts as one: the payload claims something, and it is not this.
  if (claim.urls.length > 0) return urls.includes(url);
  const path = url.slice(url.indexOf('/') + 1);
  return names.some((n) => endsWithName(path, n));
}
