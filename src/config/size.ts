// Sizes in mfd.toml are strings with a unit ("512MiB", "1GiB", "500MB"); a bare number is refused
// for the same reason as in durations: bytes or megabytes is exactly the guess not to make.
const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** Bytes in `s`. Throws a RangeError naming `s` when it is not a size. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/.exec(s.trim());
  const bytes = m ? Math.round(Number(m[1]) * UNITS[m[2]!]!) : NaN;
  // Enough digits make Infinity, which every comparison would take for a real floor or limit.
  if (!Number.isFinite(bytes)) throw new RangeError(`expected a size such as "512MiB" or "2GB", got ${JSON.stringify(s)}`);
  return bytes;
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(i === 0 ? 0 : 1)}${units[i]}`;
}
