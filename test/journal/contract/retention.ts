/** `Journal` contract: removing events: purge by retention cutoffs, deleteEvent. */
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../src/journal/port.js';
import { type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeRetention(backend: JournalBackend): void {
  describe('purge', () => {
    const { journal, claimOne, attemptOf, finish } = journalPerTest(backend);

    const DAY = 86_400_000;
    const far = T0 + 1_000 * DAY;

    /** Appends an event and finishes its delivery to each destination with the given verdict at `endedAt`. */
    async function finishedEvent(
      outcomes: Record<string, { verdict: 'delivered' | 'dead'; endedAt: number }>,
    ): Promise<StoredEvent> {
      const stored = await journal.append(makeEvent({ destinations: Object.keys(outcomes) }));
      for (const [destination, { verdict, endedAt }] of Object.entries(outcomes)) {
        // Earlier events of these tests are finished already: the only due delivery is this event's.
        const c = await claimOne(destination, T0, { limit: 1 });
        expect(c.event.id).toBe(stored.id);
        expect(await finish(c, endedAt, verdict)).toBe(true);
      }
      return stored;
    }

    it('deletes a delivered event finished before the cutoff, with its deliveries and attempts', async () => {
      const stored = await finishedEvent({ crm: { verdict: 'delivered', endedAt: T0 + 1_000 } });
      expect(await journal.purge({ deliveredBefore: T0 + 2_000, deadBefore: T0 + 2_000, dedupeBefore: 0 }, 100)).toBe(
        1,
      );
      expect(await journal.getEvent(stored.id)).toBeUndefined();
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 0 });
      expect(await journal.purge({ deliveredBefore: far, deadBefore: far, dedupeBefore: 0 }, 100)).toBe(0);
    });

    it('keeps events finished at or after the cutoff', async () => {
      const stored = await finishedEvent({ crm: { verdict: 'delivered', endedAt: T0 + 1_000 } });
      expect(await journal.purge({ deliveredBefore: T0 + 1_000, deadBefore: T0 + 1_000, dedupeBefore: 0 }, 100)).toBe(
        0,
      );
      expect(await journal.purge({ deliveredBefore: T0 + 500, deadBefore: far, dedupeBefore: 0 }, 100)).toBe(0);
      expect(await journal.getEvent(stored.id)).toBeDefined();
    });

    it('uses deliveredBefore for delivered events and deadBefore for dead ones', async () => {
      const delivered = await finishedEvent({ crm: { verdict: 'delivered', endedAt: T0 + 1_000 } });
      const dead = await finishedEvent({ crm: { verdict: 'dead', endedAt: T0 + 1_000 } });

      // Delivered events expire, dead ones are kept longer.
      expect(await journal.purge({ deliveredBefore: T0 + 2_000, deadBefore: T0, dedupeBefore: 0 }, 100)).toBe(1);
      expect(await journal.getEvent(delivered.id)).toBeUndefined();
      expect(await journal.getEvent(dead.id)).toBeDefined();

      expect(await journal.purge({ deliveredBefore: T0, deadBefore: T0 + 2_000, dedupeBefore: 0 }, 100)).toBe(1);
      expect(await journal.getEvent(dead.id)).toBeUndefined();
    });

    it('keeps an event with any unfinished delivery (pending, retrying or in flight)', async () => {
      const pending = await journal.append(makeEvent({ destinations: ['crm', 'billing'] }));
      const crm = await claimOne('crm', T0);
      await finish(crm, T0 + 10, 'delivered');

      const retrying = await journal.append(makeEvent({ destinations: ['audit'] }));
      const r = await claimOne('audit', T0);
      await journal.complete(r, attemptOf(r, T0, { status: 500, error: 'HTTP 500' }), { kind: 'retry', at: far });

      const inFlight = await journal.append(makeEvent({ destinations: ['search'] }));
      await claimOne('search', T0);

      expect(await journal.purge({ deliveredBefore: far, deadBefore: far, dedupeBefore: 0 }, 100)).toBe(0);
      for (const e of [pending, retrying, inFlight]) expect(await journal.getEvent(e.id)).toBeDefined();

      // Once the last delivery of the fan-out event finishes, it can go.
      const billing = await claimOne('billing', T0 + 20);
      await finish(billing, T0 + 30, 'delivered');
      expect(await journal.purge({ deliveredBefore: far, deadBefore: far, dedupeBefore: 0 }, 100)).toBe(1);
      expect(await journal.getEvent(pending.id)).toBeUndefined();
      expect(await journal.getEvent(retrying.id)).toBeDefined();
      expect(await journal.getEvent(inFlight.id)).toBeDefined();
    });

    it('a fan-out event goes only when every delivery is past its cutoff', async () => {
      const stored = await finishedEvent({
        crm: { verdict: 'delivered', endedAt: T0 + 1_000 },
        billing: { verdict: 'delivered', endedAt: T0 + 5_000 },
      });
      expect(await journal.purge({ deliveredBefore: T0 + 2_000, deadBefore: T0 + 2_000, dedupeBefore: 0 }, 100)).toBe(
        0,
      );
      expect(await journal.getEvent(stored.id)).toBeDefined();
      expect(await journal.purge({ deliveredBefore: T0 + 6_000, deadBefore: T0 + 6_000, dedupeBefore: 0 }, 100)).toBe(
        1,
      );
      expect(await journal.getEvent(stored.id)).toBeUndefined();
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 0 });
      expect(await journal.countDeliveries('billing')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 0 });
    });

    it('an event with both delivered and dead deliveries goes once all are past both cutoffs', async () => {
      const stored = await finishedEvent({
        crm: { verdict: 'delivered', endedAt: T0 + 1_000 },
        billing: { verdict: 'dead', endedAt: T0 + 1_000 },
      });
      expect(await journal.purge({ deliveredBefore: T0 + 2_000, deadBefore: T0, dedupeBefore: 0 }, 100)).toBe(0);
      expect(await journal.getEvent(stored.id)).toBeDefined();
      expect(await journal.purge({ deliveredBefore: T0 + 2_000, deadBefore: T0 + 2_000, dedupeBefore: 0 }, 100)).toBe(
        1,
      );
      expect(await journal.getEvent(stored.id)).toBeUndefined();
    });

    it('deletes at most `limit` events per call, counting events (not deliveries)', async () => {
      const stored = [];
      for (let i = 0; i < 5; i++) {
        stored.push(
          await finishedEvent({
            crm: { verdict: 'delivered', endedAt: T0 + 100 + i },
            billing: { verdict: 'delivered', endedAt: T0 + 100 + i },
            audit: { verdict: 'delivered', endedAt: T0 + 100 + i },
          }),
        );
      }
      const cutoffs = { deliveredBefore: far, deadBefore: far, dedupeBefore: 0 };
      expect(await journal.purge(cutoffs, 2)).toBe(2);
      expect(await journal.purge(cutoffs, 2)).toBe(2);
      expect(await journal.purge(cutoffs, 2)).toBe(1);
      expect(await journal.purge(cutoffs, 2)).toBe(0);
      for (const e of stored) expect(await journal.getEvent(e.id)).toBeUndefined();
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 0 });
    });

    it('leaves the remaining events fully usable', async () => {
      const old = await finishedEvent({ crm: { verdict: 'delivered', endedAt: T0 + 10 } });
      const live = await journal.append(makeEvent({ receivedAt: T0 + 20 }));
      expect(await journal.purge({ deliveredBefore: far, deadBefore: far, dedupeBefore: 0 }, 100)).toBe(1);
      expect(await journal.getEvent(old.id)).toBeUndefined();
      const c = await claimOne('crm', T0 + 30);
      expect(c.event.id).toBe(live.id);
      expect(await finish(c, T0 + 40, 'delivered')).toBe(true);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 1, dead: 0 });
    });
  });

  describe('deleteEvent', () => {
    const { journal, claim, claimOne, attemptOf } = journalPerTest(backend);

    it('deletes the event with its deliveries and attempts, and only it; false when there is none', async () => {
      const doomed = await journal.append(makeEvent({ receivedAt: T0, destinations: ['crm', 'billing'] }));
      // Received (so due) after the retry below: the claims of `doomed` take it alone.
      const kept = await journal.append(makeEvent({ receivedAt: T0 + 10_000, destinations: ['crm', 'billing'] }));
      const first = await claimOne('crm', T0, { limit: 1 });
      expect(first.event.id).toBe(doomed.id);
      await journal.complete(first, attemptOf(first, T0, { status: 500, error: 'HTTP 500' }), {
        kind: 'retry',
        at: T0 + 1_000,
      });
      const leased = await claimOne('crm', T0 + 1_000, { limit: 1 });
      expect(leased.event.id).toBe(doomed.id);

      expect(await journal.deleteEvent(doomed.id)).toBe(true);
      expect(await journal.getEvent(doomed.id)).toBeUndefined();
      expect((await journal.listEvents({ limit: 10 })).events.map((e) => e.id)).toEqual([kept.id]);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 0 });
      expect(await journal.countDeliveries('billing')).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 0 });
      expect(await journal.destinationStats('crm', T0 + 1_000)).toMatchObject({
        pending: 1,
        inFlight: 0,
        retrying: 0,
        oldestUnfinishedAt: T0 + 10_000,
      });
      // The claim of a deleted delivery has nothing left to complete.
      expect(await journal.complete(leased, attemptOf(leased, T0 + 1_000), { kind: 'delivered' })).toBe(false);
      expect(await journal.replay({ eventId: doomed.id }, T0 + 2_000)).toBe(0);

      for (const destination of ['crm', 'billing']) {
        const claims = await claim(destination, T0 + 100_000);
        expect(claims.map((c) => c.event.id)).toEqual([kept.id]);
      }
      expect((await journal.getEvent(kept.id))!.deliveries).toHaveLength(2);

      expect(await journal.deleteEvent(doomed.id)).toBe(false);
      expect(await journal.deleteEvent('00000000-0000-7000-8000-000000000000')).toBe(false);
      expect(await journal.getEvent(kept.id)).toBeDefined();
    });
  });
}
