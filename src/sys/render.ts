// The progress lines of a run's events, as the terminal shows them and the run log keeps them:
// one renderer, so the log is always a copy of the screen (less the colour and the spinner).
// Every text in them is made inert (inert.ts): they quote the world.
import type { RunEvent } from './events.ts';
import { inert } from '../errors/inert.ts';

/** Wraps text in an SGR colour; the identity for plain text. */
export type Paint = (code: string, text: string) => string;

export const plain: Paint = (_code, text) => text;

/** The lines an event prints on stderr; none for the events that are not lines (start, output, result). */
export function eventLines(event: RunEvent, paint: Paint = plain): string[] {
  switch (event.type) {
    case 'step-finished': {
      const [mark, colour] = event.outcome === 'ok' ? ['✓', '32'] : ['✗', '31'];
      return [`${paint(colour, mark)} ${event.step.padEnd(9)} ${inert(event.summary)} ${paint('2', `${(event.ms / 1000).toFixed(2)}s`)}`];
    }
    case 'step-skipped':
      return event.reason ? [inert(event.reason)] : [];
    case 'info':
      return [inert(event.message)];
    case 'warning':
      return [`${paint('33', 'warning:')} ${inert(event.message)}`, ...(event.hint ? [`  hint: ${inert(event.hint)}`] : [])];
    default:
      return [];
  }
}
