// The layout of dist/mfd.cjs (scripts/build.mjs writes it): a loader, then one comment holding
// mfd's main code (wrapped as a CommonJS module function, every "*/" stored as "*\0/") and the
// V8 code cache for it, in base64, after MAIN_CACHE_MARK.
export const MAIN_MARK = '\n/*mfd-main-code\n';
export const MAIN_CACHE_MARK = '\nmfd-main-code-cache\n';

// What each comment end in the code (a regex, a PURE note) is stored as, so the comment holds; the
// loader and mainCodeOf put them back.
const CLOSE = '*/';
export const HIDDEN_CLOSE = '*\0/';

// The code as stored in the comment.
export const hideInComment = (code) => code.replaceAll(CLOSE, HIDDEN_CLOSE);

/** The wrapped main code, as the loader compiles it. */
export function mainCodeOf(bundle) {
  const start = bundle.indexOf(MAIN_MARK);
  const end = bundle.indexOf(MAIN_CACHE_MARK, start);
  if (start < 0 || end < 0) throw new Error('dist/mfd.cjs has no embedded main code: rebuild it with npm run build');
  return bundle.slice(start + MAIN_MARK.length, end).replaceAll(HIDDEN_CLOSE, CLOSE);
}
