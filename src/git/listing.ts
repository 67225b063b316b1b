// What a ref listing asks the server: the refs a name can resolve to by git's rules, and the
// protocol v2 ls-refs request isomorphic-git sends for them, so a listing can be sent ahead of
// isomorphic-git (head-start.ts) and its request answered from it when it asks the same.
import { DELIM, FLUSH, pktLine, pktLines } from './pkt-line.ts';

/** git's (and go-git's) order for turning a name into a ref. */
export const REV_RULES = ['%s', 'refs/%s', 'refs/tags/%s', 'refs/heads/%s', 'refs/remotes/%s', 'refs/remotes/%s/HEAD'];
export const SHORT_SHA = /^[0-9a-f]{4,39}$/i;

/** iso-git's own one prefix (HEAD, a full ref name), and the ref-prefix lines mfd adds (discovery.ts withRefPrefixes). */
export interface Listing {
  prefix?: string;
  prefixes: string[];
}

/** What listing `name` asks: HEAD or a full ref name itself, a bare name each of git's rules, a short sha every ref. */
export function listingOf(name: string): Listing {
  if (name === 'HEAD' || name.startsWith('refs/')) return { prefix: name, prefixes: [] };
  if (SHORT_SHA.test(name)) return { prefixes: [] };
  return { prefixes: REV_RULES.map((rule) => rule.replace('%s', name)) };
}

/**
 * The ls-refs request of `listing` as isomorphic-git writes it (symrefs, peeled tags; its one
 * prefix without a newline) with withRefPrefixes' lines after it, except for the agent line, which
 * names mfd: sameAsk ignores agent lines.
 */
export function lsRefsBody(listing: Listing): Buffer {
  return Buffer.concat([
    pktLine('command=ls-refs\n'), pktLine('agent=mfd\n'), DELIM, pktLine('peel'), pktLine('symrefs'),
    ...(listing.prefix ? [pktLine(`ref-prefix ${listing.prefix}`)] : []),
    ...listing.prefixes.map((p) => pktLine(`ref-prefix ${p}\n`)),
    FLUSH,
  ]);
}

/** `body` without its agent capability lines: two requests that differ only in who sends them ask the same. */
export function withoutAgent(body: Buffer): Buffer {
  const lines = pktLines(body);
  if (!lines) return body;
  return Buffer.concat(lines.filter((l) => !l.data.toString('latin1').startsWith('agent=')).map((l) => body.subarray(l.start, l.end)));
}
