import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { tmpRoot } from '../helpers/repo.ts';
import type { Command } from '../../src/commands/command.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

async function sourceFiles(dir = join(ROOT, 'src')): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name)).sort();
}

/** Where `source` ends the process or decides its exit status (comments left out). */
function exitsIn(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return [...code.matchAll(/\bprocess\s*\.\s*(exit\s*\(|exitCode\s*(?:=(?!=)|\?\?=|\|\|=))/g)].map((m) => m[0]);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

describe('architecture', () => {
  test('nothing but src/cli.ts exits or sets the exit code', async () => {
    assert.deepEqual(exitsIn('x(); process.exit(2); process.exitCode = 1; if (process.exitCode === 1) {} // process.exit(3)'), [
      'process.exit(',
      'process.exitCode =',
    ]);
    const offenders: string[] = [];
    for (const file of await sourceFiles()) {
      const path = relative(ROOT, file);
      if (path === 'src/cli.ts') continue;
      for (const hit of exitsIn(await readFile(file, 'utf8'))) offenders.push(`${path}: ${hit}`);
    }
    assert.deepEqual(offenders, []);
  });

  test('no source file is over 300 lines, and the median is well under 150', async () => {
    const lines = new Map<string, number>();
    for (const file of await sourceFiles()) lines.set(relative(ROOT, file), (await readFile(file, 'utf8')).split('\n').length - 1);
    assert.deepEqual([...lines].filter(([, n]) => n > 300), []);
    const m = median([...lines.values()]);
    assert.ok(m < 150, `median ${m} lines`);
  });

  test('every name a command of FULL_COMMANDS answers to makes the loader run mfd-main.js, and only those', async () => {
    // scripts/build.mjs leaves their code out of mfd-lite.js; a name missing from the list (a new
    // alias, say) would run that command in mfd-lite.js, which fails for want of its code.
    const { FULL_COMMANDS } = (await import(join(ROOT, 'scripts', 'loader.mjs'))) as { FULL_COMMANDS: string[] };
    const names: string[] = [];
    // The modules as this test runs: src/ under tsx, their .js twins in the test build.
    const ext = import.meta.filename.endsWith('.ts') ? '.ts' : '.js';
    const dir = join(dirname(import.meta.filename), '..', '..', 'src', 'commands');
    for (const file of (await readdir(dir)).filter((f) => f.endsWith(ext)).sort()) {
      const module = (await import(join(dir, file))) as Record<string, unknown>;
      for (const value of Object.values(module)) {
        if (!value || typeof value !== 'object' || typeof (value as Command).run !== 'function') continue;
        const command = value as Command;
        const full = FULL_COMMANDS.includes(command.name);
        if (full) assert.equal(file, `${command.name}${ext}`, `${command.name} is declared in src/commands/${command.name}.ts, which the build knows by its name`);
        names.push(command.name);
        for (const alias of command.aliases ?? []) {
          assert.equal(FULL_COMMANDS.includes(alias), full, `${command.name}'s alias ${alias} routes as ${command.name} does`);
          names.push(alias);
        }
      }
    }
    for (const name of FULL_COMMANDS) assert.ok(names.includes(name), `FULL_COMMANDS names ${name}, a command src/commands/ declares`);
    assert.ok(names.length > FULL_COMMANDS.length && names.includes('ls'), names.join(' '));
  });

  test('no regular expression with a Unicode property class is made at module level', async () => {
    // V8 builds the sets of \p{...} when such a literal is evaluated (2.5 M instructions for one,
    // 1.7% of `mfd ls`): made at module level, every command pays it at start-up. Make it inside
    // the function that uses it.
    const atTop = /^(?:export\s+)?(?:const|let|var)\s+\w+\s*=\s*\/.*\\[pP]\{/m;
    assert.ok(atTop.test('const X = /[\\p{Cc}]/u;') && !atTop.test('  const x = (t: string) => /[\\p{Cc}]/u.test(t);'));
    const offenders: string[] = [];
    for (const file of await sourceFiles()) {
      if (atTop.test(await readFile(file, 'utf8'))) offenders.push(relative(ROOT, file));
    }
    assert.deepEqual(offenders, []);
  });

  test('the dependency rules refuse an upward import, a sideways one, a cycle, an orphan and src importing test', async (t) => {
    // A copy of src/ with one of each planted, checked with the project's own rules.
    const root = await tmpRoot(t);
    await cp(join(ROOT, 'src'), join(root, 'src'), { recursive: true });
    await Promise.all(['.dependency-cruiser.cjs', 'tsconfig.json', 'test/helpers/repo.ts'].map((f) => cp(join(ROOT, f), join(root, f), { recursive: true })));
    await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    const plant = async (file: string, line: string) => {
      const path = join(root, file);
      await writeFile(path, `${line}\n${await readFile(path, 'utf8')}`);
    };
    // Type-only, so the layer rule alone catches it, with no cycle through run/.
    await plant('src/state/deployment.ts', "import type { deploy } from '../run/deploy.ts';");
    await plant('src/git/revision.ts', "import '../lock/file.ts';");
    await plant('src/sys/fdwrite.ts', "import '../sys/termination.ts';");
    await plant('src/sys/termination.ts', "import './fdwrite.ts';");
    await writeFile(join(root, 'src', 'steps', 'lonely.ts'), 'export const lonely = 1;\n');
    await plant('src/errors/redact.ts', "import '../../test/helpers/repo.ts';");

    const result = await promisify(execFile)(process.execPath, [DEPCRUISE, 'src', '--config', '.dependency-cruiser.cjs'], { cwd: root }).then(
      () => assert.fail('depcruise passed a tree with planted violations'),
      (error: { code?: number; stdout: string }) => error,
    );
    // Its exit status is the number of errors; each starts a line "error <rule>: <from> → <to>".
    const found = new Set([...result.stdout.matchAll(/^\s*error ([\w-]+): (\S+)(?: → (\S+))?/gm)].map((m) => m.slice(1).filter(Boolean).join(' ')));
    assert.equal(result.code, found.size, result.stdout);
    assert.deepEqual([...found].sort(), [
      'layer-git src/git/revision.ts src/lock/file.ts',
      'layer-state src/state/deployment.ts src/run/deploy.ts',
      'no-circular src/sys/fdwrite.ts',
      'no-orphans src/steps/lonely.ts',
      'src-not-to-test src/errors/redact.ts test/helpers/repo.ts',
    ], result.stdout);
  });
});
