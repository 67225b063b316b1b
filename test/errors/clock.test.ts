// formatClock: who holds a lock, and since when, in this machine's local time with its offset,
// made without Intl (whose first use loads ICU's locale data).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatClock } from '../../src/errors/index.ts';

const at = Date.UTC(2026, 10, 23, 12, 3, 4);

test('local time and offset, whatever the zone', { concurrency: false }, (t) => {
  const before = process.env.TZ;
  t.after(() => {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  });
  const cases: [string, string][] = [
    ['UTC', '2026-11-23 12:03:04 +00:00'],
    ['Asia/Kolkata', '2026-11-23 17:33:04 +05:30'],
    ['America/St_Johns', '2026-11-23 08:33:04 -03:30'],
    ['Pacific/Kiritimati', '2026-11-24 02:03:04 +14:00'],
  ];
  for (const [zone, shown] of cases) {
    process.env.TZ = zone;
    assert.equal(formatClock(at), shown, zone);
  }
});

test('a timestamp that is no date says so', () => {
  assert.equal(formatClock(Number.NaN), 'an unknown time');
  assert.equal(formatClock(8.64e15 + 1), 'an unknown time');
});
