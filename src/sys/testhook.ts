// Crash-test hook (TESTING.md §4): with MFD_TEST_PAUSE_AT=<step>, mfd prints a marker on stderr
// and waits at that step, so a test can kill or interrupt it at exactly that point. Inert otherwise.

/** Waits for ever at `step` when asked to; given the run's signal, only until it is aborted. */
export async function pauseForTest(step: string, signal?: AbortSignal): Promise<void> {
  if (process.env.MFD_TEST_PAUSE_AT !== step) return;
  // Written directly, not through the Reporter: the marker must appear even with --json.
  process.stderr.write(`mfd-test-paused-at:${step}\n`);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => undefined, 1 << 30);
    signal?.addEventListener('abort', () => {
      clearInterval(timer);
      resolve();
    }, { once: true });
  });
}
