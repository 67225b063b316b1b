// The README is the user's only manual: every command, alias and flag mfd takes, and every key
// mfd.toml accepts, has a row there. Read from the declarations themselves, so a new one cannot
// ship undocumented. (test/errors/codes.test.ts does the same for error codes and exit codes.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from '../../src/commands/command.ts';
import { allowedKeys } from '../../src/config/config.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The first column of the first table after the line `marker`: every `backticked` word in it. */
async function firstColumnAfter(marker: string): Promise<Set<string>> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const lines = readme.split('\n');
  const start = lines.indexOf(marker);
  assert.notEqual(start, -1, `README has the line "${marker}"`);
  const first = lines.findIndex((l, i) => i > start && l.startsWith('|'));
  const words = new Set<string>();
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    for (const [, word] of line.split(' | ')[0]!.matchAll(/`([^`]+)`/g)) words.add(word!);
  }
  return words;
}

async function commands(): Promise<Command[]> {
  // The modules as this test runs: src/ under tsx, their .js twins in the test build.
  const ext = import.meta.filename.endsWith('.ts') ? '.ts' : '.js';
  const dir = join(dirname(import.meta.filename), '..', '..', 'src', 'commands');
  const found: Command[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(ext)).sort()) {
    for (const value of Object.values((await import(join(dir, file))) as Record<string, unknown>)) {
      if (value && typeof value === 'object' && typeof (value as Command).run === 'function') found.push(value as Command);
    }
  }
  return found;
}

describe('README', () => {
  test('the command table has every command and alias, and the option tables every flag', async () => {
    const table = await firstColumnAfter('## Commands');
    const own = await firstColumnAfter('Options of one command (given to another command, each is a usage error, exit 2, showing that');
    const all = await commands();
    assert.ok(all.length >= 13, all.map((c) => c.name).join(' '));
    const missing: string[] = [];
    for (const command of all) {
      for (const name of [command.name, ...(command.aliases ?? [])]) {
        if (![...table].some((w) => w === `mfd ${name}` || w.startsWith(`mfd ${name} `))) missing.push(`mfd ${name}`);
      }
      for (const flag of Object.keys(command.flags)) {
        if (![...own].some((w) => w === `${command.name} --${flag}` || w.startsWith(`${command.name} --${flag} `))) missing.push(`${command.name} --${flag}`);
      }
    }
    // The flags every command takes: cli.ts's COMMON (not exported: importing cli.ts runs mfd).
    const cli = await readFile(join(ROOT, 'src', 'cli.ts'), 'utf8');
    const common = cli.slice(cli.indexOf('const COMMON = {'), cli.indexOf('} as const;', cli.indexOf('const COMMON = {')));
    const flags = [...common.matchAll(/^ {2}(\w+): \{ type: '\w+'(?:, short: '(\w)')?/gm)].map(([, name, short]) => ({ name: name!, short }));
    assert.ok(flags.length >= 7, common);
    const shared = await firstColumnAfter('Options for every command:');
    for (const { name, short } of flags) {
      for (const spelling of short === name ? [`-${short}`] : [`--${name}`, ...(short ? [`-${short}`] : [])]) {
        if (![...shared].some((w) => w === spelling || w.startsWith(`${spelling} `))) missing.push(spelling);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('the configuration table has every key mfd.toml accepts', async () => {
    const table = await firstColumnAfter('## Configuration: `mfd.toml`');
    const missing: string[] = [];
    for (const [path, keys] of Object.entries(allowedKeys())) {
      if (path === '') continue;
      // [[build.cache]]'s tables are `build.cache[]`: their keys are written build.cache.<key>.
      for (const key of keys) if (!table.has(`${path.replace(/\[\]$/, '')}.${key}`)) missing.push(`${path}.${key}`);
    }
    assert.deepEqual(missing, []);
  });
});
