/** `Journal` contract: probe and close, and what outlives a journal object on the same storage. */
import { describe, expect, it } from 'vitest';
import { hex, type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeLifecycle(backend: JournalBackend): void {
  describe('probe', () => {
    const { journal } = journalPerTest(backend);

    it('resolves on a journal that takes writes, and rejects as unavailable once it is closed', async () => {
      await expect(journal.probe()).resolves.toBeUndefined();
      await journal.close();
      await expect(journal.probe()).rejects.toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
    });
  });

  describe.skipIf(!backend.supports.reopen)('reopening the storage', () => {
    const { journal, reopen } = journalPerTest(backend);

    it('an acknowledged event is stored without close(): another journal on the same storage reads it', async () => {
      const stored = await journal.append(
        makeEvent({ body: new Uint8Array([0xde, 0xad, 0xbe, 0xef]), destinations: ['crm', 'billing'] }),
      );
      // `journal` is never closed before reading: as if its process had been killed right after acknowledging.
      const reader = await reopen();
      const read = await reader.getEvent(stored.id);
      expect(read).toBeDefined();
      expect(hex(read!.body)).toBe('deadbeef');
      expect(read!.deliveries).toHaveLength(2);
    });

    it('paused destinations survive closing and reopening', async () => {
      await journal.setPaused('crm', true, T0);
      await journal.setPaused('billing', true, T0 + 1);
      await journal.setPaused('audit', true, T0 + 2);
      await journal.setPaused('audit', false, T0 + 3);
      await journal.close();

      const second = await reopen();
      expect((await second.pausedDestinations()).sort()).toEqual(['billing', 'crm']);
      await second.setPaused('crm', false, T0 + 4);
      await second.close();

      const third = await reopen();
      expect(await third.pausedDestinations()).toEqual(['billing']);
    });

    it('a Retry-After hold survives closing and reopening', async () => {
      await journal.setHold('crm', T0 + 60_000, T0);
      await journal.close();
      const second = await reopen();
      expect(await second.heldDestinations(T0 + 1)).toEqual({ crm: T0 + 60_000 });
    });
  });
}
