// The status page's HTML frame: escaping (every value rendered is input: refs, messages, log
// lines), one document shell with the page's little CSS, readable on a phone, no external assets.
import { randomBytes } from 'node:crypto';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an element or a quoted attribute. Control characters (but tab and newline) are dropped. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A tagged template that escapes every interpolation, except one already marked safe by `html`. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Html(out);
}

function render(v: unknown): string {
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return esc(v);
}

const CSS = `
:root{color-scheme:light dark;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--dim:#6e7781;--line:#d0d7de}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:12px;max-width:60rem}
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.05rem;margin:1.2rem 0 .4rem}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
pre{white-space:pre-wrap;overflow-wrap:anywhere;padding:.6rem;border:1px solid var(--line);border-radius:6px;margin:.4rem 0}
section{border:1px solid var(--line);border-radius:8px;padding:.4rem .8rem;margin:.6rem 0;overflow-wrap:anywhere}
.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}.dim{color:var(--dim)}
.sha{overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .4rem;border-top:1px solid var(--line);vertical-align:top}
ul{padding-left:1.2rem;margin:.3rem 0}
@media (max-width:40rem){thead{display:none}tr{display:block;border-top:1px solid var(--line);padding:.3rem 0}td{display:block;border:0;padding:.1rem .4rem}td[data-label]::before{content:attr(data-label) ": ";color:var(--dim)}}
`;

export interface Shell {
  title: string;
  body: Html;
  /** An inline script, allowed by its nonce alone (the CSP forbids any other). */
  script?: string;
}

/** The whole document and the headers it needs: a CSP that allows only its own style and script. */
export function documentOf(shell: Shell): { text: string; headers: Record<string, string> } {
  const nonce = randomBytes(16).toString('base64');
  const script = shell.script ? `<script nonce="${nonce}">${shell.script.replace(/<\//g, '<\\/')}</script>` : '';
  const text = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(shell.title)}</title>
<style>${CSS}</style></head>
<body>${shell.body.text}${script}</body></html>
`;
  return {
    text,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    },
  };
}
