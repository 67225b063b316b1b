// Text made harmless for a terminal. Messages quote the world (a git server's own error, a ref, a
// path from a tree, a lock holder read from disk), and a terminal obeys control characters: a
// hostile server could retitle the window, clear the screen or hide a line behind a carriage
// return. Colour is kept (a build's last lines in its error), every other control is shown escaped,
// as git itself masks a remote's side-band messages.

/** `text` with every control character except newline and tab, and every bidirectional override, shown as `\xNN` or `\uNNNN`; SGR colour sequences (ESC [ ... m) kept. */
export function inert(text: string): string {
  // Most text has none: one pass over the codes, no regular expression compiled.
  if (!hasControl(text)) return text;
  return text.replace(UNSAFE, (match) => (match.length > 1 ? match : escape(match)));
}

// eslint-disable-next-line no-control-regex
const UNSAFE = /\u001b\[[0-9;:]*m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a && c !== 0x09) || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return true;
  }
  return false;
}

function escape(char: string): string {
  const c = char.charCodeAt(0);
  return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
}
