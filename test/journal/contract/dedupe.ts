/** `Journal` contract: deduplication keys on append. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IncomingEvent } from '../../../src/journal/port.js';
import { hex, type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeDedupe(backend: JournalBackend): void {
  describe('dedupe', () => {
    const { journal } = journalPerTest(backend);

    /** An event carrying a deduplication key whose window ends at `until`. */
    function keyed(key: string, until: number, overrides: Partial<IncomingEvent> = {}): IncomingEvent {
      return makeEvent({ dedupe: { key, until }, ...overrides });
    }

    it('a duplicate within the window stores nothing and resolves the original id and seq', async () => {
      const original = await journal.append(
        keyed('evt_1', T0 + 1_000, { receivedAt: T0, body: new TextEncoder().encode('first') }),
      );
      expect(original.duplicate).toBe(false);

      const again = await journal.append(
        keyed('evt_1', T0 + 5_000, {
          receivedAt: T0 + 999,
          body: new TextEncoder().encode('second'),
          destinations: ['crm', 'billing'],
        }),
      );
      expect(again.duplicate).toBe(true);
      expect(again.id).toBe(original.id);
      expect(again.seq).toBe(original.seq);

      // Nothing of the duplicate was stored: no event, no delivery (not even to its other destination).
      expect(hex((await journal.getEvent(original.id))!.body)).toBe(hex(new TextEncoder().encode('first')));
      expect((await journal.getEvent(original.id))!.deliveries.map((d) => d.destination)).toEqual(['crm']);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 0 });
      expect(await journal.countDeliveries('billing')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 0 });
      expect((await journal.listEvents({ limit: 10 })).events.map((e) => e.id)).toEqual([original.id]);
    });

    it('takes any key a sender can send (very long, or with NUL), without failing the events committed with it', async () => {
      // Random, so that no compression makes it small (a btree entry must fit in a third of a page).
      const long = randomBytes(10_000).toString('hex');
      const nul = 'a\u0000b';
      // Appended together, so that they share a group commit where the backend has one.
      const [a, b, plain] = await Promise.all([
        journal.append(keyed(long, T0 + 1_000)),
        journal.append(keyed(nul, T0 + 1_000)),
        journal.append(makeEvent()),
      ]);
      expect([a!.duplicate, b!.duplicate, plain!.duplicate]).toEqual([false, false, false]);
      expect(await journal.append(keyed(long, T0 + 1_000, { receivedAt: T0 + 1 }))).toMatchObject({
        duplicate: true,
        id: a!.id,
      });
      expect(await journal.append(keyed(nul, T0 + 1_000, { receivedAt: T0 + 1 }))).toMatchObject({
        duplicate: true,
        id: b!.id,
      });
      // A key differing only past the stored prefix is another key.
      expect((await journal.append(keyed(`${long}x`, T0 + 1_000, { receivedAt: T0 + 1 }))).duplicate).toBe(false);
    });

    it('the window is the original one, compared with receivedAt: after `until` a new event is stored and becomes the original', async () => {
      const first = await journal.append(keyed('evt_1', T0 + 1_000, { receivedAt: T0 }));
      // A duplicate does not extend the window, whatever `until` it carries.
      expect((await journal.append(keyed('evt_1', T0 + 100_000, { receivedAt: T0 + 500 }))).id).toBe(first.id);

      const second = await journal.append(keyed('evt_1', T0 + 10_000, { receivedAt: T0 + 1_001 }));
      expect(second.duplicate).toBe(false);
      expect(second.id).not.toBe(first.id);
      expect(second.seq).toBeGreaterThan(first.seq);

      // From now on the key points at the second event, within its own window.
      const third = await journal.append(keyed('evt_1', T0 + 20_000, { receivedAt: T0 + 9_999 }));
      expect(third).toMatchObject({ duplicate: true, id: second.id, seq: second.seq });
      const fourth = await journal.append(keyed('evt_1', T0 + 20_000, { receivedAt: T0 + 10_001 }));
      expect(fourth.duplicate).toBe(false);
      expect(new Set([first.id, second.id, fourth.id]).size).toBe(3);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 3, in_flight: 0, delivered: 0, dead: 0 });
    });

    it('keys are per source, and events without a key or with another key are never duplicates', async () => {
      const stripe = await journal.append(keyed('k', T0 + 1_000, { source: 'stripe' }));
      const github = await journal.append(keyed('k', T0 + 1_000, { source: 'github' }));
      expect(github.duplicate).toBe(false);
      expect(github.id).not.toBe(stripe.id);
      expect(await journal.append(keyed('k', T0 + 1_000, { source: 'stripe', receivedAt: T0 + 1 }))).toMatchObject({
        duplicate: true,
        id: stripe.id,
      });
      expect(await journal.append(keyed('k', T0 + 1_000, { source: 'github', receivedAt: T0 + 1 }))).toMatchObject({
        duplicate: true,
        id: github.id,
      });

      const other = await journal.append(keyed('other', T0 + 1_000, { source: 'stripe', receivedAt: T0 + 2 }));
      const plain1 = await journal.append(makeEvent({ receivedAt: T0 + 3 }));
      const plain2 = await journal.append(makeEvent({ receivedAt: T0 + 3 }));
      for (const e of [other, plain1, plain2]) expect(e.duplicate).toBe(false);
      expect(new Set([stripe.id, github.id, other.id, plain1.id, plain2.id]).size).toBe(5);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 5, in_flight: 0, delivered: 0, dead: 0 });
    });

    it('concurrent identical appends store exactly one event', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => journal.append(keyed('same', T0 + 60_000, { receivedAt: T0 + i }))),
      );
      const stored = results.filter((r) => !r.duplicate);
      expect(stored).toHaveLength(1);
      for (const r of results) expect({ id: r.id, seq: r.seq }).toEqual({ id: stored[0]!.id, seq: stored[0]!.seq });
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 0 });
      expect((await journal.listEvents({ limit: 100 })).events).toHaveLength(1);
    });

    it('purge forgets the keys whose window ended before dedupeBefore, and only those', async () => {
      const short = await journal.append(keyed('short', T0 + 1_000));
      const long = await journal.append(keyed('long', T0 + 5_000));
      // No event is finished: purge deletes none, whatever it does with keys.
      expect(await journal.purge({ deliveredBefore: T0, deadBefore: T0, dedupeBefore: T0 + 2_000 }, 100)).toBe(0);
      expect(await journal.getEvent(short.id)).toBeDefined();

      // Same receive time as before, so only the forgotten key can make a difference.
      const afterShort = await journal.append(keyed('short', T0 + 1_000, { receivedAt: T0 + 500 }));
      expect(afterShort.duplicate).toBe(false);
      expect(afterShort.id).not.toBe(short.id);
      expect(await journal.append(keyed('long', T0 + 5_000, { receivedAt: T0 + 500 }))).toMatchObject({
        duplicate: true,
        id: long.id,
      });
    });

    it('deleting the original event forgets its key', async () => {
      const original = await journal.append(keyed('evt_1', T0 + 60_000));
      expect(await journal.deleteEvent(original.id)).toBe(true);
      const again = await journal.append(keyed('evt_1', T0 + 60_000, { receivedAt: T0 + 1 }));
      expect(again.duplicate).toBe(false);
      expect(again.id).not.toBe(original.id);
      expect((await journal.getEvent(again.id))?.deliveries).toHaveLength(1);
      expect(await journal.append(keyed('evt_1', T0 + 60_000, { receivedAt: T0 + 2 }))).toMatchObject({
        duplicate: true,
        id: again.id,
      });
    });
  });
}
