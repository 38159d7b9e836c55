/** `Journal` contract: replaying finished deliveries. */
import { describe, expect, it } from 'vitest';
import type { AppendResult } from '../../../src/journal/port.js';
import { type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeReplay(backend: JournalBackend): void {
  describe('replay', () => {
    const { journal, claim, claimOne, attemptOf, finish, deliveryOf } = journalPerTest(backend);

    it('makes a dead delivery pending again, due `now`, keeping its attempts on record and counting on with a fresh budget', async () => {
      const stored = await journal.append(makeEvent({ receivedAt: T0 }));
      const first = await claimOne('crm', T0);
      expect(first.budget).toEqual({ attemptsBefore: 0, since: T0 });
      await journal.complete(first, attemptOf(first, T0, { status: 503, error: 'HTTP 503' }), {
        kind: 'retry',
        at: T0 + 1_000,
      });
      const second = await claimOne('crm', T0 + 1_000);
      expect(second.attempt).toBe(2);
      expect(second.budget).toEqual({ attemptsBefore: 0, since: T0 });
      expect(await finish(second, T0 + 1_010, 'dead')).toBe(true);

      const replayAt = T0 + 3_600_000;
      expect(await journal.replay({}, replayAt)).toBe(1);
      const d = await deliveryOf(stored.id, 'crm');
      expect(d).toMatchObject({ status: 'pending', attempts: 2, dueAt: replayAt, finishedAt: null });
      expect(d.attemptLog.map((a) => a.attempt)).toEqual([1, 2]);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 0 });
      expect(await journal.nextDueAt('crm', false)).toBe(replayAt);

      // A late report of a claim from before the replay does not count.
      expect(await journal.complete(second, attemptOf(second, replayAt - 100), { kind: 'delivered' })).toBe(false);
      expect(await claim('crm', replayAt - 1)).toEqual([]);
      const third = await claimOne('crm', replayAt);
      expect(third.deliveryId).toBe(first.deliveryId);
      expect(third.event.id).toBe(stored.id);
      expect(third.attempt).toBe(3);
      expect(third.budget).toEqual({ attemptsBefore: 2, since: replayAt });

      // The budget stays that of the replay across retries…
      await journal.complete(third, attemptOf(third, replayAt, { status: 500, error: 'HTTP 500' }), {
        kind: 'retry',
        at: replayAt + 1_000,
      });
      const fourth = await claimOne('crm', replayAt + 1_000);
      expect(fourth.attempt).toBe(4);
      expect(fourth.budget).toEqual({ attemptsBefore: 2, since: replayAt });
      expect(await finish(fourth, replayAt + 1_010, 'dead')).toBe(true);

      // …and a second replay starts another one.
      expect(await journal.replay({}, replayAt + 7_200_000)).toBe(1);
      const fifth = await claimOne('crm', replayAt + 7_200_000);
      expect(fifth.attempt).toBe(5);
      expect(fifth.budget).toEqual({ attemptsBefore: 4, since: replayAt + 7_200_000 });
      expect(await finish(fifth, replayAt + 7_200_010, 'delivered')).toBe(true);
      const done = await deliveryOf(stored.id, 'crm');
      expect(done).toMatchObject({ status: 'delivered', attempts: 5 });
      expect(done.attemptLog.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5]);
    });

    it('replays dead deliveries by default and delivered ones on request; pending and in-flight ones are never touched', async () => {
      const stored: AppendResult[] = [];
      for (let i = 0; i < 4; i++) stored.push(await journal.append(makeEvent({ receivedAt: T0 + i })));
      const [delivered, dead, inFlight, pending] = stored;
      const claims = await claim('crm', T0 + 10, { limit: 3 });
      expect(claims.map((c) => c.event.id)).toEqual([delivered!.id, dead!.id, inFlight!.id]);
      expect(await finish(claims[0]!, T0 + 20, 'delivered')).toBe(true);
      expect(await finish(claims[1]!, T0 + 20, 'dead')).toBe(true);
      const inFlightBefore = await deliveryOf(inFlight!.id, 'crm');
      const pendingBefore = await deliveryOf(pending!.id, 'crm');

      const now = T0 + 1_000;
      expect(await journal.replay({}, now)).toBe(1);
      expect(await deliveryOf(dead!.id, 'crm')).toMatchObject({ status: 'pending', dueAt: now });
      expect(await deliveryOf(delivered!.id, 'crm')).toMatchObject({
        status: 'delivered',
        finishedAt: T0 + 20,
        dueAt: null,
      });
      expect(await journal.replay({}, now)).toBe(0);

      expect(await journal.replay({ status: 'delivered' }, now + 1)).toBe(1);
      expect(await deliveryOf(delivered!.id, 'crm')).toMatchObject({
        status: 'pending',
        attempts: 1,
        dueAt: now + 1,
        finishedAt: null,
      });
      expect(await journal.replay({ status: 'delivered' }, now + 1)).toBe(0);

      // Not even when named explicitly.
      expect(await journal.replay({ eventId: inFlight!.id }, now + 2)).toBe(0);
      expect(await journal.replay({ eventId: pending!.id }, now + 2)).toBe(0);
      expect(await deliveryOf(inFlight!.id, 'crm')).toEqual(inFlightBefore);
      expect(await deliveryOf(pending!.id, 'crm')).toEqual(pendingBefore);
      expect(await journal.complete(claims[2]!, attemptOf(claims[2]!, T0 + 30), { kind: 'delivered' })).toBe(true);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 3, in_flight: 0, delivered: 1, dead: 0 });
      expect(await journal.replay({ eventId: 'no-such-event' }, now + 3)).toBe(0);
    });

    it('by eventId: all finished deliveries of that event, or only those of `status` or to `destination`', async () => {
      const outcomes = { crm: 'delivered', billing: 'dead', audit: 'dead' } as const;
      const shape = { destinations: ['crm', 'billing', 'audit', 'search'] };
      const x = await journal.append(makeEvent({ ...shape, receivedAt: T0 }));
      const y = await journal.append(makeEvent({ ...shape, receivedAt: T0 + 1 }));
      for (const [destination, verdict] of Object.entries(outcomes)) {
        for (const c of await claim(destination, T0 + 10)) expect(await finish(c, T0 + 20, verdict)).toBe(true);
      }
      const statuses = async (id: string) =>
        Object.fromEntries((await journal.getEvent(id))!.deliveries.map((d) => [d.destination, d.status]));
      const finished = { crm: 'delivered', billing: 'dead', audit: 'dead', search: 'pending' };

      expect(await journal.replay({ eventId: x.id, destination: 'billing' }, T0 + 100)).toBe(1);
      expect(await statuses(x.id)).toEqual({ ...finished, billing: 'pending' });
      expect(await journal.replay({ eventId: x.id }, T0 + 100)).toBe(2);
      expect(await statuses(x.id)).toEqual({
        crm: 'pending',
        billing: 'pending',
        audit: 'pending',
        search: 'pending',
      });
      // The other event was not touched.
      expect(await statuses(y.id)).toEqual(finished);

      expect(await journal.replay({ eventId: y.id, status: 'dead' }, T0 + 100)).toBe(2);
      expect(await statuses(y.id)).toEqual({ ...finished, billing: 'pending', audit: 'pending' });
      expect(await journal.replay({ eventId: y.id, status: 'delivered' }, T0 + 100)).toBe(1);
      expect(await statuses(y.id)).toEqual({
        crm: 'pending',
        billing: 'pending',
        audit: 'pending',
        search: 'pending',
      });
    });

    it('by destination and receive time [since, until)', async () => {
      const times = [T0, T0 + 1_000, T0 + 2_000, T0 + 3_000];
      const stored: AppendResult[] = [];
      for (const receivedAt of times)
        stored.push(await journal.append(makeEvent({ receivedAt, destinations: ['crm', 'billing'] })));
      for (const destination of ['crm', 'billing']) {
        const claims = await claim(destination, T0 + 3_000);
        expect(claims).toHaveLength(4);
        for (const c of claims) expect(await finish(c, T0 + 4_000, 'dead')).toBe(true);
      }
      const pendingOf = async (destination: string) => {
        const result: number[] = [];
        for (const [i, e] of stored.entries())
          if ((await deliveryOf(e.id, destination)).status === 'pending') result.push(i);
        return result;
      };

      expect(await journal.replay({ destination: 'crm', since: T0 + 1_000, until: T0 + 3_000 }, T0 + 5_000)).toBe(2);
      expect(await pendingOf('crm')).toEqual([1, 2]);
      expect(await pendingOf('billing')).toEqual([]);
      expect(await journal.replay({ since: T0 + 3_000 }, T0 + 5_000)).toBe(2);
      expect(await pendingOf('crm')).toEqual([1, 2, 3]);
      expect(await pendingOf('billing')).toEqual([3]);
      expect(await journal.replay({ until: T0 + 1_000 }, T0 + 5_000)).toBe(2);
      expect(await pendingOf('crm')).toEqual([0, 1, 2, 3]);
      expect(await pendingOf('billing')).toEqual([0, 3]);
      expect(await journal.replay({ destination: 'nowhere' }, T0 + 5_000)).toBe(0);
      expect(await journal.replay({}, T0 + 5_000)).toBe(2);
      expect(await pendingOf('billing')).toEqual([0, 1, 2, 3]);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 4, in_flight: 0, delivered: 0, dead: 0 });
    });

    it('replayed deliveries are claimed only after the live due ones of the destination, filling what they leave', async () => {
      const r1 = await journal.append(makeEvent({ receivedAt: T0 }));
      const r2 = await journal.append(makeEvent({ receivedAt: T0 + 1 }));
      for (const c of await claim('crm', T0 + 10)) expect(await finish(c, T0 + 20, 'dead')).toBe(true);
      expect(await journal.replay({}, T0 + 50)).toBe(2);

      // Live events of other destinations do not hold replays back.
      await journal.append(makeEvent({ receivedAt: T0 + 60, destinations: ['billing'] }));
      // Live events due after the replayed ones, and one not due yet.
      const l1 = await journal.append(makeEvent({ receivedAt: T0 + 100 }));
      const l2 = await journal.append(makeEvent({ receivedAt: T0 + 200 }));
      const l3 = await journal.append(makeEvent({ receivedAt: T0 + 300 }));
      const later = await journal.append(makeEvent({ receivedAt: T0 + 100_000 }));

      // Long leases: nothing claimed here comes due again during the test.
      const lease = { leaseMs: 10_000_000 };
      const one = await claimOne('crm', T0 + 1_000, { ...lease, limit: 1 });
      expect(one.event.id).toBe(l1.id);
      const three = await claim('crm', T0 + 1_000, { ...lease, limit: 3 });
      const ids = three.map((c) => c.event.id);
      expect(ids).toHaveLength(3);
      expect(ids).toEqual(expect.arrayContaining([l2.id, l3.id]));
      const replayedFirst = ids.find((id) => id !== l2.id && id !== l3.id);
      expect([r1.id, r2.id]).toContain(replayedFirst);
      const replayedClaim = three.find((c) => c.event.id === replayedFirst)!;
      expect(replayedClaim.attempt).toBe(2);
      expect(replayedClaim.budget).toEqual({ attemptsBefore: 1, since: T0 + 50 });

      // No live delivery is due (`later` is not yet): the other replayed one goes.
      const rest = await claim('crm', T0 + 1_000, { ...lease, limit: 10 });
      expect(rest.map((c) => c.event.id)).toEqual([replayedFirst === r1.id ? r2.id : r1.id]);
      expect((await claimOne('crm', T0 + 100_000)).event.id).toBe(later.id);
    });

    it('replays more than 1000 deliveries in one call', async () => {
      const count = 1_001;
      const stored = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          journal.append(makeEvent({ receivedAt: T0 + i, destinations: i < 2 ? ['crm', 'billing'] : ['crm'] })),
        ),
      );
      expect(new Set(stored.map((e) => e.id)).size).toBe(count);
      const claims = await claim('crm', T0 + count, { limit: 2 * count });
      expect(claims).toHaveLength(count);
      expect(await Promise.all(claims.map((c) => finish(c, T0 + 10_000, 'dead')))).toEqual(claims.map(() => true));
      for (const c of await claim('billing', T0 + count)) expect(await finish(c, T0 + 10_000, 'dead')).toBe(true);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: count });

      expect(await journal.replay({ destination: 'crm' }, T0 + 20_000)).toBe(count);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: count, in_flight: 0, delivered: 0, dead: 0 });
      expect(await journal.countDeliveries('billing')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 2 });
      const again = await claim('crm', T0 + 20_000, { limit: 2 * count });
      expect(again).toHaveLength(count);
      for (const c of again) expect(c.attempt).toBe(2);
    });
  });
}
