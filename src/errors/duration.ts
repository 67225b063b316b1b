// A duration as messages show it, in mfd.toml's notation (config/duration.ts parses it): here, at
// the floor of the layers, so an error and a config message can both name "[repo] timeout (now 30s)".

/** `ms` in mfd.toml's notation, largest units first: 90_000 → "1m30s", 500 → "500ms", 0 → "0s". */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms);
  let text = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) text += `${n}${unit}`;
    rest -= n * size;
  }
  return text || '0s';
}
