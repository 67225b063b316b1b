// Crash-test hook (TESTING.md §4): with MFD_TEST_PAUSE_AT=<step>, mfd prints a marker on stderr
// and waits forever at that step, so a test can SIGKILL it at exactly that point. Inert otherwise.

export async function pauseForTest(step: string): Promise<void> {
  if (process.env.MFD_TEST_PAUSE_AT !== step) return;
  // Written directly, not through the Reporter: the marker must appear even with --json.
  process.stderr.write(`mfd-test-paused-at:${step}\n`);
  await new Promise(() => setInterval(() => undefined, 1 << 30));
}
