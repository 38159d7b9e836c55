/**
 * How the inspector shows a body: pretty-printed by its content type (JSON indented, a form as
 * one `key = value` per line, XML indented), binary as a hex dump. Done on the server so that it is
 * tested once and the page only places text (never HTML) in the document.
 */
import { jsonView } from './json-view.js';

export type BodyKind = 'json' | 'form' | 'xml' | 'text' | 'hex' | 'empty';

export interface BodyView {
  kind: BodyKind;
  text: string;
  /** True when the view stops before the end of a long body. */
  truncated: boolean;
}

/** Bytes shown as hex at most: a 1 MiB body would be 4 MiB of dump for no reader. */
const HEX_LIMIT = 4096;
/** Characters shown at most of a text body. */
const TEXT_LIMIT = 256 * 1024;

/** The view of a body stored as `encoding` (as the admin API returns it) with this content type. */
export function bodyView(body: string, encoding: 'utf8' | 'base64', contentType: string | undefined): BodyView {
  if (encoding === 'base64') return hexView(Buffer.from(body, 'base64'));
  if (body === '') return { kind: 'empty', text: '', truncated: false };
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const cut = body.length > TEXT_LIMIT;
  const text = cut ? body.slice(0, TEXT_LIMIT) : body;
  if (type === 'application/json' || type.endsWith('+json')) {
    // Indented token by token, not parsed: what was received, digits and repeated keys included.
    const json = jsonView(text, cut);
    // Says JSON, is not: shown as sent.
    return json === undefined ? { kind: 'text', text, truncated: cut } : { kind: 'json', ...json };
  }
  if (type === 'application/x-www-form-urlencoded') return { kind: 'form', text: formView(text), truncated: cut };
  if (type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml'))
    return { kind: 'xml', text: xmlView(text), truncated: cut };
  return { kind: 'text', text, truncated: cut };
}

function formView(body: string): string {
  return [...new URLSearchParams(body)].map(([key, value]) => `${key} = ${value}`).join('\n');
}

/** Indents XML by nesting: one tag (or text run) per line. Not a parser; enough to read a payload. */
export function xmlView(body: string): string {
  const tokens = body.match(/<[^>]+>|[^<]+/g) ?? [];
  const lines: string[] = [];
  let depth = 0;
  for (const raw of tokens) {
    const token = raw.trim();
    if (token === '') continue;
    if (token.startsWith('</')) depth = Math.max(0, depth - 1);
    lines.push(`${'  '.repeat(depth)}${token}`);
    const opens = token.startsWith('<') && !/^<[?!/]/.test(token) && !token.endsWith('/>');
    if (opens) depth += 1;
  }
  // `<a>text</a>` reads best on one line.
  return lines
    .join('\n')
    .replace(/^(\s*)(<[^/?!][^>]*[^/]>|<[^/?!]>)\n\s*([^<\s][^\n]*)\n\s*(<\/[^>]+>)$/gm, '$1$2$3$4');
}

/** `offset  hex bytes  ascii`, 16 bytes a line. */
export function hexView(bytes: Uint8Array): BodyView {
  const shown = bytes.subarray(0, HEX_LIMIT);
  const lines: string[] = [];
  for (let offset = 0; offset < shown.length; offset += 16) {
    const row = shown.subarray(offset, offset + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return { kind: 'hex', text: lines.join('\n'), truncated: bytes.length > HEX_LIMIT };
}
