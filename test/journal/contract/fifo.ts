/** `Journal` contract: strict ingest order for fifo destinations. */
import { describe, expect, it } from 'vitest';
import { type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeFifo(backend: JournalBackend): void {
  describe('fifo', () => {
    const { journal, claim, claimOne, attemptOf, finish } = journalPerTest(backend);

    const fifo = { fifo: true } as const;

    it('only the oldest unfinished delivery is claimable, whatever the limit', async () => {
      const stored = [];
      for (let i = 0; i < 3; i++) stored.push(await journal.append(makeEvent({ receivedAt: T0 + i })));
      const head = await claimOne('crm', T0 + 10, { ...fifo, limit: 10 });
      expect(head.event.id).toBe(stored[0]!.id);
      // The head is in flight: nothing behind it may go.
      expect(await claim('crm', T0 + 11, { ...fifo, limit: 10 })).toEqual([]);
      expect(await finish(head, T0 + 20, 'delivered')).toBe(true);
      const next = await claimOne('crm', T0 + 21, { ...fifo, limit: 10 });
      expect(next.event.id).toBe(stored[1]!.id);
      expect(await finish(next, T0 + 30, 'delivered')).toBe(true);
      expect((await claimOne('crm', T0 + 31, fifo)).event.id).toBe(stored[2]!.id);
    });

    it('a retrying head holds back later events until it is due', async () => {
      const stored = [];
      for (let i = 0; i < 3; i++) stored.push(await journal.append(makeEvent({ receivedAt: T0 + i })));
      const head = await claimOne('crm', T0 + 10, fifo);
      const at = T0 + 60_000;
      expect(
        await journal.complete(head, attemptOf(head, T0 + 10, { status: 503, error: 'HTTP 503' }), {
          kind: 'retry',
          at,
        }),
      ).toBe(true);
      // Later events are due (non-fifo would hand them out), but the head is not yet.
      expect(await claim('crm', at - 1, fifo)).toEqual([]);
      expect(await journal.nextDueAt('crm', true)).toBe(at);
      const again = await claimOne('crm', at, fifo);
      expect(again.event.id).toBe(stored[0]!.id);
      expect(again.attempt).toBe(2);
    });

    it('a finished (dead) head does not block the ones behind it', async () => {
      const stored = [];
      for (let i = 0; i < 2; i++) stored.push(await journal.append(makeEvent({ receivedAt: T0 + i })));
      const head = await claimOne('crm', T0 + 10, fifo);
      expect(await finish(head, T0 + 20, 'dead')).toBe(true);
      const next = await claimOne('crm', T0 + 21, fifo);
      expect(next.event.id).toBe(stored[1]!.id);
      expect(next.attempt).toBe(1);
    });

    it('an expired head lease is claimed again (same event, next attempt) before anything behind it', async () => {
      const stored = [];
      for (let i = 0; i < 2; i++) stored.push(await journal.append(makeEvent({ receivedAt: T0 + i })));
      const head = await claimOne('crm', T0 + 10, { ...fifo, leaseMs: 1_000 });
      expect(await claim('crm', head.leaseUntil - 1, fifo)).toEqual([]);
      const again = await claimOne('crm', head.leaseUntil + 1, { ...fifo, leaseMs: 1_000 });
      expect(again.event.id).toBe(stored[0]!.id);
      expect(again.attempt).toBe(2);
    });

    it('orders by ingest, not by due time', async () => {
      const first = await journal.append(makeEvent({ receivedAt: T0 + 500 }));
      await journal.append(makeEvent({ receivedAt: T0 }));
      // Non-fifo would take the second (due earlier); fifo waits for the first.
      expect(await claim('crm', T0 + 100, fifo)).toEqual([]);
      expect((await claimOne('crm', T0 + 500, fifo)).event.id).toBe(first.id);
    });

    it('is per destination: a blocked head of one destination does not hold back another', async () => {
      const a = await journal.append(makeEvent({ destinations: ['crm', 'billing'] }));
      const b = await journal.append(makeEvent({ destinations: ['crm', 'billing'], receivedAt: T0 + 1 }));
      const crmHead = await claimOne('crm', T0 + 10, fifo);
      await journal.complete(crmHead, attemptOf(crmHead, T0 + 10, { status: 503, error: 'HTTP 503' }), {
        kind: 'retry',
        at: T0 + 100_000,
      });
      const billing = await claimOne('billing', T0 + 10, fifo);
      expect(billing.event.id).toBe(a.id);
      expect(await finish(billing, T0 + 20, 'delivered')).toBe(true);
      expect((await claimOne('billing', T0 + 21, fifo)).event.id).toBe(b.id);
      expect(await claim('crm', T0 + 21, fifo)).toEqual([]);
    });
  });
}
