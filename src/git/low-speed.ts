// git's http.lowSpeedLimit / http.lowSpeedTime as a pure rule over injected time: a transfer is
// stalled once it has run for a whole window and received less than the limit on average in it.

/** The limit mfd applies: 1 KiB/s, as a git user would set http.lowSpeedLimit. */
export const LOW_SPEED_BYTES_PER_SECOND = 1024;
/** A window is counted in this many slices: memory stays constant however fast the data comes. */
const SLICES = 16;

export class LowSpeedMeter {
  private readonly sliceMs: number;
  /** Bytes per slice index (time since start / sliceMs), only the slices of the last window. */
  private readonly slices: { index: number; bytes: number }[] = [];

  constructor(
    private readonly windowMs: number,
    private readonly start: number,
    private readonly bytesPerSecond = LOW_SPEED_BYTES_PER_SECOND,
  ) {
    this.sliceMs = Math.max(1, windowMs / SLICES);
  }

  /** `bytes` arrived at time `now` (ms, the clock `start` was read from). */
  record(now: number, bytes: number): void {
    const index = this.indexAt(now);
    const last = this.slices.at(-1);
    if (last?.index === index) last.bytes += bytes;
    else this.slices.push({ index, bytes });
    this.forget(index);
  }

  /** Whether the last window (a whole one must have passed) brought less than the limit. */
  stalled(now: number): boolean {
    if (now - this.start < this.windowMs) return false;
    const index = this.indexAt(now);
    this.forget(index);
    const received = this.slices.reduce((sum, s) => sum + s.bytes, 0);
    return received < (this.bytesPerSecond * this.windowMs) / 1000;
  }

  private indexAt(now: number): number {
    return Math.floor((now - this.start) / this.sliceMs);
  }

  /** Drops slices that ended before the window that ends at slice `index`. */
  private forget(index: number): void {
    while (this.slices.length > 0 && this.slices[0]!.index <= index - SLICES) this.slices.shift();
  }
}
