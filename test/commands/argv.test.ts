// mfd's command-line parser against Node's util.parseArgs as the oracle: every valid command
// line of the forms mfd's usage shows parses the same, and what parseArgs refuses, mfd refuses
// with a UsageError naming the option.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { parseArgv, type FlagType } from '../../src/commands/argv.ts';
import { UsageError } from '../../src/errors/index.ts';

const FLAGS: Record<string, FlagType> = {
  C: { type: 'string', short: 'C' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  wait: { type: 'boolean' },
  reason: { type: 'string' },
};

function oracle(argv: string[], strict: boolean) {
  const r = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict, tokens: true });
  return {
    values: { ...r.values },
    positionals: r.positionals,
    options: r.tokens.flatMap((t) => (t.kind === 'option' ? [{ name: t.name, raw: t.rawName }] : [])),
  };
}

const plain = (r: ReturnType<typeof parseArgv>) => ({ values: { ...r.values }, positionals: r.positionals, options: r.options });

const VALID: string[][] = [
  [],
  ['ls'],
  ['deploy', 'main', '--wait'],
  ['--json', 'status'],
  ['-C', '/srv/app', 'ls'],
  ['-C/srv/app', 'ls'],
  ['-hC', '/srv/app'],
  ['--config', 'x.toml', 'deploy'],
  ['--config=x.toml', 'deploy'],
  ['--config=-odd.toml', 'deploy'],
  ['--config=', 'deploy'],
  ['pause', '--reason', 'db migration', '--json'],
  ['pause', '--reason=--not-a-flag'],
  ['-C', '-', 'ls'],
  ['deploy', '--', '--wait', '-h'],
  ['deploy', '-'],
  ['--wait', '--wait', '-C', 'a', '-C', 'b'],
  ['-h', '-h'],
];

describe('parseArgv', () => {
  test('every valid command line parses as util.parseArgs parses it, strict and loose', () => {
    for (const argv of VALID) {
      assert.deepEqual(plain(parseArgv(argv, FLAGS, { strict: true })), oracle(argv, true), `strict: ${JSON.stringify(argv)}`);
      assert.deepEqual(plain(parseArgv(argv, FLAGS, { strict: false })), oracle(argv, false), `loose: ${JSON.stringify(argv)}`);
    }
  });

  test('loose, an unknown option is a boolean that takes no value, and is listed by its name as written', () => {
    for (const argv of [['ls', '--frob'], ['--frob', 'ls'], ['ls', '--frob=1'], ['-x', 'ls'], ['ls', '-xh']]) {
      assert.deepEqual(plain(parseArgv(argv, FLAGS, { strict: false })), oracle(argv, false), JSON.stringify(argv));
    }
  });

  test('loose, a value given to a boolean and a string option without its value are kept as parseArgs keeps them', () => {
    // cli.ts reads --json from the loose pass: `mfd ls --json=1` must still answer its usage error as JSON.
    for (const argv of [['ls', '--json=1'], ['--json=', 'ls'], ['--help=x'], ['ls', '--config'], ['ls', '-C'], ['ls', '-hC']]) {
      assert.deepEqual(plain(parseArgv(argv, FLAGS, { strict: false })), oracle(argv, false), JSON.stringify(argv));
    }
  });

  test('what parseArgs refuses, mfd refuses with one line naming the option and the usage as hint', () => {
    const cases: [string[], RegExp][] = [
      [['ls', '--frob'], /^unknown option --frob: to give an argument starting with "-", put it after --$/],
      [['ls', '-x'], /^unknown option -x/],
      [['ls', '-hx'], /^unknown option -x/],
      [['ls', '--json=yes'], /^option --json takes no value$/],
      [['ls', '--config'], /^option --config needs a value$/],
      [['ls', '-C'], /^option -C needs a value$/],
      [['ls', '--config', '--json'], /^option --config needs a value, got the option --json: to give a value starting with "-", use --config=--json$/],
      [['ls', '-C', '-h'], /^option -C needs a value, got the option -h/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(() => parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true }), `the oracle refuses ${JSON.stringify(argv)} too`);
      assert.throws(() => parseArgv(argv, FLAGS, { strict: true, usage: 'mfd ls' }), (error: unknown) => {
        assert.ok(error instanceof UsageError, JSON.stringify(argv));
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\n/);
        assert.equal(error.hint, 'usage: mfd ls');
        return true;
      });
    }
  });

  test('an option named like a property of every object is an option like any other', () => {
    const loose = parseArgv(['ls', '--__proto__', '--constructor=x', '--toString'], FLAGS, { strict: false });
    assert.equal(Object.getPrototypeOf(loose.values), null);
    assert.deepEqual(Object.keys(loose.values), ['__proto__', 'constructor', 'toString']);
    assert.deepEqual(loose.options.map((o) => o.name), ['__proto__', 'constructor', 'toString']);
    assert.throws(() => parseArgv(['ls', '--constructor'], FLAGS, { strict: true }), /unknown option --constructor/);
    assert.throws(() => parseArgv(['ls', '--__proto__'], FLAGS, { strict: true }), /unknown option --__proto__/);
  });
});
