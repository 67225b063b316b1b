// The one door to git/ for run/ and commands/, which import it lazily (`await import`): everything
// behind it loads isomorphic-git, and `mfd ls` must not (scripts/build.mjs, test/e2e/bundle.test.ts).
// Credentials travel only through onAuth: never in a URL, a file, or a message (transport.ts).
export { checkoutCommit } from './checkout-commit.ts';
export { MAX_PACKS } from './compact.ts';
export { fetchCommit } from './fetch.ts';
export { hasCommit, newCache, type Cache, type CacheLock } from './iso.ts';
export { resolveRef, type ResolvedRef } from './resolve.ts';
export { redactUrl, type Connection, type RepoAuth, type RepoRemote } from './transport.ts';
