/** `Journal` contract: strict ingest order within each ordering key (`ClaimRequest.byKey`). */
import { describe, expect, it } from 'vitest';
import type { AppendResult, Claim } from '../../../src/journal/port.js';
import { type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeKeyed(backend: JournalBackend): void {
  describe('ordered by key', () => {
    const { journal, claim, claimOne, attemptOf, finish } = journalPerTest(backend);

    const byKey = { byKey: true } as const;

    /** Appends one event per key, in this order, received 1 ms apart; `null`: without a key. */
    async function appendKeys(keys: (string | null)[], more: { destinations?: string[] } = {}) {
      const stored: AppendResult[] = [];
      for (const [i, key] of keys.entries()) {
        const orderKeys = key === null ? undefined : { crm: key };
        stored.push(await journal.append(makeEvent({ receivedAt: T0 + i, orderKeys, ...more })));
      }
      return stored;
    }

    const ids = (claims: Claim[]) => claims.map((c) => c.event.id).sort();
    const idsOf = (stored: AppendResult[], ...at: number[]) => at.map((i) => stored[i]!.id).sort();

    it('claims only the oldest unfinished delivery of each key, all keys at once', async () => {
      const s = await appendKeys(['a', 'b', 'a', 'c', 'b', 'a']);
      const first = await claim('crm', T0 + 10, { ...byKey, limit: 10 });
      expect(ids(first)).toEqual(idsOf(s, 0, 1, 3));
      // Every key's head is in flight: nothing behind them may go.
      expect(await claim('crm', T0 + 11, { ...byKey, limit: 10 })).toEqual([]);
      const a1 = first.find((c) => c.event.id === s[0]!.id)!;
      expect(await finish(a1, T0 + 20, 'delivered')).toBe(true);
      expect(ids(await claim('crm', T0 + 21, { ...byKey, limit: 10 }))).toEqual(idsOf(s, 2));
    });

    it('delivers each key in ingest order, whatever the due times', async () => {
      const s = [
        await journal.append(makeEvent({ receivedAt: T0 + 500, orderKeys: { crm: 'a' } })),
        await journal.append(makeEvent({ receivedAt: T0, orderKeys: { crm: 'a' } })),
      ];
      // Unordered would take the second (due earlier); its key waits for the first.
      expect(await claim('crm', T0 + 100, byKey)).toEqual([]);
      const head = await claimOne('crm', T0 + 500, byKey);
      expect(head.event.id).toBe(s[0]!.id);
      expect(await finish(head, T0 + 510, 'delivered')).toBe(true);
      expect((await claimOne('crm', T0 + 511, byKey)).event.id).toBe(s[1]!.id);
    });

    it('caps the heads at `limit`, earliest due first', async () => {
      const s = await appendKeys(['a', 'b', 'c', 'd']);
      expect(ids(await claim('crm', T0 + 10, { ...byKey, limit: 2 }))).toEqual(idsOf(s, 0, 1));
      expect(ids(await claim('crm', T0 + 10, { ...byKey, limit: 10 }))).toEqual(idsOf(s, 2, 3));
    });

    it('finds a due head behind many deliveries waiting on another key', async () => {
      const s = await appendKeys(['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'b']);
      expect((await claimOne('crm', T0 + 20, { ...byKey, limit: 1 })).event.id).toBe(s[0]!.id);
      // The earliest due deliveries all wait behind a's head, in flight; b's head comes after them.
      expect((await claimOne('crm', T0 + 20, { ...byKey, limit: 1 })).event.id).toBe(s[9]!.id);
      expect(await claim('crm', T0 + 20, { ...byKey, limit: 1 })).toEqual([]);
    });

    it('a retrying head holds back its own key only, until it is due', async () => {
      const s = await appendKeys(['a', 'a', 'b', 'b']);
      const first = await claim('crm', T0 + 10, byKey);
      expect(ids(first)).toEqual(idsOf(s, 0, 2));
      const [a1, b1] = [first.find((c) => c.event.id === s[0]!.id)!, first.find((c) => c.event.id === s[2]!.id)!];
      const at = T0 + 60_000;
      await journal.complete(a1, attemptOf(a1, T0 + 10, { status: 503, error: 'HTTP 503' }), { kind: 'retry', at });
      expect(await finish(b1, T0 + 20, 'delivered')).toBe(true);
      // Key b goes on; key a gives nothing, although its second event is due.
      const b2 = await claimOne('crm', T0 + 21, byKey);
      expect(b2.event.id).toBe(s[3]!.id);
      expect(await finish(b2, T0 + 30, 'delivered')).toBe(true);
      expect(await claim('crm', at - 1, byKey)).toEqual([]);
      // Idle but for the retry: the next due time is the retrying head's, not that of the event behind it.
      expect(await journal.nextDueAt('crm', false, true)).toBe(at);
      const again = await claimOne('crm', at, byKey);
      expect(again.event.id).toBe(s[0]!.id);
      expect(again.attempt).toBe(2);
    });

    it('events without a key form one group of their own, ordered like a key', async () => {
      const s = await appendKeys([null, 'a', null, 'a']);
      const first = await claim('crm', T0 + 10, byKey);
      expect(ids(first)).toEqual(idsOf(s, 0, 1));
      const keyless = first.find((c) => c.event.id === s[0]!.id)!;
      await journal.complete(keyless, attemptOf(keyless, T0 + 10, { status: 500, error: 'HTTP 500' }), {
        kind: 'retry',
        at: T0 + 5_000,
      });
      expect(await claim('crm', T0 + 20, byKey)).toEqual([]);
      expect((await claimOne('crm', T0 + 5_000, byKey)).event.id).toBe(s[0]!.id);
    });

    it('a dead head stops blocking: the key moves on to its next event', async () => {
      const s = await appendKeys(['a', 'a']);
      const head = await claimOne('crm', T0 + 10, byKey);
      expect(await finish(head, T0 + 20, 'dead')).toBe(true);
      const next = await claimOne('crm', T0 + 21, byKey);
      expect(next.event.id).toBe(s[1]!.id);
      expect(next.attempt).toBe(1);
    });

    it('a head that spent its retry budget is made dead at claim, and its key moves on', async () => {
      const s = await appendKeys(['a', 'a']);
      const budget = { maxAttempts: 1, maxAgeMs: 3_600_000 };
      const head = await claimOne('crm', T0 + 10, { ...byKey, budget, leaseMs: 1_000 });
      // Its lease runs out without an outcome; with no attempt left it dies instead of being claimed.
      expect(await claim('crm', head.leaseUntil + 1, { ...byKey, budget })).toEqual([]);
      expect((await journal.getEvent(s[0]!.id))!.deliveries[0]!.status).toBe('dead');
      expect((await claimOne('crm', head.leaseUntil + 2, { ...byKey, budget })).event.id).toBe(s[1]!.id);
    });

    it('a replayed event goes before the later events of its key, after the live heads of others', async () => {
      const s = await appendKeys(['a', 'a', 'a', 'b']);
      const a1 = (await claim('crm', T0 + 10, byKey)).find((c) => c.event.id === s[0]!.id)!;
      expect(await finish(a1, T0 + 20, 'dead')).toBe(true);
      const a2 = await claimOne('crm', T0 + 21, byKey);
      expect(a2.event.id).toBe(s[1]!.id);
      expect(await finish(a2, T0 + 30, 'delivered')).toBe(true);
      // b is still in flight; a3 would be next, but the first event of a is replayed.
      expect(await journal.replay({ eventId: s[0]!.id }, T0 + 40)).toBe(1);
      const replayed = await claimOne('crm', T0 + 40, byKey);
      expect(replayed.event.id).toBe(s[0]!.id);
      expect(await claim('crm', T0 + 41, byKey)).toEqual([]);
      expect(await finish(replayed, T0 + 50, 'delivered')).toBe(true);
      expect((await claimOne('crm', T0 + 51, byKey)).event.id).toBe(s[2]!.id);
    });

    it('replayed heads only fill what the live heads leave of the limit', async () => {
      const s = await appendKeys(['a', 'b']);
      const a1 = (await claim('crm', T0 + 10, { ...byKey, limit: 1 }))[0]!;
      expect(a1.event.id).toBe(s[0]!.id);
      expect(await finish(a1, T0 + 20, 'dead')).toBe(true);
      expect(await journal.replay({ eventId: s[0]!.id }, T0 + 20)).toBe(1);
      // a's replayed head is due earlier than b's live one would matter: live first.
      expect((await claimOne('crm', T0 + 30, { ...byKey, limit: 1 })).event.id).toBe(s[1]!.id);
      expect((await claimOne('crm', T0 + 31, { ...byKey, limit: 1 })).event.id).toBe(s[0]!.id);
    });

    it('an expired head lease is claimed again (same event, next attempt) before the rest of its key', async () => {
      const s = await appendKeys(['a', 'a', 'b']);
      const first = await claim('crm', T0 + 10, { ...byKey, leaseMs: 1_000 });
      expect(ids(first)).toEqual(idsOf(s, 0, 2));
      const b1 = first.find((c) => c.event.id === s[2]!.id)!;
      expect(await finish(b1, T0 + 20, 'delivered')).toBe(true);
      const leaseUntil = first[0]!.leaseUntil;
      expect(await claim('crm', leaseUntil - 1, byKey)).toEqual([]);
      expect(await journal.nextDueAt('crm', false, true)).toBe(leaseUntil);
      const again = await claimOne('crm', leaseUntil, byKey);
      expect(again.event.id).toBe(s[0]!.id);
      expect(again.attempt).toBe(2);
    });

    it('a given-back head is claimable again at once, still before the rest of its key', async () => {
      const s = await appendKeys(['a', 'a']);
      const head = await claimOne('crm', T0 + 10, byKey);
      expect(await journal.release([head], T0 + 11)).toBe(1);
      const again = await claimOne('crm', T0 + 11, byKey);
      expect(again.event.id).toBe(s[0]!.id);
      expect(again.attempt).toBe(1);
    });

    it('keys are per destination: a destination without keys keeps its own order', async () => {
      const s = await appendKeys(['a', 'b'], { destinations: ['crm', 'billing'] });
      // For billing the events have no key: one group, one at a time.
      expect(ids(await claim('billing', T0 + 10, byKey))).toEqual(idsOf(s, 0));
      expect(ids(await claim('crm', T0 + 10, byKey))).toEqual(idsOf(s, 0, 1));
      // Without byKey the stored keys change nothing.
      expect(ids(await claim('billing', T0 + 10))).toEqual(idsOf(s, 1));
    });

    it('nextDueAt is undefined once every key is finished', async () => {
      await appendKeys(['a']);
      const head = await claimOne('crm', T0 + 10, byKey);
      expect(await finish(head, T0 + 20, 'delivered')).toBe(true);
      expect(await journal.nextDueAt('crm', false, true)).toBeUndefined();
    });
  });
}
