/** `Journal` contract: listing events, filtered and paged. */
import { describe, expect, it } from 'vitest';
import type { AppendResult, EventQuery } from '../../../src/journal/port.js';
import { type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeListing(backend: JournalBackend): void {
  describe('listEvents', () => {
    const { journal, claim, claimOne, attemptOf, finish } = journalPerTest(backend);

    /** Walks every page of `query`, calling `between` after each page but the last; resolves the ids in order. */
    async function listAll(query: Omit<EventQuery, 'cursor'>, between?: () => Promise<void>): Promise<string[]> {
      const ids: string[] = [];
      let cursor: string | undefined;
      for (let pages = 1; ; pages++) {
        const page = await journal.listEvents({ ...query, cursor });
        expect(page.events.length).toBeLessThanOrEqual(query.limit);
        ids.push(...page.events.map((e) => e.id));
        if (page.nextCursor === undefined) return ids;
        // A cursor that never ends the walk would loop forever: far more pages than events is a failure.
        expect(pages).toBeLessThan(200);
        cursor = page.nextCursor;
        await between?.();
      }
    }

    it('lists newest first, each event in brief: body size in bytes, deliveries, no body or headers', async () => {
      expect(await journal.listEvents({ limit: 10 })).toEqual({ events: [] });

      const utf8 = new TextEncoder().encode('{"name":"caf\u00e9 \u2713"}');
      const a = await journal.append(makeEvent({ receivedAt: T0, body: utf8, destinations: ['crm', 'billing'] }));
      const b = await journal.append(
        makeEvent({
          receivedAt: T0 + 1,
          source: 'github',
          method: 'PUT',
          path: '/hooks/github',
          body: new Uint8Array([0, 0, 0xff]),
        }),
      );
      const c = await journal.append(
        makeEvent({ receivedAt: T0 + 2, body: new Uint8Array(0), destinations: ['billing'] }),
      );
      const crm = await claimOne('crm', T0 + 10, { limit: 1 });
      expect(crm.event.id).toBe(a.id);
      await journal.complete(crm, attemptOf(crm, T0 + 10, { status: 502, error: 'HTTP 502' }), {
        kind: 'retry',
        at: T0 + 60_000,
      });

      const page = await journal.listEvents({ limit: 10 });
      expect(page.nextCursor).toBeUndefined();
      expect(page.events.map((e) => e.id)).toEqual([c.id, b.id, a.id]);
      const [lc, lb, la] = page.events;
      expect(la).toMatchObject({
        id: a.id,
        seq: a.seq,
        source: 'stripe',
        method: 'POST',
        path: '/hooks/stripe',
        receivedAt: T0,
        bodySize: utf8.byteLength,
      });
      expect(utf8.byteLength).toBeGreaterThan('{"name":"caf\u00e9 \u2713"}'.length);
      expect(lb).toMatchObject({
        id: b.id,
        seq: b.seq,
        source: 'github',
        method: 'PUT',
        path: '/hooks/github',
        receivedAt: T0 + 1,
        bodySize: 3,
      });
      expect(lc).toMatchObject({ id: c.id, bodySize: 0 });
      expect([...la!.deliveries].sort((x, y) => x.destination.localeCompare(y.destination))).toEqual([
        { destination: 'billing', status: 'pending', attempts: 0, lastError: null },
        { destination: 'crm', status: 'pending', attempts: 1, lastError: 'HTTP 502' },
      ]);
      expect(lb!.deliveries).toEqual([{ destination: 'crm', status: 'pending', attempts: 0, lastError: null }]);
      expect(lc!.deliveries).toEqual([{ destination: 'billing', status: 'pending', attempts: 0, lastError: null }]);
      for (const e of page.events) {
        expect(e).not.toHaveProperty('body');
        expect(e).not.toHaveProperty('headers');
      }
    });

    it('filters by source, destination, status and receive time [since, until), combined', async () => {
      const e0 = await journal.append(makeEvent({ source: 'stripe', receivedAt: T0, destinations: ['crm'] }));
      const e1 = await journal.append(
        makeEvent({ source: 'github', receivedAt: T0 + 1_000, destinations: ['crm', 'billing'] }),
      );
      const e2 = await journal.append(
        makeEvent({ source: 'stripe', receivedAt: T0 + 2_000, destinations: ['billing'] }),
      );
      const e3 = await journal.append(makeEvent({ source: 'github', receivedAt: T0 + 3_000, destinations: ['crm'] }));
      const crm = await claim('crm', T0 + 1_500);
      expect(crm.map((c) => c.event.id).sort()).toEqual([e0.id, e1.id].sort());
      expect(await finish(crm.find((c) => c.event.id === e0.id)!, T0 + 1_600, 'delivered')).toBe(true);
      expect(await finish(crm.find((c) => c.event.id === e1.id)!, T0 + 1_600, 'dead')).toBe(true);
      // Now: e0 crm delivered; e1 crm dead, billing pending; e2 billing pending; e3 crm pending.

      const list = async (query: Omit<EventQuery, 'limit'>) =>
        (await journal.listEvents({ limit: 100, ...query })).events.map((e) => e.id);
      expect(await list({})).toEqual([e3.id, e2.id, e1.id, e0.id]);
      expect(await list({ source: 'stripe' })).toEqual([e2.id, e0.id]);
      expect(await list({ source: 'nobody' })).toEqual([]);
      expect(await list({ destination: 'crm' })).toEqual([e3.id, e1.id, e0.id]);
      expect(await list({ destination: 'billing' })).toEqual([e2.id, e1.id]);
      expect(await list({ status: 'dead' })).toEqual([e1.id]);
      expect(await list({ status: 'delivered' })).toEqual([e0.id]);
      expect(await list({ status: 'pending' })).toEqual([e3.id, e2.id, e1.id]);
      expect(await list({ status: 'in_flight' })).toEqual([]);
      // Status and destination apply to the same delivery.
      expect(await list({ status: 'pending', destination: 'crm' })).toEqual([e3.id]);
      expect(await list({ status: 'pending', destination: 'billing' })).toEqual([e2.id, e1.id]);
      expect(await list({ status: 'dead', destination: 'billing' })).toEqual([]);
      expect(await list({ since: T0 + 1_000 })).toEqual([e3.id, e2.id, e1.id]);
      expect(await list({ until: T0 + 2_000 })).toEqual([e1.id, e0.id]);
      expect(await list({ since: T0 + 1_000, until: T0 + 3_000 })).toEqual([e2.id, e1.id]);
      expect(await list({ since: T0 + 1, until: T0 + 1_000 })).toEqual([]);
      expect(await list({ source: 'github', status: 'pending' })).toEqual([e3.id, e1.id]);
      expect(await list({ source: 'github', destination: 'crm', since: T0 + 2_000 })).toEqual([e3.id]);
      expect(
        await list({ source: 'stripe', status: 'delivered', destination: 'crm', since: T0, until: T0 + 1 }),
      ).toEqual([e0.id]);

      await claimOne('crm', T0 + 3_000);
      expect(await list({ status: 'in_flight' })).toEqual([e3.id]);
      expect(await list({ status: 'pending', destination: 'crm' })).toEqual([]);
    });

    it('walking the pages returns every matching event exactly once, newest first', async () => {
      const stored: AppendResult[] = [];
      for (let i = 0; i < 23; i++) {
        stored.push(await journal.append(makeEvent({ receivedAt: T0 + i, source: i % 3 === 0 ? 'github' : 'stripe' })));
      }
      const newestFirst = (events: AppendResult[]) => events.map((e) => e.id).reverse();
      for (const limit of [1, 4, 5, 23, 50]) expect(await listAll({ limit })).toEqual(newestFirst(stored));
      const stripe = stored.filter((e) => e.source === 'stripe');
      expect(stripe).toHaveLength(15);
      for (const limit of [2, 5, 7]) expect(await listAll({ limit, source: 'stripe' })).toEqual(newestFirst(stripe));
      // With a time range and a filter on deliveries too.
      const inRange = stripe.filter((e) => e.receivedAt >= T0 + 4 && e.receivedAt < T0 + 20);
      expect(
        await listAll({
          limit: 3,
          source: 'stripe',
          status: 'pending',
          destination: 'crm',
          since: T0 + 4,
          until: T0 + 20,
        }),
      ).toEqual(newestFirst(inRange));

      const first = await journal.listEvents({ limit: 4 });
      expect(first.events).toHaveLength(4);
      expect(first.nextCursor).toEqual(expect.any(String));
    });

    it('keeps walking correctly while new events are appended between pages', async () => {
      const before: AppendResult[] = [];
      for (let i = 0; i < 10; i++) before.push(await journal.append(makeEvent({ receivedAt: T0 + i })));
      let n = 0;
      const ids = await listAll({ limit: 3 }, async () => {
        for (let k = 0; k < 2; k++) await journal.append(makeEvent({ receivedAt: T0 + 100 + n++ }));
      });
      expect(n).toBeGreaterThan(0);
      // No event twice, and every event that existed when the walk started is there, newest first.
      expect(new Set(ids).size).toBe(ids.length);
      const known = new Set(before.map((e) => e.id));
      expect(ids.filter((id) => known.has(id))).toEqual(before.map((e) => e.id).reverse());
    });

    it('finds event ids by prefix, in id order, at most limit of them', async () => {
      const a = await journal.append(makeEvent());
      const b = await journal.append(makeEvent({ receivedAt: T0 + 1 }));
      const both = [a.id, b.id].sort();
      let common = 0;
      while (a.id[common] === b.id[common]) common++;
      expect(await journal.findEventIds(a.id, 5)).toEqual([a.id]);
      expect(await journal.findEventIds(a.id.slice(0, common + 1), 5)).toEqual([a.id]);
      expect(await journal.findEventIds(a.id.slice(0, common), 5)).toEqual(both);
      expect(await journal.findEventIds(a.id.slice(0, common), 1)).toEqual([both[0]]);
      expect(await journal.findEventIds('zz-no-such-prefix', 5)).toEqual([]);
      expect(await journal.findEventIds(`${a.id}0`, 5)).toEqual([]);
    });
  });
}
