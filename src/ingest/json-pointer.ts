/**
 * Reads the value at a JSON pointer from raw JSON bytes without building the document. Ingest runs
 * this on the HTTP thread for every request of a `json:` dedupe source: `JSON.parse` of a hostile body
 * (a megabyte of `[[[…]]]`) builds hundreds of thousands of values and holds every other sender's
 * acknowledgement meanwhile. This scan checks the whole body is JSON, as `JSON.parse` would, but only
 * decodes the keys on the pointer's path and the value it names; everything else is skipped in place.
 * Its cost is one pass over the bytes, without allocation off the path.
 */

/** Deeper nesting is refused (no value): no webhook nests anywhere near as deep. */
export const MAX_JSON_DEPTH = 512;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Thrown inside the scan only, for input that is not JSON; caught by `jsonPointerValue`. */
const NOT_JSON = new Error('not JSON');

/**
 * The string or number (as text, `String(number)`) at `pointer` (unescaped tokens) in `bytes`, or
 * `undefined` when the bytes are not JSON, nest deeper than MAX_JSON_DEPTH, or have no string or number
 * there. Matches `JSON.parse` then indexing token by token: a repeated key counts by its last
 * occurrence, and an array is indexed by canonical decimal tokens.
 */
export function jsonPointerValue(bytes: Uint8Array, pointer: readonly string[]): string | undefined {
  const scan = new PointerScan(bytes, pointer);
  let span: readonly [number, number] | undefined;
  try {
    span = scan.document();
  } catch (error) {
    if (error === NOT_JSON) return undefined;
    throw error;
  }
  if (span === undefined) return undefined;
  const first = bytes[span[0]]!;
  const isString = first === QUOTE;
  const isNumber = first === 0x2d || (first >= 0x30 && first <= 0x39);
  if (!isString && !isNumber) return undefined;
  const value: unknown = JSON.parse(scan.text(span[0], span[1]));
  return String(value);
}

class PointerScan {
  private i = 0;
  /** Where the value at the pointer is, from its last occurrence seen so far. */
  private found: [number, number] | undefined;
  /** Set by `string()`: whether the string just read had escapes. */
  private escaped = false;
  private readonly buffer: Buffer;
  /** Each token as an array index, or -1 when it is not a canonical decimal. */
  private readonly indexes: number[];
  /** Each token's UTF-8 length, to pass over keys of another length without decoding them. */
  private readonly lengths: number[];

  constructor(
    private readonly b: Uint8Array,
    private readonly pointer: readonly string[],
  ) {
    this.buffer = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    this.indexes = pointer.map((t) => (/^(0|[1-9]\d{0,8})$/.test(t) ? Number(t) : -1));
    this.lengths = pointer.map((t) => Buffer.byteLength(t));
  }

  text(start: number, end: number): string {
    return this.buffer.toString('utf8', start, end);
  }

  document(): readonly [number, number] | undefined {
    this.value(0, 0);
    this.space();
    if (this.i !== this.b.length) throw NOT_JSON;
    return this.found;
  }

  /** One value. `level`: how many pointer tokens lead here, or -1 when off the pointer's path. */
  private value(depth: number, level: number): void {
    const { b, pointer } = this;
    this.space();
    const start = this.i;
    // A later occurrence of a key on the path replaces an earlier one, as in JSON.parse.
    if (level >= 0) this.found = undefined;
    const c = b[this.i];
    if (c === 0x7b) this.object(depth + 1, level);
    else if (c === 0x5b) this.array(depth + 1, level);
    else if (c === QUOTE) this.string();
    else if (c === 0x74) this.literal('true');
    else if (c === 0x66) this.literal('false');
    else if (c === 0x6e) this.literal('null');
    else this.number();
    if (level === pointer.length) this.found = [start, this.i];
  }

  private object(depth: number, level: number): void {
    if (depth > MAX_JSON_DEPTH) throw NOT_JSON;
    const { b } = this;
    this.i++;
    this.space();
    if (b[this.i] === 0x7d) {
      this.i++;
      return;
    }
    for (;;) {
      this.space();
      if (b[this.i] !== QUOTE) throw NOT_JSON;
      const keyStart = this.i;
      this.string();
      const onPath = level >= 0 && level < this.pointer.length && this.keyIs(keyStart, this.i, level);
      this.space();
      if (b[this.i] !== 0x3a) throw NOT_JSON;
      this.i++;
      this.value(depth, onPath ? level + 1 : -1);
      this.space();
      const next = b[this.i++];
      if (next === 0x7d) return;
      if (next !== 0x2c) throw NOT_JSON;
    }
  }

  private array(depth: number, level: number): void {
    if (depth > MAX_JSON_DEPTH) throw NOT_JSON;
    const { b } = this;
    this.i++;
    this.space();
    if (b[this.i] === 0x5d) {
      this.i++;
      return;
    }
    const wanted = level >= 0 && level < this.pointer.length ? this.indexes[level]! : -1;
    for (let index = 0; ; index++) {
      this.value(depth, index === wanted ? level + 1 : -1);
      this.space();
      const next = b[this.i++];
      if (next === 0x5d) return;
      if (next !== 0x2c) throw NOT_JSON;
    }
  }

  /** Whether the key in `[start, end)` (quotes included) is the pointer's token at `level`. */
  private keyIs(start: number, end: number, level: number): boolean {
    const token = this.pointer[level]!;
    if (!this.escaped) return end - start - 2 === this.lengths[level] && this.text(start + 1, end - 1) === token;
    return JSON.parse(this.text(start, end)) === token;
  }

  private string(): void {
    const { b } = this;
    let i = this.i + 1;
    this.escaped = false;
    for (;;) {
      const c = b[i];
      if (c === undefined || c < 0x20) throw NOT_JSON;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        this.escaped = true;
        const e = b[i + 1];
        if (e === 0x75) {
          for (let k = i + 2; k < i + 6; k++) if (!isHex(b[k])) throw NOT_JSON;
          i += 6;
        } else if (e !== undefined && ESCAPES.has(e)) i += 2;
        else throw NOT_JSON;
      } else i++;
    }
    this.i = i + 1;
  }

  private number(): void {
    const { b } = this;
    let i = this.i;
    if (b[i] === 0x2d) i++;
    if (b[i] === 0x30) i++;
    else if (isDigit(b[i]) && b[i] !== 0x30) while (isDigit(b[i])) i++;
    else throw NOT_JSON;
    if (b[i] === 0x2e) {
      i++;
      if (!isDigit(b[i])) throw NOT_JSON;
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (!isDigit(b[i])) throw NOT_JSON;
      while (isDigit(b[i])) i++;
    }
    this.i = i;
  }

  private literal(word: 'true' | 'false' | 'null'): void {
    for (let k = 0; k < word.length; k++) if (this.b[this.i + k] !== word.charCodeAt(k)) throw NOT_JSON;
    this.i += word.length;
  }

  private space(): void {
    const { b } = this;
    let c = b[this.i];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++this.i];
  }
}

/** The bytes after a backslash that make an escape, besides `u`: " \ / b f n r t. */
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}
