// The vocabulary of a run's event stream: the named steps, the events a run emits, and the list of
// subscribers they go to. The sinks (terminal, run log, history, test hook) each take the stream;
// none reads another's state. Here, not in run/, because the sinks below run/ must know the events.

/** Every step a deploy or rollback can take: the one list the Reporter, the history and the test hook use. */
export const STEP_NAMES = ['resolve', 'fetch', 'checkout', 'build', 'activate', 'restart', 'health', 'rollback', 'prune'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** `refused`: the deploy lock was held, so this run changed nothing (the holder's run is the real one). */
export type RunOutcome = 'success' | 'failed' | 'rolled-back' | 'needs-attention' | 'interrupted' | 'refused';

/** A build command skipped because its outputs were copied from a kept deployment ([[build.cache]]). */
export interface BuildReuse {
  /** Its index in build.commands. */
  command: number;
  argv: string[];
  /** The deployment the outputs were copied from. */
  from: string;
  outputs: string[];
}

export type RunEvent =
  /** The first event of a run, once its log exists: who listens learns its id and trigger here. */
  | { type: 'run-started'; runId: string; command: 'deploy' | 'rollback'; trigger: string; at: number }
  /** A deploy knows its commit: the ref asked for (or the one resolved) and its full sha. */
  | { type: 'resolved'; ref: string; sha: string }
  | { type: 'step-started'; step: StepName; detail: string }
  /** `ms` is monotonic time (performance.now), unrounded; `summary` is what the step's line says. */
  | { type: 'step-finished'; step: StepName; detail: string; summary: string; ms: number; outcome: 'ok' | 'failed' }
  /** A step of the plan with nothing to do (no unit to restart, nothing to prune); `reason` is shown if given. */
  | { type: 'step-skipped'; step: StepName; reason?: string }
  /** Live output of a child process (build commands), a chunk as it came. */
  | { type: 'output'; chunk: string }
  /** `reuse`: the line says a build command was skipped; the history keeps which, from where. */
  | { type: 'info'; message: string; reuse?: BuildReuse }
  | { type: 'warning'; message: string; hint?: string }
  /** The command's result: human lines, or the JSON document with --json. */
  | { type: 'result'; human: string[]; json: unknown }
  /** The run is over; `at` in ms since the epoch. */
  | { type: 'run-finished'; outcome: RunOutcome; sha: string | null; deployment: string | null; error: { code: string; message: string } | null; at: number };

/** A subscriber may return a promise (the test hook's pause): the events after it wait for it. */
export type Subscriber = (event: RunEvent) => void | Promise<void>;

export class EventStream {
  private readonly subscribers: Subscriber[] = [];

  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.push(subscriber);
    return () => {
      const at = this.subscribers.indexOf(subscriber);
      if (at >= 0) this.subscribers.splice(at, 1);
    };
  }

  /** To each subscriber in the order they subscribed; synchronous unless one of them returns a promise. */
  emit(event: RunEvent): void | Promise<void> {
    return deliver([...this.subscribers], 0, event);
  }
}

function deliver(subscribers: Subscriber[], from: number, event: RunEvent): void | Promise<void> {
  for (let i = from; i < subscribers.length; i++) {
    const pending = subscribers[i]!(event);
    if (pending) return pending.then(() => deliver(subscribers, i + 1, event));
  }
}

/** How a step's line reads once done; `guard` runs once its start is announced (and any pause is over), before its work. */
export type StepOptions<T> = ((value: T) => string) | { done?: (value: T) => string; guard?: () => void };

/** Runs one named step as events: started, then finished with its outcome and duration. */
export async function timeStep<T>(
  emit: (event: RunEvent) => void | Promise<void>,
  step: StepName,
  detail: string,
  fn: () => Promise<T>,
  options?: StepOptions<T>,
): Promise<T> {
  const { done, guard } = typeof options === 'function' ? { done: options, guard: undefined } : (options ?? {});
  await emit({ type: 'step-started', step, detail });
  // A guard that throws withdraws the step before it began: no line, no history entry.
  guard?.();
  const started = performance.now();
  let value: T;
  try {
    value = await fn();
  } catch (error) {
    await emit({ type: 'step-finished', step, detail, summary: detail, ms: performance.now() - started, outcome: 'failed' });
    throw error;
  }
  await emit({ type: 'step-finished', step, detail, summary: done ? done(value) : detail, ms: performance.now() - started, outcome: 'ok' });
  return value;
}
