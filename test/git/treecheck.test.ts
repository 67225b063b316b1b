import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { isDotGit, parseTree, type TreeRule } from '../../src/git/treecheck.ts';
import { tmpRoot, runGit } from '../helpers/repo.ts';
import { rawTree, type RawEntry } from '../helpers/tree.ts';

const B = 'b'.repeat(40);
const T = 'c'.repeat(40);

/** Trees git's fsck refuses, each with the rule mfd names and what `git fsck` itself says. */
const REFUSED: { what: string; content: Buffer; rule: TreeRule; name: string; fsck: string }[] = [
  { what: 'a symlink and a file of one name', content: rawTree([['120000', 'a', B], ['100644', 'a', B]]), rule: 'duplicateEntries', name: 'a', fsck: 'duplicateEntries' },
  { what: 'a file and a directory of one name', content: rawTree([['100644', 'a', B], ['100644', 'a-b', B], ['40000', 'a', T]]), rule: 'duplicateEntries', name: 'a', fsck: 'duplicateEntries' },
  { what: '"."', content: rawTree([['40000', '.', T]]), rule: 'hasDot', name: '.', fsck: 'hasDot' },
  { what: '".."', content: rawTree([['40000', '..', T]]), rule: 'hasDotdot', name: '..', fsck: 'hasDotdot' },
  ...['.git', '.GIT', '.Git', 'git~1', 'GIT~1', '.git.', '.git ', '.git::$INDEX_ALLOCATION', '.g\u200cit', '\ufeff.git'].map((name) => ({
    what: JSON.stringify(name), content: rawTree([['40000', name, T]]), rule: 'hasDotgit' as const, name, fsck: 'hasDotgit',
  })),
  { what: 'a "/" in a name', content: rawTree([['100644', 'a/b', B]]), rule: 'fullPathname', name: 'a/b', fsck: 'fullPathname' },
  { what: 'an empty name', content: rawTree([['100644', '', B]]), rule: 'emptyName', name: '', fsck: 'badTree' },
  { what: 'a NUL in a name (the entry is cut short)', content: rawTree([['100644', 'a\0b', B]]), rule: 'badTree', name: '', fsck: 'badTree' },
  { what: 'a truncated object id', content: rawTree([['100644', 'a', B]]).subarray(0, 20), rule: 'badTree', name: '', fsck: 'badTree' },
  ...['100600x', '170000', '000000', '644', '120777', '1006444'].map((mode) => ({
    what: `mode ${mode}`, content: rawTree([[mode, 'a', B]]), rule: 'badFilemode' as const, name: 'a', fsck: /x/.test(mode) ? 'badTree' : 'badFilemode',
  })),
  { what: 'the null object id', content: rawTree([['100644', 'a', '0'.repeat(40)]]), rule: 'nullSha1', name: 'a', fsck: 'nullSha1' },
  { what: 'entries out of order', content: rawTree([['100644', 'b', B], ['100644', 'a', B]]), rule: 'treeNotSorted', name: 'a', fsck: 'treeNotSorted' },
];

describe('treecheck', () => {
  for (const c of REFUSED) {
    test(`refuses ${c.what} as ${c.rule}`, () => {
      const parsed = parseTree(c.content);
      assert.equal(parsed.ok, false);
      if (parsed.ok) return;
      assert.equal(parsed.problem.rule, c.rule);
      assert.equal(parsed.problem.name, c.name);
      assert.ok(parsed.problem.detail.length > 0);
    });
  }

  test('accepts what git checks out: modes, a directory sorting after a file, odd but legal names', () => {
    const entries: RawEntry[] = [
      ['100644', ' leading space', B],
      ['40000', '.github', T],
      ['100644', '.gitignore', B],
      ['100644', '.gitx', B],
      ['100700', 'a', B],
      ['100644', 'a-b', B],
      ['040000', 'a.d', T],
      ['40000', 'a0', T],
      ['100664', 'gitfoo', B],
      ['120000', 'git~2', B],
      ['160000', 'sub', B],
      ['100755', 'x\\y', B],
      ['100644', Buffer.from([0xff, 0xfe]), B],
    ];
    const parsed = parseTree(rawTree(entries));
    assert.ok(parsed.ok, parsed.ok ? '' : JSON.stringify(parsed.problem));
    assert.deepEqual(parsed.entries.map((e) => e.kind), ['file', 'tree', 'file', 'file', 'exec', 'file', 'tree', 'tree', 'file', 'symlink', 'submodule', 'exec', 'file']);
    assert.deepEqual(parsed.entries[12]!.name, Buffer.from([0xff, 0xfe]), 'names stay raw bytes');
    assert.deepEqual(parseTree(Buffer.alloc(0)), { ok: true, entries: [] });
  });

  test('isDotGit follows git: .git in any case, NTFS and HFS+ forms, nothing else', () => {
    for (const yes of ['.git', '.GiT', 'git~1', '.git...', '.git. .', '.git:stream', '.git\\x', '.\u200dgit', '.git\u206f']) assert.ok(isDotGit(Buffer.from(yes)), yes);
    for (const no of ['.gitignore', 'git', '.git~1', 'git~2', '.gi', 'x.git', '.git-x', '.gít']) assert.equal(isDotGit(Buffer.from(no)), false, no);
  });

  test('git fsck refuses every tree treecheck refuses, for the same reason', async (t) => {
    const repo = await tmpRoot(t);
    await runGit(['init', '--quiet', '--bare'], { cwd: repo });
    const oids = [];
    for (const c of REFUSED) oids.push(await runGit(['hash-object', '-w', '--literally', '-t', 'tree', '--stdin'], { cwd: repo, input: c.content }));
    // Its messages go to stderr, whatever the exit status (the objects B and T are missing too).
    const report = spawnSync('git', ['fsck', '--no-dangling'], { cwd: repo, encoding: 'utf8', env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } }).stderr;
    for (const [i, c] of REFUSED.entries()) assert.match(report, new RegExp(`tree ${oids[i]}: ${c.fsck}`), `${c.what}: ${report}`);
  });
});
