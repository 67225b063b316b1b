// Crash-test hook (TESTING.md §4): with MFD_TEST_PAUSE_AT=<point>, mfd prints a marker on stderr
// and waits there, so a test can kill or interrupt it at exactly that point. Inert otherwise.
// Most points are a step's start or end (a subscriber of the run's events); a few lie inside a step.
import type { RunEvent, StepName, Subscriber } from './events.ts';

/** When a point is reached: a step began (or was skipped), ended whatever its outcome, or succeeded. */
type StepPoint = { step: StepName; when: 'start' | 'end' | 'success'; command?: 'deploy' | 'rollback' };

/** The points at a step's edge, by the name a test gives. */
export const STEP_PAUSE_POINTS = {
  resolve: { step: 'resolve', when: 'success' },
  fetch: { step: 'fetch', when: 'success' },
  checkout: { step: 'checkout', when: 'success' },
  built: { step: 'build', when: 'success' },
  activated: { step: 'activate', when: 'success', command: 'deploy' },
  restarted: { step: 'restart', when: 'success' },
  health: { step: 'health', when: 'end' },
  prune: { step: 'prune', when: 'start' },
  'rollback-planned': { step: 'activate', when: 'start', command: 'rollback' },
} as const satisfies Record<string, StepPoint>;

/** The points inside a step, where its code calls pauseForTest itself. */
export const INLINE_PAUSE_POINTS = ['checkout-partial', 'swap', 'compact-written', 'compact-removing'] as const;

export type PausePoint = keyof typeof STEP_PAUSE_POINTS | (typeof INLINE_PAUSE_POINTS)[number];
export const PAUSE_POINTS: readonly PausePoint[] = [...(Object.keys(STEP_PAUSE_POINTS) as PausePoint[]), ...INLINE_PAUSE_POINTS];

/** The point this process is asked to pause at, if any: the only read of MFD_TEST_PAUSE_AT. */
export function testPauseAt(): string | undefined {
  return process.env.MFD_TEST_PAUSE_AT;
}

/** Waits for ever at `point` when asked to; given the run's signal, only until it is aborted. */
export async function pauseForTest(point: (typeof INLINE_PAUSE_POINTS)[number], signal?: AbortSignal): Promise<void> {
  if (testPauseAt() === point) await pause(point, signal);
}

/** A run's subscriber that pauses at the step edge named by the hook (none when unset: no cost). */
export function pauseAtSteps(run: { command: 'deploy' | 'rollback'; signal?: AbortSignal }, wanted = testPauseAt()): Subscriber | undefined {
  const point = wanted !== undefined && Object.hasOwn(STEP_PAUSE_POINTS, wanted) ? (STEP_PAUSE_POINTS as Record<string, StepPoint>)[wanted]! : undefined;
  if (!point || (point.command && point.command !== run.command)) return undefined;
  return (event) => (reaches(event, point) ? pause(wanted!, run.signal) : undefined);
}

function reaches(event: RunEvent, point: StepPoint): boolean {
  if (!('step' in event) || event.step !== point.step) return false;
  if (point.when === 'start') return event.type === 'step-started' || event.type === 'step-skipped';
  if (event.type !== 'step-finished') return false;
  return point.when === 'end' || event.outcome === 'ok';
}

async function pause(point: string, signal: AbortSignal | undefined): Promise<void> {
  // Written directly, not through the Reporter: the marker must appear even with --json.
  process.stderr.write(`mfd-test-paused-at:${point}\n`);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => undefined, 1 << 30);
    signal?.addEventListener('abort', () => {
      clearInterval(timer);
      resolve();
    }, { once: true });
  });
}
