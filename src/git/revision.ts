// Pure parser for the ancestry suffixes of git's revision syntax that Go mfd accepted through
// go-git: NAME~N, NAME~, NAME^N, NAME^ and chains of them (main~2^2). Nothing here touches a repo.

export type RevisionStep =
  /** Follow the first parent `n` times (`~n`). */
  | { kind: 'ancestor'; n: number }
  /** Take the `n`th parent, 1-based; `^0` is the commit itself. */
  | { kind: 'parent'; n: number };

export interface Revision {
  /** A ref name or a (short) sha, resolved against the remote before any step is taken. */
  base: string;
  steps: RevisionStep[];
}

export type ParsedRevision = { ok: true; revision: Revision } | { ok: false; reason: string };

const FULL_SHA = /^[0-9a-f]{40}$/i;

/** A full 40-hex sha names itself: no remote needs asking. Returns it lowercased, or undefined. */
export function fullSha(text: string): string | undefined {
  return FULL_SHA.test(text) ? text.toLowerCase() : undefined;
}

export function parseRevision(text: string): ParsedRevision {
  const at = text.search(/[~^]/);
  if (at === -1) return { ok: true, revision: { base: text, steps: [] } };
  const base = text.slice(0, at);
  if (base === '') return { ok: false, reason: 'nothing before the ~ or ^' };

  const steps: RevisionStep[] = [];
  const suffix = /[~^](\d*)/y;
  suffix.lastIndex = at;
  while (suffix.lastIndex < text.length) {
    const start = suffix.lastIndex;
    const match = suffix.exec(text);
    if (!match) {
      return { ok: false, reason: `unsupported revision syntax at "${text.slice(start)}"; mfd accepts NAME~N and NAME^N` };
    }
    const digits = match[1]!;
    const n = digits === '' ? 1 : Number(digits);
    if (!Number.isSafeInteger(n)) return { ok: false, reason: `${digits} is too large` };
    steps.push(text[start] === '~' ? { kind: 'ancestor', n } : { kind: 'parent', n });
  }
  return { ok: true, revision: { base, steps } };
}

/** How many generations below the base the steps reach at most: the history depth they need. */
export function generationsOf(steps: readonly RevisionStep[]): number {
  let total = 0;
  for (const step of steps) total += step.kind === 'ancestor' ? step.n : Math.min(step.n, 1);
  return total;
}
