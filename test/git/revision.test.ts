import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fullSha, generationsOf, parseRevision } from '../../src/git/revision.ts';

describe('revision', () => {
  test('a full sha names itself, lowercased; anything shorter or longer needs the remote', () => {
    assert.equal(fullSha('ABCDEF0123456789abcdef0123456789ABCDEF01'), 'abcdef0123456789abcdef0123456789abcdef01');
    assert.equal(fullSha('abcdef0123456789abcdef0123456789abcdef0'), undefined);
    assert.equal(fullSha('abcdef0123456789abcdef0123456789abcdef012'), undefined);
    assert.equal(fullSha('main'), undefined);
    assert.equal(fullSha('abcdef0123456789abcdef0123456789abcdef01~1'), undefined);
  });

  test('a plain name or sha has no steps', () => {
    assert.deepEqual(parseRevision('main'), { ok: true, revision: { base: 'main', steps: [] } });
    assert.deepEqual(parseRevision('refs/tags/v1.0'), { ok: true, revision: { base: 'refs/tags/v1.0', steps: [] } });
  });

  test('~N follows first parents and a bare ~ or ^ means one', () => {
    assert.deepEqual(parseRevision('main~2'), { ok: true, revision: { base: 'main', steps: [{ kind: 'ancestor', n: 2 }] } });
    assert.deepEqual(parseRevision('main~'), { ok: true, revision: { base: 'main', steps: [{ kind: 'ancestor', n: 1 }] } });
    assert.deepEqual(parseRevision('v1^'), { ok: true, revision: { base: 'v1', steps: [{ kind: 'parent', n: 1 }] } });
  });

  test('chains keep their order, as in main~2^2', () => {
    assert.deepEqual(parseRevision('main~2^2~'), {
      ok: true,
      revision: { base: 'main', steps: [{ kind: 'ancestor', n: 2 }, { kind: 'parent', n: 2 }, { kind: 'ancestor', n: 1 }] },
    });
    assert.deepEqual(parseRevision('abc1234^^'), {
      ok: true,
      revision: { base: 'abc1234', steps: [{ kind: 'parent', n: 1 }, { kind: 'parent', n: 1 }] },
    });
  });

  test('syntax mfd does not support is refused with the place it starts', () => {
    const braces = parseRevision('v1^{commit}');
    assert.equal(braces.ok, false);
    assert.match(!braces.ok ? braces.reason : '', /\{commit\}/);
    assert.equal(parseRevision('~2').ok, false);
    assert.equal(parseRevision('main~2x').ok, false);
  });

  test('generationsOf counts how deep the steps reach, ^0 and ^2 counting as 0 and 1', () => {
    const steps = (text: string) => {
      const parsed = parseRevision(text);
      assert.ok(parsed.ok);
      return parsed.revision.steps;
    };
    assert.equal(generationsOf(steps('main')), 0);
    assert.equal(generationsOf(steps('main~3')), 3);
    assert.equal(generationsOf(steps('main~2^2^0^')), 4);
  });
});
