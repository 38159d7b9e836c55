/**
 * How the appends of one message cross to the writer thread: not as one structured-cloned object
 * graph per event (an op, its event, a header-pair array per header, the destinations), whose
 * cloning and rebuilding cost both threads a few µs per event, but as three flat values:
 *
 *   text     every string of every event, back to back (one string: cloned as one copy);
 *   numbers  a Float64Array of lengths (in UTF-16 code units, so any string comes back as it went,
 *            lone surrogates included), counts and times, its buffer transferred;
 *   bodies   every body's bytes, back to back in one ArrayBuffer, transferred.
 *
 * Per event, `numbers` holds: receivedAt, then the lengths of id, source, method, path, query and
 * remoteAddr (-1 for null), the number of header pairs and each name's and value's length (order,
 * case and repeats kept), the number of destinations and each one's length, the dedupe key's length
 * (-1 without dedupe) and its `until`, the number of order keys and each destination's and key's
 * length, and the body's length. `text` holds the strings in the same order.
 */
import type { IncomingEvent } from '../port.js';
import type { AppendItem } from './multi-row-writes.js';

/** The appends of one message, encoded. */
export interface EncodedAppends {
  text: string;
  numbers: Float64Array;
  bodies: ArrayBuffer;
}

/** Thrown for a value the encoding does not carry; its append then travels as it is. */
class NotEncodable extends Error {}

/**
 * Encodes the appends of one message, one by one (`add`), then all at once (`finish`: its buffers
 * are new, they can be transferred). An append whose fields are not all of their type is refused
 * (`add` answers false) and travels structured-cloned instead, so that the writer fails it alone,
 * as it fails any other faulty append.
 */
export class AppendEncoder {
  private readonly parts: string[] = [];
  private readonly numbers: number[] = [];
  private readonly bodyList: Uint8Array[] = [];
  private bodyBytes = 0;

  get size(): number {
    return this.bodyList.length;
  }

  add({ id, event: e }: AppendItem): boolean {
    const { parts, numbers } = this;
    const partsBefore = parts.length;
    const numbersBefore = numbers.length;
    const add = (s: string) => {
      if (typeof s !== 'string') throw new NotEncodable();
      parts.push(s);
      numbers.push(s.length);
    };
    try {
      if (!(e.body instanceof Uint8Array) || typeof e.receivedAt !== 'number') throw new NotEncodable();
      numbers.push(e.receivedAt);
      add(id);
      add(e.source);
      add(e.method);
      add(e.path);
      add(e.query);
      if (e.remoteAddr === null) numbers.push(-1);
      else add(e.remoteAddr);
      const { headers, destinations, dedupe, orderKeys } = e;
      numbers.push(headers.length);
      for (const [name, value] of headers) {
        add(name);
        add(value);
      }
      numbers.push(destinations.length);
      for (const d of destinations) add(d);
      if (dedupe) {
        add(dedupe.key);
        if (typeof dedupe.until !== 'number') throw new NotEncodable();
        numbers.push(dedupe.until);
      } else numbers.push(-1);
      if (orderKeys) {
        const entries = Object.entries(orderKeys);
        numbers.push(entries.length);
        for (const [destination, key] of entries) {
          add(destination);
          add(key);
        }
      } else numbers.push(0);
      numbers.push(e.body.byteLength);
    } catch {
      parts.length = partsBefore;
      numbers.length = numbersBefore;
      return false;
    }
    this.bodyList.push(e.body);
    this.bodyBytes += e.body.byteLength;
    return true;
  }

  finish(): EncodedAppends {
    const bodies = new Uint8Array(this.bodyBytes);
    let at = 0;
    for (const body of this.bodyList) {
      bodies.set(body, at);
      at += body.byteLength;
    }
    return { text: this.parts.join(''), numbers: new Float64Array(this.numbers), bodies: bodies.buffer };
  }
}

/** The items that an `AppendEncoder` encoded; each body is a view into `bodies`. */
export function decodeAppends({ text, numbers, bodies }: EncodedAppends): AppendItem[] {
  const items: AppendItem[] = [];
  let n = 0;
  let t = 0;
  let b = 0;
  const str = () => {
    const length = numbers[n++]!;
    const s = text.slice(t, t + length);
    t += length;
    return s;
  };
  while (n < numbers.length) {
    const receivedAt = numbers[n++]!;
    const id = str();
    const source = str();
    const method = str();
    const path = str();
    const query = str();
    let remoteAddr: string | null = null;
    if (numbers[n] === -1) n++;
    else remoteAddr = str();
    const headerCount = numbers[n++]!;
    const headers: [string, string][] = new Array(headerCount);
    for (let h = 0; h < headerCount; h++) headers[h] = [str(), str()];
    const destinationCount = numbers[n++]!;
    const destinations: string[] = new Array(destinationCount);
    for (let d = 0; d < destinationCount; d++) destinations[d] = str();
    let dedupe: { key: string; until: number } | undefined;
    if (numbers[n] === -1) n++;
    else {
      const key = str();
      dedupe = { key, until: numbers[n++]! };
    }
    const orderKeyCount = numbers[n++]!;
    let orderKeys: Record<string, string> | undefined;
    if (orderKeyCount > 0) {
      // No prototype: a destination named like an Object.prototype member stays a plain key.
      orderKeys = Object.create(null) as Record<string, string>;
      for (let k = 0; k < orderKeyCount; k++) {
        const destination = str();
        orderKeys[destination] = str();
      }
    }
    const bodyLength = numbers[n++]!;
    const body = new Uint8Array(bodies, b, bodyLength);
    b += bodyLength;
    const event: IncomingEvent = {
      source,
      method,
      path,
      query,
      headers,
      body,
      remoteAddr,
      receivedAt,
      destinations,
      dedupe,
      orderKeys,
    };
    items.push({ id, event });
  }
  return items;
}
