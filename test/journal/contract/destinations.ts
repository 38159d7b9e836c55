/** `Journal` contract: per-destination state: independence, pause, Retry-After holds and learned paces. */
import { describe, expect, it } from 'vitest';
import { type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeDestinations(backend: JournalBackend): void {
  describe('destinations', () => {
    const { journal, claim, claimOne, finish } = journalPerTest(backend);

    it('are independent: claims, outcomes and counts of one do not touch another', async () => {
      const stored = await journal.append(makeEvent({ destinations: ['crm', 'billing'] }));
      const crm = await claimOne('crm', T0, { limit: 10 });
      expect(crm.destination).toBe('crm');
      expect(await journal.countDeliveries('billing')).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 0 });
      expect(await finish(crm, T0 + 10, 'dead')).toBe(true);

      const billing = await claimOne('billing', T0 + 20);
      expect(billing.destination).toBe('billing');
      expect(billing.event.id).toBe(stored.id);
      expect(billing.deliveryId).not.toBe(crm.deliveryId);
      expect(billing.attempt).toBe(1);
      expect(await finish(billing, T0 + 30, 'delivered')).toBe(true);

      const read = await journal.getEvent(stored.id);
      const byDestination = Object.fromEntries(read!.deliveries.map((d) => [d.destination, d]));
      expect(byDestination.crm).toMatchObject({ status: 'dead', attempts: 1, lastError: 'HTTP 410' });
      expect(byDestination.billing).toMatchObject({ status: 'delivered', attempts: 1, lastError: null });
      expect(byDestination.crm!.attemptLog).toHaveLength(1);
      expect(byDestination.billing!.attemptLog).toHaveLength(1);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 1 });
      expect(await journal.countDeliveries('billing')).toEqual({ pending: 0, in_flight: 0, delivered: 1, dead: 0 });
      expect(await journal.countDeliveries('unknown')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 0 });
    });

    it('an in-flight delivery of one destination does not stop the same event going to another', async () => {
      await journal.append(makeEvent({ destinations: ['crm', 'billing'] }));
      await claimOne('crm', T0, { fifo: true });
      await claimOne('billing', T0, { fifo: true });
      expect(await claim('crm', T0 + 1, { fifo: true })).toEqual([]);
    });
  });

  describe('pause', () => {
    const { journal } = journalPerTest(backend);

    it('setPaused pauses and resumes destinations; pausedDestinations lists the paused ones', async () => {
      expect(await journal.pausedDestinations()).toEqual([]);
      await journal.setPaused('crm', true, T0);
      await journal.setPaused('billing', true, T0 + 1);
      await journal.setPaused('crm', true, T0 + 2);
      expect((await journal.pausedDestinations()).sort()).toEqual(['billing', 'crm']);
      await journal.setPaused('crm', false, T0 + 3);
      expect(await journal.pausedDestinations()).toEqual(['billing']);
      await journal.setPaused('never-paused', false, T0 + 4);
      expect(await journal.pausedDestinations()).toEqual(['billing']);
      await journal.setPaused('billing', false, T0 + 5);
      expect(await journal.pausedDestinations()).toEqual([]);
      await journal.setPaused('crm', true, T0 + 6);
      expect(await journal.pausedDestinations()).toEqual(['crm']);
    });

    it('a hold and a pause of the same destination are independent', async () => {
      await journal.setPaused('crm', true, T0);
      await journal.setHold('crm', T0 + 5_000, T0 + 1);
      await journal.setPaused('crm', false, T0 + 2);
      expect(await journal.heldDestinations(T0 + 3)).toEqual({ crm: T0 + 5_000 });
      expect(await journal.pausedDestinations()).toEqual([]);
    });
  });

  describe('hold', () => {
    const { journal } = journalPerTest(backend);

    it('setHold records a Retry-After hold; heldDestinations lists those not over by `now`', async () => {
      expect(await journal.heldDestinations(T0)).toEqual({});
      await journal.setHold('crm', T0 + 1_000, T0);
      await journal.setHold('billing', T0 + 60_000, T0);
      expect(await journal.heldDestinations(T0 + 999)).toEqual({ crm: T0 + 1_000, billing: T0 + 60_000 });
      expect(await journal.heldDestinations(T0 + 1_000)).toEqual({ billing: T0 + 60_000 });
      // A later hold replaces the earlier one, shorter or longer.
      await journal.setHold('billing', T0 + 2_000, T0 + 1);
      expect(await journal.heldDestinations(T0 + 1_500)).toEqual({ billing: T0 + 2_000 });
      expect(await journal.heldDestinations(T0 + 2_000)).toEqual({});
    });

    it('does not pause: a held destination is not in pausedDestinations', async () => {
      await journal.setHold('crm', T0 + 1_000, T0);
      expect(await journal.pausedDestinations()).toEqual([]);
    });
  });

  describe('pace', () => {
    const { journal, reopen } = journalPerTest(backend);

    it('setPace records a learned pace per destination; a later call replaces it, undefined forgets it', async () => {
      expect(await journal.destinationPaces()).toEqual({});
      await journal.setPace('crm', { rate: 12.5, concurrency: 3, at: T0 }, T0);
      await journal.setPace('billing', { rate: undefined, concurrency: 8, at: T0 + 1 }, T0 + 1);
      expect(await journal.destinationPaces()).toEqual({
        crm: { rate: 12.5, concurrency: 3, at: T0 },
        billing: { rate: undefined, concurrency: 8, at: T0 + 1 },
      });
      await journal.setPace('crm', { rate: 4, concurrency: 1, at: T0 + 2 }, T0 + 2);
      await journal.setPace('billing', undefined, T0 + 3);
      expect(await journal.destinationPaces()).toEqual({ crm: { rate: 4, concurrency: 1, at: T0 + 2 } });
    });

    it('is independent of pause and hold, both ways', async () => {
      await journal.setPaused('crm', true, T0);
      await journal.setHold('crm', T0 + 5_000, T0);
      await journal.setPace('crm', { rate: 2, concurrency: 1, at: T0 + 1 }, T0 + 1);
      expect(await journal.pausedDestinations()).toEqual(['crm']);
      expect(await journal.heldDestinations(T0 + 2)).toEqual({ crm: T0 + 5_000 });
      await journal.setPaused('crm', false, T0 + 2);
      await journal.setHold('crm', 0, T0 + 3);
      expect(await journal.destinationPaces()).toEqual({ crm: { rate: 2, concurrency: 1, at: T0 + 1 } });
      // A pace alone pauses and holds nothing.
      await journal.setPace('billing', { rate: 1, concurrency: 1, at: T0 }, T0);
      expect(await journal.pausedDestinations()).toEqual([]);
      expect(await journal.heldDestinations(T0)).toEqual({});
    });

    it.runIf(backend.supports.reopen)('survives closing and reopening the journal', async () => {
      await journal.setPace('crm', { rate: 7.25, concurrency: 2, at: T0 }, T0);
      await journal.close();
      const reopened = await reopen();
      expect(await reopened.destinationPaces()).toEqual({ crm: { rate: 7.25, concurrency: 2, at: T0 } });
    });
  });
}
