// Builds the bench fixtures and serves them on 127.0.0.1 until killed, printing each one's URL and
// commits: for timing single commands from outside (interleaved A/B runs of two builds of mfd, or
// mfd against native git) on exactly the repositories `npm run bench` uses.
// Usage: node --import tsx bench/serve.ts DIR [small,large,express]   (DIR: where the repos go)
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGitServer } from '../test/helpers/git-server.ts';
import { buildFixture, EXPRESS, LARGE, SMALL } from './fixture.ts';

const [dir, names = 'express'] = process.argv.slice(2);
if (!dir) throw new Error('usage: bench/serve.ts DIR [small,large,express]');
const server = await startGitServer({ root: dir });
for (const spec of [SMALL, LARGE, EXPRESS].filter((s) => names.split(',').includes(s.name.replace(/\.git$/, '')))) {
  const { shas } = await buildFixture(dir, spec);
  const info = { url: server.url(spec.name), base: shas.at(-11), ahead: shas.at(-1) };
  await writeFile(join(dir, `${spec.name}.json`), `${JSON.stringify(info)}\n`);
  console.log(JSON.stringify({ fixture: spec.name, ...info }));
}
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
