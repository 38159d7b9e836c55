/**
 * JSON indented token by token: strings and numbers are copied as they came, never parsed and
 * written again, so an id above 2^53 keeps its digits and a key given twice shows twice. It checks
 * the grammar as it goes (a body that is not JSON is shown as it came) and does work in proportion
 * to the text it is given, which the caller has already cut to its limit.
 */

// Any character from the space up but `"` and `\`, or an escape: a control character ends the match.
const STRING = /"(?:[ !#-[\]-\u{10FFFF}]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/uy;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;

/**
 * Characters of indented text at most: indentation grows with depth, and 256 KiB of `[[[[` would
 * otherwise indent to gigabytes.
 */
const OUTPUT_LIMIT = 1024 * 1024;

/**
 * What comes next: a value (at the top, after a colon), an array item, an object key, a colon, a
 * comma or the container's close, or nothing more.
 */
type Expect = 'value' | 'item' | 'item-or-close' | 'key' | 'key-or-close' | 'colon' | 'next' | 'end';

/**
 * `source` indented by two spaces a level, as `JSON.stringify(value, null, 2)` lays it out; undefined
 * when it is not JSON. Truncated when cut, or when the indented text passes OUTPUT_LIMIT. With `cut` (the text stops before the end of the body), the view stops where
 * the text does: an unfinished container or token at the end is expected and shown as it is.
 */
export function jsonView(source: string, cut: boolean): { text: string; truncated: boolean } | undefined {
  const out: string[] = [];
  let size = 0;
  const stack: ('{' | '[')[] = [];
  let expect: Expect = 'value';
  let i = 0;
  const indents: string[] = [];
  const indent = () => (indents[stack.length] ??= `\n${'  '.repeat(stack.length)}`);
  const push = (part: string) => {
    out.push(part);
    size += part.length;
  };
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = i;
    const m = pattern.exec(source);
    return m === null || m[0] === '' ? undefined : m[0];
  };
  /** After a value: the end at the top, or its container's comma or close. */
  const afterValue = (): Expect => (stack.length === 0 ? 'end' : 'next');
  for (;;) {
    while (i < source.length && isSpace(source.charCodeAt(i))) i += 1;
    if (i >= source.length) break;
    if (size > OUTPUT_LIMIT) return { text: out.join(''), truncated: true };
    const ch = source[i]!;
    const top = stack.at(-1);
    if (ch === ',' && expect === 'next') {
      push(',');
      expect = top === '{' ? 'key' : 'item';
      i += 1;
      continue;
    }
    if (ch === ':' && expect === 'colon') {
      push(': ');
      expect = 'value';
      i += 1;
      continue;
    }
    if ((ch === '}' && top === '{') || (ch === ']' && top === '[')) {
      const empty = expect === 'key-or-close' || expect === 'item-or-close';
      if (!empty && expect !== 'next') return fail();
      stack.pop();
      push(empty ? ch : `${indent()}${ch}`);
      expect = afterValue();
      i += 1;
      continue;
    }
    if (expect === 'key' || expect === 'key-or-close') {
      const key = match(STRING);
      if (key === undefined) return fail();
      push(indent());
      push(key);
      expect = 'colon';
      i += key.length;
      continue;
    }
    if (expect !== 'value' && expect !== 'item' && expect !== 'item-or-close') return fail();
    if (expect !== 'value') push(indent());
    if (ch === '{' || ch === '[') {
      push(ch);
      stack.push(ch);
      expect = ch === '{' ? 'key-or-close' : 'item-or-close';
      i += 1;
      continue;
    }
    const token = match(ch === '"' ? STRING : ch === '-' || (ch >= '0' && ch <= '9') ? NUMBER : LITERAL);
    if (token === undefined) return fail();
    push(token);
    i += token.length;
    expect = afterValue();
  }
  if (cut) return { text: out.join(''), truncated: true };
  return expect === 'end' ? { text: out.join(''), truncated: false } : undefined;

  /** Not JSON; or, in a cut text, a token the cut split: the rest as it is. */
  function fail(): { text: string; truncated: boolean } | undefined {
    return cut ? { text: out.join('') + source.slice(i), truncated: true } : undefined;
  }
}

/** JSON's whitespace: space, tab, line feed, carriage return. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}
