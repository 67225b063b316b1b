// Compacts the cache GITDIR as a fetch past MAX_PACKS packs would (bench/bigpack.ts times it with
// its peak RSS; with --nothing it only starts, for the start-up's share). Usage: node --import tsx bench/compact-probe.ts GITDIR | --nothing
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compactCache } from '../src/git/compact.ts';

const [gitdir] = process.argv.slice(2);
if (!gitdir) throw new Error('usage: bench/compact-probe.ts GITDIR | --nothing');
if (gitdir === '--nothing') process.exit(0);
await compactCache(gitdir);
const packs = (await readdir(join(gitdir, 'objects', 'pack'))).filter((n) => n.endsWith('.pack'));
if (packs.length !== 1) throw new Error(`compaction left ${packs.length} packs`);
