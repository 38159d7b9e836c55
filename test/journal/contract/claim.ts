/** `Journal` contract: leasing due deliveries, and when the next one is due. */
import { describe, expect, it } from 'vitest';
import { comparable, type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeClaim(backend: JournalBackend): void {
  describe('claim', () => {
    const { journal, claim, claimOne, attemptOf, deliveryOf } = journalPerTest(backend);

    it('leases a new delivery with attempt 1 and the full event', async () => {
      const stored = await journal.append(makeEvent({ body: new Uint8Array([0xff, 0x00, 0xfe]) }));
      const c = await claimOne('crm', T0 + 5, { leaseMs: 1_000 });
      expect(c.destination).toBe('crm');
      expect(c.attempt).toBe(1);
      expect(c.leaseUntil).toBe(T0 + 5 + 1_000);
      expect(comparable(c.event)).toEqual(comparable(stored));
      const d = await deliveryOf(stored.id, 'crm');
      expect(d.id).toBe(c.deliveryId);
      expect(d.status).toBe('in_flight');
      expect(d.attempts).toBe(1);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 1, delivered: 0, dead: 0 });
    });

    it('hands out nothing when there is nothing for the destination', async () => {
      expect(await claim('crm', T0)).toEqual([]);
      await journal.append(makeEvent({ destinations: ['billing'] }));
      expect(await claim('crm', T0 + 1_000)).toEqual([]);
    });

    it('respects the limit, and never hands out the same delivery twice while leased', async () => {
      for (let i = 0; i < 5; i++) await journal.append(makeEvent({ receivedAt: T0 + i }));
      const first = await claim('crm', T0 + 100, { limit: 2 });
      expect(first).toHaveLength(2);
      const rest = await claim('crm', T0 + 101, { limit: 10 });
      expect(rest).toHaveLength(3);
      const ids = [...first, ...rest].map((c) => c.deliveryId);
      expect(new Set(ids).size).toBe(5);
      expect(await claim('crm', T0 + 102)).toEqual([]);
    });

    it('does not lease a delivery again until its lease expires', async () => {
      await journal.append(makeEvent());
      const c = await claimOne('crm', T0, { leaseMs: 1_000 });
      expect(await claim('crm', T0 + 1, { leaseMs: 1_000 })).toEqual([]);
      expect(await claim('crm', c.leaseUntil - 1, { leaseMs: 1_000 })).toEqual([]);
    });

    it('after the lease expired, leases it again with the next attempt number and records the abandoned attempt', async () => {
      const stored = await journal.append(makeEvent());
      const first = await claimOne('crm', T0, { leaseMs: 1_000 });
      expect(first.attempt).toBe(1);
      const second = await claimOne('crm', first.leaseUntil + 1, { leaseMs: 1_000 });
      expect(second.deliveryId).toBe(first.deliveryId);
      expect(second.attempt).toBe(2);
      expect(second.leaseUntil).toBe(first.leaseUntil + 1 + 1_000);
      const d = await deliveryOf(stored.id, 'crm');
      expect(d.status).toBe('in_flight');
      expect(d.attempts).toBe(2);
      // Attempt 1 never reported: it is on record as abandoned (no answer, an error saying why).
      expect(d.attemptLog).toHaveLength(1);
      expect(d.attemptLog[0]!.attempt).toBe(1);
      expect(d.attemptLog[0]!.status).toBeUndefined();
      expect(d.attemptLog[0]!.error).toEqual(expect.any(String));
      expect(d.attemptLog[0]!.error!.length).toBeGreaterThan(0);

      const third = await claimOne('crm', second.leaseUntil + 1, { leaseMs: 1_000 });
      expect(third.attempt).toBe(3);
      expect((await deliveryOf(stored.id, 'crm')).attemptLog.map((a) => a.attempt)).toEqual([1, 2]);
    });

    it('leases only due deliveries, earliest due first', async () => {
      const stored = [];
      for (let i = 0; i < 3; i++) stored.push(await journal.append(makeEvent({ receivedAt: T0 + i })));
      const claims = await claim('crm', T0 + 10);
      expect(claims).toHaveLength(3);
      // Retries in an order unrelated to ingest order: 1st event at +1200, 2nd at +1300, 3rd at +1100.
      const retryAt = [T0 + 1_200, T0 + 1_300, T0 + 1_100];
      for (const c of claims) {
        const index = stored.findIndex((e) => e.id === c.event.id);
        expect(
          await journal.complete(c, attemptOf(c, T0 + 20, { status: 503, error: 'HTTP 503' }), {
            kind: 'retry',
            at: retryAt[index]!,
          }),
        ).toBe(true);
      }
      expect(await claim('crm', T0 + 1_099)).toEqual([]);
      const one = await claim('crm', T0 + 1_100);
      expect(one.map((c) => c.event.id)).toEqual([stored[2]!.id]);
      expect(one[0]!.attempt).toBe(2);
      const both = await claim('crm', T0 + 5_000);
      expect(both.map((c) => c.event.id)).toEqual([stored[0]!.id, stored[1]!.id]);
    });

    it('with a limit, takes the earliest due ones', async () => {
      const stored = [];
      for (let i = 0; i < 4; i++) stored.push(await journal.append(makeEvent({ receivedAt: T0 + i })));
      const claims = await claim('crm', T0 + 10);
      const retryAt = new Map([
        [stored[0]!.id, T0 + 400],
        [stored[1]!.id, T0 + 100],
        [stored[2]!.id, T0 + 300],
        [stored[3]!.id, T0 + 200],
      ]);
      for (const c of claims) {
        await journal.complete(c, attemptOf(c, T0 + 20, { status: 500, error: 'HTTP 500' }), {
          kind: 'retry',
          at: retryAt.get(c.event.id)!,
        });
      }
      const two = await claim('crm', T0 + 1_000, { limit: 2 });
      expect(two.map((c) => c.event.id)).toEqual([stored[1]!.id, stored[3]!.id]);
    });
  });

  describe('nextDueAt', () => {
    const { journal, claim, claimOne, attemptOf, finish } = journalPerTest(backend);

    it('is undefined for an idle destination', async () => {
      expect(await journal.nextDueAt('crm', false)).toBeUndefined();
      expect(await journal.nextDueAt('crm', true)).toBeUndefined();
      await journal.append(makeEvent({ destinations: ['billing'] }));
      expect(await journal.nextDueAt('crm', false)).toBeUndefined();
      expect(await journal.nextDueAt('crm', true)).toBeUndefined();
    });

    it('for a new delivery, is a time at which it can be claimed', async () => {
      await journal.append(makeEvent({ receivedAt: T0 + 7 }));
      for (const fifo of [false, true]) {
        const due = await journal.nextDueAt('crm', fifo);
        expect(due).toEqual(expect.any(Number));
        expect(due!).toBeLessThanOrEqual(T0 + 7);
      }
      const due = (await journal.nextDueAt('crm', false))!;
      expect(await claim('crm', due)).toHaveLength(1);
    });

    it('for a leased delivery, is the end of its lease', async () => {
      await journal.append(makeEvent());
      const c = await claimOne('crm', T0, { leaseMs: 5_000 });
      expect(await journal.nextDueAt('crm', false)).toBe(c.leaseUntil);
      expect(await journal.nextDueAt('crm', true)).toBe(c.leaseUntil);
    });

    it('non-fifo: the earliest due time; fifo: the due time of the head', async () => {
      await journal.append(makeEvent({ receivedAt: T0 }));
      await journal.append(makeEvent({ receivedAt: T0 + 1 }));
      const head = await claimOne('crm', T0, { limit: 1 });
      await journal.complete(head, attemptOf(head, T0, { status: 503, error: 'HTTP 503' }), {
        kind: 'retry',
        at: T0 + 90_000,
      });
      const other = await claimOne('crm', T0 + 1, { limit: 1 });
      await journal.complete(other, attemptOf(other, T0 + 1, { status: 503, error: 'HTTP 503' }), {
        kind: 'retry',
        at: T0 + 40_000,
      });
      expect(await journal.nextDueAt('crm', false)).toBe(T0 + 40_000);
      expect(await journal.nextDueAt('crm', true)).toBe(T0 + 90_000);
    });

    it('skips finished deliveries', async () => {
      await journal.append(makeEvent({ receivedAt: T0 }));
      await journal.append(makeEvent({ receivedAt: T0 + 1 }));
      const head = await claimOne('crm', T0, { limit: 1, fifo: true });
      await finish(head, T0 + 5, 'dead');
      const other = await claimOne('crm', T0 + 6, { limit: 1 });
      await journal.complete(other, attemptOf(other, T0 + 6, { status: 503, error: 'HTTP 503' }), {
        kind: 'retry',
        at: T0 + 70_000,
      });
      expect(await journal.nextDueAt('crm', false)).toBe(T0 + 70_000);
      expect(await journal.nextDueAt('crm', true)).toBe(T0 + 70_000);
      const last = await claimOne('crm', T0 + 70_000);
      await finish(last, T0 + 70_010, 'delivered');
      expect(await journal.nextDueAt('crm', false)).toBeUndefined();
      expect(await journal.nextDueAt('crm', true)).toBeUndefined();
    });
  });
}
