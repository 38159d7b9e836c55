/** `Journal` contract: appending an event and reading it back. */
import { describe, expect, it } from 'vitest';
import { comparable, hex, type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeAppend(backend: JournalBackend): void {
  describe('append and getEvent', () => {
    const { journal } = journalPerTest(backend);

    it('returns the stored event: the request as given, a unique id and a seq', async () => {
      const incoming = makeEvent({ destinations: ['crm', 'billing'] });
      const stored = await journal.append(incoming);
      expect(typeof stored.id).toBe('string');
      expect(stored.id.length).toBeGreaterThan(0);
      expect(Number.isInteger(stored.seq)).toBe(true);
      const { destinations: _, ...request } = incoming;
      expect(comparable(stored)).toEqual(comparable({ ...request, id: stored.id, seq: stored.seq }));
      expect(stored).not.toHaveProperty('destinations');
    });

    it('gives every event a distinct id and a strictly increasing seq', async () => {
      const seqs: number[] = [];
      const ids = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const stored = await journal.append(makeEvent({ receivedAt: T0 + i }));
        seqs.push(stored.seq);
        ids.add(stored.id);
      }
      expect(ids.size).toBe(5);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    });

    it('gives concurrent appends distinct ids and seqs', async () => {
      const stored = await Promise.all(
        Array.from({ length: 20 }, (_, i) => journal.append(makeEvent({ receivedAt: T0 + i }))),
      );
      expect(new Set(stored.map((e) => e.id)).size).toBe(20);
      expect(new Set(stored.map((e) => e.seq)).size).toBe(20);
      for (const e of stored) expect((await journal.getEvent(e.id))?.receivedAt).toBe(e.receivedAt);
    });

    it('reads the request back byte-exact: repeated headers in order and case, binary body, query, remote address', async () => {
      // Every byte value, then sequences that are not valid UTF-8 (lone continuation, truncated
      // and overlong sequences, a UTF-16 surrogate encoded as UTF-8, 0xFE/0xFF).
      const body = new Uint8Array([
        ...Array.from({ length: 256 }, (_, i) => i),
        0x80,
        0xc3,
        0x28,
        0xe2,
        0x82,
        0xc0,
        0xaf,
        0xed,
        0xa0,
        0x80,
        0xfe,
        0xff,
        0x00,
        0x00,
      ]);
      const incoming = makeEvent({
        method: 'PUT',
        path: '/hooks/github/%E2%9C%93',
        query: 'a=1&a=2&b=%20x&empty=&flag',
        headers: [
          ['X-Dup', 'first'],
          ['Content-Type', 'application/octet-stream'],
          ['x-dup', 'second'],
          ['X-DUP', 'third'],
          ['X-Spaces', '  padded value  '],
          ['X-Latin1', 'caf\u00e9'],
          ['X-Empty', ''],
        ],
        body,
        remoteAddr: '2001:db8::1',
        receivedAt: T0 + 123,
      });
      const stored = await journal.append(incoming);
      const read = await journal.getEvent(stored.id);
      expect(read).toBeDefined();
      expect(comparable(read!)).toEqual(comparable(stored));
      expect(read!.headers).toEqual(incoming.headers);
      expect(hex(read!.body)).toBe(hex(body));
      expect(read!.body.byteLength).toBe(body.byteLength);
      expect(read!.query).toBe('a=1&a=2&b=%20x&empty=&flag');
      expect(read!.method).toBe('PUT');
    });

    it('stores an empty body, no headers and a null remote address', async () => {
      const stored = await journal.append(
        makeEvent({ body: new Uint8Array(0), headers: [], remoteAddr: null, query: '' }),
      );
      const read = await journal.getEvent(stored.id);
      expect(read!.body.byteLength).toBe(0);
      expect(read!.headers).toEqual([]);
      expect(read!.remoteAddr).toBeNull();
      expect(read!.query).toBe('');
    });

    it('stores only the bytes of a body that is a view into a larger buffer', async () => {
      const backing = new Uint8Array([9, 9, 9, 1, 2, 3, 4, 9, 9]);
      const stored = await journal.append(makeEvent({ body: backing.subarray(3, 7) }));
      expect(hex((await journal.getEvent(stored.id))!.body)).toBe('01020304');
    });

    it('creates one pending delivery per destination, with no attempts yet', async () => {
      const stored = await journal.append(makeEvent({ destinations: ['crm', 'billing', 'audit'] }));
      const read = await journal.getEvent(stored.id);
      expect(read!.deliveries.map((d) => d.destination).sort()).toEqual(['audit', 'billing', 'crm']);
      expect(new Set(read!.deliveries.map((d) => d.id)).size).toBe(3);
      for (const d of read!.deliveries) {
        expect(d).toMatchObject({
          status: 'pending',
          attempts: 0,
          finishedAt: null,
          lastError: null,
          attemptLog: [],
        });
        expect(d.dueAt).not.toBeNull();
      }
      for (const destination of ['crm', 'billing', 'audit']) {
        expect(await journal.countDeliveries(destination)).toEqual({
          pending: 1,
          in_flight: 0,
          delivered: 0,
          dead: 0,
        });
      }
    });

    it('getEvent resolves undefined for an unknown id', async () => {
      await journal.append(makeEvent());
      expect(await journal.getEvent('00000000-0000-7000-8000-000000000000')).toBeUndefined();
      expect(await journal.getEvent('')).toBeUndefined();
    });
  });
}
