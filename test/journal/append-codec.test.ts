/**
 * The encoding the appends of one message take to the SQLite writer: every field comes back as it
 * went (header names' case, order and repeats, any string, bodies byte for byte), and an append it
 * cannot carry is refused rather than altered.
 */
import { describe, expect, it } from 'vitest';
import type { IncomingEvent } from '../../src/journal/port.js';
import { AppendEncoder, decodeAppends } from '../../src/journal/sqlite/append-codec.js';
import { makeEvent } from './contract/index.js';

describe('append encoding', () => {
  it('gives back every field of every append, in order', () => {
    const events: IncomingEvent[] = [
      makeEvent({
        headers: [
          ['X-Sig', 'a'],
          ['x-sig', 'b'],
          ['Content-Type', 'application/json; charset=ütf'],
          ['X-Empty', ''],
        ],
        body: new Uint8Array([0, 255, 1, 254]),
        remoteAddr: null,
        query: 'a=1&b=%C3%A9',
        source: 'sørce-\u{1F600}',
        dedupe: { key: 'k-\uD800-lone', until: 1_700_000_000_123.5 },
        orderKeys: { crm: 'customer-\u00e9', __proto__x: '' },
      }),
      makeEvent({ body: new Uint8Array(0), destinations: [], headers: [] }),
      makeEvent({ body: new TextEncoder().encode('x'.repeat(70_000)), remoteAddr: '::1' }),
    ];
    const encoder = new AppendEncoder();
    for (const [i, event] of events.entries()) expect(encoder.add({ id: `id-${i}`, event })).toBe(true);
    const decoded = decodeAppends(encoder.finish());
    expect(decoded.map((d) => d.id)).toEqual(['id-0', 'id-1', 'id-2']);
    decoded.forEach(({ event }, i) => {
      const { body, orderKeys, ...rest } = event;
      const { body: sent, orderKeys: sentKeys, ...sentRest } = events[i]!;
      expect(rest).toEqual(sentRest);
      expect({ ...orderKeys }).toEqual(sentKeys ?? {});
      expect(Buffer.from(body).equals(Buffer.from(sent))).toBe(true);
    });
  });

  it('refuses an append with a field of the wrong type, and keeps the others whole', () => {
    const encoder = new AppendEncoder();
    expect(encoder.add({ id: 'a', event: makeEvent({ source: 'first' }) })).toBe(true);
    const faulty = { ...makeEvent(), headers: [['x', 1]] } as unknown as IncomingEvent;
    expect(encoder.add({ id: 'b', event: faulty })).toBe(false);
    expect(encoder.add({ id: 'c', event: { ...makeEvent(), body: null } as unknown as IncomingEvent })).toBe(false);
    expect(encoder.add({ id: 'd', event: makeEvent({ source: 'last' }) })).toBe(true);
    const decoded = decodeAppends(encoder.finish());
    expect(decoded.map((d) => [d.id, d.event.source])).toEqual([
      ['a', 'first'],
      ['d', 'last'],
    ]);
  });
});
