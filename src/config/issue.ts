// Where a config problem is and what was found there: the line of a key path in the TOML text
// (best effort, by scanning headers and keys), what the schema expected, and a short description
// of a value. Nothing here echoes a value the caller marks secret.

import type * as z from 'zod/mini';
import { redact } from '../errors/redact.ts';

type Path = readonly (string | number)[];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// A key segment as TOML may spell it: bare, "double-quoted" or 'single-quoted'.
const segment = (k: string): string => `(?:${escape(k)}|"${escape(k)}"|'${escape(k)}')`;
const dotted = (keys: readonly string[]): string => keys.map(segment).join('\\s*\\.\\s*');
const isHeader = (line: string): boolean => /^\s*\[/.test(line);

function findHeader(lines: readonly string[], keys: readonly string[]): number {
  const re = new RegExp(`^\\s*\\[\\[?\\s*${dotted(keys)}\\s*\\]\\]?\\s*(?:#.*)?$`);
  return lines.findIndex((l) => re.test(l));
}

/** Index of the line assigning `keys` (or a prefix of them, for an inline table) in the section starting at `from`. */
function findKey(lines: readonly string[], from: number, keys: readonly string[]): number {
  for (let n = keys.length; n >= 1; n--) {
    const re = new RegExp(`^\\s*${dotted(keys.slice(0, n))}\\s*=`);
    for (let i = from; i < lines.length && !isHeader(lines[i]!); i++) if (re.test(lines[i]!)) return i;
  }
  return -1;
}

/**
 * 1-based line of the key path in `text`, or undefined when it cannot be told (a missing key).
 * Array indexes point at their key's line: finding the element would take a real TOML tokenizer.
 */
export function lineOf(text: string, path: Path): number | undefined {
  const lines = text.split(/\r?\n/);
  const end = path.findIndex((p) => typeof p === 'number');
  const keys = (end === -1 ? path : path.slice(0, end)) as string[];
  for (let n = keys.length; n >= 0; n--) {
    const header = n === 0 ? -1 : findHeader(lines, keys.slice(0, n));
    if (n > 0 && header === -1) continue;
    if (n === keys.length) return header + 1;
    const key = findKey(lines, header + 1, keys.slice(n));
    if (key !== -1) return key + 1;
    if (n > 0) return header + 1;
  }
  return undefined;
}

/** A TOML table as smol-toml returns it; dates are objects too but are values. */
export function isTable(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

export function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

/** `"npm ci"`, `5`, `["npm",1]`, `a table`; for a secret only its type, never its value; credentials in a URL masked. */
export function describeValue(value: unknown, secret = false): string {
  if (isTable(value)) return 'a table';
  if (secret) return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
  const text = redact(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The allowed key closest to a typo (`unti` → `unit`), if any is close enough to be a likely intent. */
export function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  let best: { key: string; d: number } | undefined;
  for (const a of allowed) {
    const d = distance(key.toLowerCase(), a);
    if (d <= Math.max(1, Math.floor(a.length / 3)) && (!best || d < best.d)) best = { key: a, d };
  }
  return best?.key;
}

// Optimal string alignment distance: a transposition ("unti" for "unit") counts as one edit.
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** What the schema wanted at `path`, in words: the message before ", got <value>". */
export function expected(path: (string | number)[], issue: z.core.$ZodIssue): string {
  const key = path.join('.');
  if (/^build\.commands\.\d+$/.test(key)) return 'expected an array of strings (an argv such as ["npm", "ci"])';
  if (/^build\.commands\.\d+\.\d+$/.test(key)) return 'expected a string';
  if (key === 'build.commands') return 'expected an array of argv arrays';
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'too_small') return issue.origin === 'string' ? 'expected a non-empty string' : issue.origin === 'array' ? 'expected a non-empty array' : `expected at least ${String(issue.minimum)}`;
  if (issue.code === 'too_big') return `expected at most ${String(issue.maximum)}`;
  if (issue.code === 'invalid_format' && issue.format === 'url') return 'expected an http:// or https:// URL';
  if (issue.code === 'invalid_type') return `expected ${issue.expected === 'object' ? 'a table' : issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}`;
  return issue.message;
}
