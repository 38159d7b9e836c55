/** `Journal` contract: counts and statistics per destination. */
import { describe, expect, it } from 'vitest';
import type { AppendResult, DestinationStats } from '../../../src/journal/port.js';
import { type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeStats(backend: JournalBackend): void {
  describe('countDeliveries', () => {
    const { journal, claim, attemptOf, finish } = journalPerTest(backend);

    it('counts each status for the destination', async () => {
      for (let i = 0; i < 6; i++)
        await journal.append(makeEvent({ receivedAt: T0 + i, destinations: ['crm', 'other'] }));
      const claims = await claim('crm', T0 + 10, { limit: 4 });
      expect(claims).toHaveLength(4);
      await finish(claims[0]!, T0 + 20, 'delivered');
      await finish(claims[1]!, T0 + 20, 'delivered');
      await finish(claims[2]!, T0 + 20, 'dead');
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 2, in_flight: 1, delivered: 2, dead: 1 });
      expect(await journal.countDeliveries('other')).toEqual({ pending: 6, in_flight: 0, delivered: 0, dead: 0 });
      await journal.complete(claims[3]!, attemptOf(claims[3]!, T0 + 20, { status: 500, error: 'HTTP 500' }), {
        kind: 'retry',
        at: T0 + 100,
      });
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 3, in_flight: 0, delivered: 2, dead: 1 });
    });
  });

  describe('destinationStats', () => {
    const { journal, claim, claimOne, attemptOf, finish } = journalPerTest(backend);

    const zero: DestinationStats = {
      pending: 0,
      inFlight: 0,
      retrying: 0,
      dead: 0,
      deliveredLastHour: 0,
      deliveredLastMinute: 0,
      oldestUnfinishedAt: undefined,
    };

    it('counts pending, retrying, in flight, dead and recently delivered per destination, with the oldest unfinished event', async () => {
      expect(await journal.destinationStats('crm', T0)).toEqual(zero);
      const stored: AppendResult[] = [];
      for (let i = 0; i < 6; i++)
        stored.push(await journal.append(makeEvent({ receivedAt: T0 + i, destinations: ['crm', 'billing'] })));
      const claims = await claim('crm', T0 + 10, { limit: 4 });
      const byIndex = (i: number) => claims.find((c) => c.event.id === stored[i]!.id)!;
      expect(claims.map((c) => c.event.id).sort()).toEqual(
        stored
          .slice(0, 4)
          .map((e) => e.id)
          .sort(),
      );
      expect(await finish(byIndex(0), T0 + 20, 'delivered')).toBe(true);
      expect(await finish(byIndex(1), T0 + 20, 'dead')).toBe(true);
      const retrying = byIndex(2);
      expect(
        await journal.complete(retrying, attemptOf(retrying, T0 + 20, { status: 503, error: 'HTTP 503' }), {
          kind: 'retry',
          at: T0 + 100_000,
        }),
      ).toBe(true);
      // stored[3] stays in flight; stored[4] and [5] were never tried.

      expect(await journal.destinationStats('crm', T0 + 30)).toEqual({
        pending: 2,
        inFlight: 1,
        retrying: 1,
        dead: 1,
        deliveredLastHour: 1,
        deliveredLastMinute: 1,
        oldestUnfinishedAt: T0 + 2,
      });
      expect(await journal.destinationStats('billing', T0 + 30)).toEqual({
        ...zero,
        pending: 6,
        oldestUnfinishedAt: T0,
      });
      expect(await journal.destinationStats('unknown', T0 + 30)).toEqual(zero);

      expect(await finish(byIndex(3), T0 + 40, 'delivered')).toBe(true);
      const rest = await claim('crm', T0 + 100_000);
      expect(rest.map((c) => c.event.id).sort()).toEqual([stored[2]!.id, stored[4]!.id, stored[5]!.id].sort());
      expect(await journal.destinationStats('crm', T0 + 100_000)).toMatchObject({
        pending: 0,
        retrying: 0,
        inFlight: 3,
        oldestUnfinishedAt: T0 + 2,
      });
      for (const c of rest) expect(await finish(c, T0 + 100_010, 'delivered')).toBe(true);
      expect(await journal.destinationStats('crm', T0 + 100_020)).toEqual({
        ...zero,
        dead: 1,
        deliveredLastHour: 5,
        // The two finished at T0 + 20 and T0 + 40 are more than a minute old now.
        deliveredLastMinute: 3,
        oldestUnfinishedAt: undefined,
      });
    });

    it('deliveredLastHour and deliveredLastMinute count deliveries by finish time, relative to `now`', async () => {
      const H = 3_600_000;
      const N = T0 + 3 * H;
      for (let i = 0; i < 4; i++) await journal.append(makeEvent({ receivedAt: T0 + i }));
      const claims = await claim('crm', T0 + 10);
      expect(claims).toHaveLength(4);
      expect(await finish(claims[0]!, N - 2 * H, 'delivered')).toBe(true);
      expect(await finish(claims[1]!, N - 30 * 60_000, 'delivered')).toBe(true);
      expect(await finish(claims[2]!, N - 10_000, 'delivered')).toBe(true);
      // A dead delivery is not "delivered", however recent.
      expect(await finish(claims[3]!, N - 5_000, 'dead')).toBe(true);

      const figures = async (now: number) => {
        const s = await journal.destinationStats('crm', now);
        return [s.deliveredLastHour, s.deliveredLastMinute, s.dead];
      };
      expect(await figures(N)).toEqual([2, 1, 1]);
      expect(await figures(N + 2 * 60_000)).toEqual([2, 0, 1]);
      expect(await figures(N + 45 * 60_000)).toEqual([1, 0, 1]);
      expect(await figures(N + 2 * H)).toEqual([0, 0, 1]);
    });

    it('a replayed delivery counts as pending, and as retrying only after an attempt since the replay failed', async () => {
      await journal.append(makeEvent({ receivedAt: T0 }));
      const c = await claimOne('crm', T0);
      await journal.complete(c, attemptOf(c, T0, { status: 503, error: 'HTTP 503' }), {
        kind: 'retry',
        at: T0 + 1_000,
      });
      expect(await journal.destinationStats('crm', T0 + 10)).toMatchObject({ pending: 0, retrying: 1 });
      expect(await finish(await claimOne('crm', T0 + 1_000), T0 + 1_010, 'dead')).toBe(true);
      expect(await journal.destinationStats('crm', T0 + 2_000)).toEqual({ ...zero, dead: 1 });

      expect(await journal.replay({}, T0 + 5_000)).toBe(1);
      expect(await journal.destinationStats('crm', T0 + 5_000)).toEqual({
        ...zero,
        pending: 1,
        oldestUnfinishedAt: T0,
      });
      const again = await claimOne('crm', T0 + 5_000);
      expect(await journal.destinationStats('crm', T0 + 5_000)).toEqual({
        ...zero,
        inFlight: 1,
        oldestUnfinishedAt: T0,
      });
      await journal.complete(again, attemptOf(again, T0 + 5_000, { status: 503, error: 'HTTP 503' }), {
        kind: 'retry',
        at: T0 + 9_000,
      });
      expect(await journal.destinationStats('crm', T0 + 5_100)).toEqual({
        ...zero,
        retrying: 1,
        oldestUnfinishedAt: T0,
      });
    });
  });
}
