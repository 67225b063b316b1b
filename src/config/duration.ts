// Durations in mfd.toml are Go-style strings ("500ms", "30s", "5m", "1h30m"). A bare number is
// refused: whether `timeout = 30` means seconds or milliseconds is exactly the guess we must not make.
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
// `ms` before `m` and `s`, so "500ms" is never read as 500 minutes and a stray "s".
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Milliseconds in `s`, rounded to a whole millisecond. Throws a RangeError naming `s` when it is not a duration. */
export function parseDuration(s: string): number {
  if (!WHOLE.test(s)) {
    throw new RangeError(`expected a duration such as "30s", "5m" or "1h30m", got ${JSON.stringify(s)}`);
  }
  let ms = 0;
  for (const [, amount, unit] of s.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return Math.round(ms);
}
