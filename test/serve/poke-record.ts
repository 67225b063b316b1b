// The loop's side of the seam (cd/trigger.ts) for the webhook server's tests: it records what the
// server poked, takes every poke, and reports `last` as the loop's last run.
import type { LastRun, Pokeable, Trigger } from '../../src/cd/trigger.ts';

export class PokeRecord implements Pokeable {
  pokes: Trigger[] = [];
  last: LastRun | undefined;
  poke(trigger: Trigger): boolean {
    this.pokes.push(trigger);
    return true;
  }
  lastRun(): LastRun | undefined {
    return this.last;
  }
}
