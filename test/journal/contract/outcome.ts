/** `Journal` contract: what becomes of a claim: completed with a verdict, or released unsent. */
import { describe, expect, it } from 'vitest';
import type { AttemptRecord } from '../../../src/journal/port.js';
import { hex, type JournalBackend, journalPerTest, makeEvent, T0 } from './support.js';

export function describeOutcome(backend: JournalBackend): void {
  describe('complete', () => {
    const { journal, claim, claimOne, attemptOf, deliveryOf } = journalPerTest(backend);

    it('delivered: records the attempt, finishes the delivery, never hands it out again', async () => {
      const stored = await journal.append(makeEvent());
      const c = await claimOne('crm', T0);
      const response = new Uint8Array([0x7b, 0xff, 0x00, 0x7d]);
      const attempt: AttemptRecord = { attempt: c.attempt, startedAt: T0 + 1, durationMs: 42, status: 204, response };
      expect(await journal.complete(c, attempt, { kind: 'delivered' })).toBe(true);

      const d = await deliveryOf(stored.id, 'crm');
      expect(d.status).toBe('delivered');
      expect(d.dueAt).toBeNull();
      expect(d.lastError).toBeNull();
      // Finished when the deciding attempt ended.
      expect(d.finishedAt).toBe(T0 + 1 + 42);
      expect(d.attemptLog).toHaveLength(1);
      const a = d.attemptLog[0]!;
      expect({
        attempt: a.attempt,
        startedAt: a.startedAt,
        durationMs: a.durationMs,
        status: a.status,
        error: a.error,
      }).toEqual({
        attempt: 1,
        startedAt: T0 + 1,
        durationMs: 42,
        status: 204,
        error: undefined,
      });
      expect(hex(a.response)).toBe('7bff007d');

      expect(await claim('crm', T0 + 10 * 86_400_000)).toEqual([]);
      expect(await journal.nextDueAt('crm', false)).toBeUndefined();
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 1, dead: 0 });
    });

    it('retry: pending again, claimable only from `at`, with the error kept', async () => {
      const stored = await journal.append(makeEvent());
      const c = await claimOne('crm', T0);
      const at = T0 + 60_000;
      const attempt: AttemptRecord = { attempt: 1, startedAt: T0, durationMs: 5_000, error: 'timeout after 5000 ms' };
      expect(await journal.complete(c, attempt, { kind: 'retry', at })).toBe(true);

      const d = await deliveryOf(stored.id, 'crm');
      expect(d).toMatchObject({
        status: 'pending',
        attempts: 1,
        dueAt: at,
        finishedAt: null,
        lastError: 'timeout after 5000 ms',
      });
      expect(d.attemptLog).toHaveLength(1);
      expect(d.attemptLog[0]).toMatchObject({
        attempt: 1,
        startedAt: T0,
        durationMs: 5_000,
        error: 'timeout after 5000 ms',
      });
      expect(d.attemptLog[0]!.status).toBeUndefined();
      expect(d.attemptLog[0]!.response).toBeUndefined();
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 0 });

      expect(await claim('crm', at - 1)).toEqual([]);
      const again = await claimOne('crm', at);
      expect(again.deliveryId).toBe(c.deliveryId);
      expect(again.attempt).toBe(2);
    });

    it('dead: finished with the error, never handed out again', async () => {
      const stored = await journal.append(makeEvent());
      const c = await claimOne('crm', T0);
      const attempt: AttemptRecord = {
        attempt: 1,
        startedAt: T0 + 2,
        durationMs: 3,
        status: 400,
        error: 'HTTP 400',
        response: new TextEncoder().encode('bad'),
      };
      expect(await journal.complete(c, attempt, { kind: 'dead' })).toBe(true);

      const d = await deliveryOf(stored.id, 'crm');
      expect(d).toMatchObject({
        status: 'dead',
        attempts: 1,
        dueAt: null,
        finishedAt: T0 + 5,
        lastError: 'HTTP 400',
      });
      expect(d.attemptLog).toHaveLength(1);
      expect(d.attemptLog[0]).toMatchObject({ attempt: 1, status: 400, error: 'HTTP 400' });
      expect(hex(d.attemptLog[0]!.response)).toBe(hex(new TextEncoder().encode('bad')));

      expect(await claim('crm', T0 + 10 * 86_400_000)).toEqual([]);
      expect(await journal.nextDueAt('crm', false)).toBeUndefined();
      expect(await journal.nextDueAt('crm', true)).toBeUndefined();
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 1 });
    });

    it('keeps every attempt, in order, across retries', async () => {
      const stored = await journal.append(makeEvent());
      let now = T0;
      for (let n = 1; n <= 3; n++) {
        const c = await claimOne('crm', now);
        expect(c.attempt).toBe(n);
        const verdict = n < 3 ? ({ kind: 'retry', at: now + 1_000 } as const) : ({ kind: 'delivered' } as const);
        const status = n < 3 ? 500 + n : 200;
        expect(
          await journal.complete(
            c,
            attemptOf(c, now, { status, error: n < 3 ? `HTTP ${status}` : undefined }),
            verdict,
          ),
        ).toBe(true);
        now += 1_000;
      }
      const d = await deliveryOf(stored.id, 'crm');
      expect(d.status).toBe('delivered');
      expect(d.attempts).toBe(3);
      expect(d.attemptLog.map((a) => [a.attempt, a.status, a.error])).toEqual([
        [1, 501, 'HTTP 501'],
        [2, 502, 'HTTP 502'],
        [3, 200, undefined],
      ]);
    });

    it('with a lost lease (claimed again meanwhile) resolves false and leaves the newer claim alone', async () => {
      const stored = await journal.append(makeEvent());
      const old = await claimOne('crm', T0, { leaseMs: 1_000 });
      const newer = await claimOne('crm', old.leaseUntil + 1, { leaseMs: 1_000 });
      expect(newer.attempt).toBe(2);

      // The stalled process reports late, with each verdict in turn: all ignored.
      expect(await journal.complete(old, attemptOf(old, T0, { status: 200 }), { kind: 'delivered' })).toBe(false);
      expect(
        await journal.complete(old, attemptOf(old, T0, { status: 410, error: 'HTTP 410' }), { kind: 'dead' }),
      ).toBe(false);
      expect(
        await journal.complete(old, attemptOf(old, T0, { status: 503, error: 'HTTP 503' }), {
          kind: 'retry',
          at: T0,
        }),
      ).toBe(false);

      const d = await deliveryOf(stored.id, 'crm');
      expect(d).toMatchObject({ status: 'in_flight', attempts: 2, dueAt: newer.leaseUntil, finishedAt: null });
      // Ignored means ignored: the late reports are not in the log (attempt 1 is there once, as abandoned).
      expect(d.attemptLog.map((a) => a.attempt)).toEqual([1]);
      expect(d.attemptLog[0]!.status).toBeUndefined();
      // The newer lease is still exclusive, and its outcome is what counts.
      expect(await claim('crm', newer.leaseUntil - 1)).toEqual([]);
      expect(
        await journal.complete(newer, attemptOf(newer, old.leaseUntil + 2, { status: 503, error: 'HTTP 503' }), {
          kind: 'retry',
          at: T0 + 50_000,
        }),
      ).toBe(true);
      expect(await deliveryOf(stored.id, 'crm')).toMatchObject({
        status: 'pending',
        attempts: 2,
        dueAt: T0 + 50_000,
        lastError: 'HTTP 503',
      });
    });

    it('after the newer claim finished, a late report of the older one is ignored too', async () => {
      const stored = await journal.append(makeEvent());
      const old = await claimOne('crm', T0, { leaseMs: 1_000 });
      const newer = await claimOne('crm', old.leaseUntil + 1, { leaseMs: 1_000 });
      expect(
        await journal.complete(newer, attemptOf(newer, old.leaseUntil + 1, { status: 410, error: 'HTTP 410' }), {
          kind: 'dead',
        }),
      ).toBe(true);
      expect(await journal.complete(old, attemptOf(old, T0), { kind: 'delivered' })).toBe(false);
      expect(await deliveryOf(stored.id, 'crm')).toMatchObject({
        status: 'dead',
        attempts: 2,
        lastError: 'HTTP 410',
        dueAt: null,
      });
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 1 });
    });

    it('a second report of the same claim is ignored', async () => {
      const stored = await journal.append(makeEvent());
      const c = await claimOne('crm', T0);
      expect(
        await journal.complete(c, attemptOf(c, T0, { status: 500, error: 'HTTP 500' }), {
          kind: 'retry',
          at: T0 + 1_000,
        }),
      ).toBe(true);
      expect(await journal.complete(c, attemptOf(c, T0), { kind: 'delivered' })).toBe(false);
      expect(await deliveryOf(stored.id, 'crm')).toMatchObject({ status: 'pending', dueAt: T0 + 1_000, attempts: 1 });
    });

    it('an expired lease that nobody took over can still be completed', async () => {
      const stored = await journal.append(makeEvent());
      const c = await claimOne('crm', T0, { leaseMs: 1_000 });
      // Past leaseUntil, but no other claim happened: the attempt's outcome is still the latest word.
      expect(
        await journal.complete(c, attemptOf(c, c.leaseUntil + 500, { durationMs: 1 }), { kind: 'delivered' }),
      ).toBe(true);
      expect(await deliveryOf(stored.id, 'crm')).toMatchObject({ status: 'delivered', attempts: 1 });
      expect(await claim('crm', c.leaseUntil + 10_000)).toEqual([]);
    });
  });

  describe('release', () => {
    const { journal, claim, claimOne, attemptOf, finish, deliveryOf } = journalPerTest(backend);

    it('makes a claim never sent pending again, due now, with its attempt uncounted and nothing recorded', async () => {
      const stored = await journal.append(makeEvent());
      const c = await claimOne('crm', T0);
      expect(await journal.release([c], T0 + 50)).toBe(1);
      expect(await deliveryOf(stored.id, 'crm')).toMatchObject({
        status: 'pending',
        attempts: 0,
        dueAt: T0 + 50,
        attemptLog: [],
      });
      expect(await claim('crm', T0 + 49)).toEqual([]);
      const again = await claimOne('crm', T0 + 50);
      expect(again.deliveryId).toBe(c.deliveryId);
      expect(again.attempt).toBe(1);
    });

    it('keeps the attempts of earlier tries', async () => {
      const stored = await journal.append(makeEvent());
      const first = await claimOne('crm', T0);
      await journal.complete(first, attemptOf(first, T0, { status: 503, error: 'HTTP 503' }), {
        kind: 'retry',
        at: T0 + 100,
      });
      const second = await claimOne('crm', T0 + 100);
      expect(second.attempt).toBe(2);
      expect(await journal.release([second], T0 + 200)).toBe(1);
      expect(await deliveryOf(stored.id, 'crm')).toMatchObject({
        status: 'pending',
        attempts: 1,
        lastError: 'HTTP 503',
      });
      expect((await claimOne('crm', T0 + 200)).attempt).toBe(2);
    });

    it('ignores a claim whose lease was lost, and one already completed', async () => {
      const stored = await journal.append(makeEvent());
      const old = await claimOne('crm', T0, { leaseMs: 1_000 });
      const newer = await claimOne('crm', old.leaseUntil + 1, { leaseMs: 1_000 });
      expect(await journal.release([old], old.leaseUntil + 2)).toBe(0);
      expect(await deliveryOf(stored.id, 'crm')).toMatchObject({ status: 'in_flight', attempts: 2 });
      await finish(newer, old.leaseUntil + 3, 'delivered');
      expect(await journal.release([newer], old.leaseUntil + 4)).toBe(0);
      expect(await deliveryOf(stored.id, 'crm')).toMatchObject({ status: 'delivered', attempts: 2 });
    });

    it('gives back several at once and counts only those it released', async () => {
      for (let i = 0; i < 3; i++) await journal.append(makeEvent({ receivedAt: T0 + i }));
      const claims = await claim('crm', T0 + 10);
      expect(claims).toHaveLength(3);
      await finish(claims[0]!, T0 + 20, 'delivered');
      expect(await journal.release(claims, T0 + 30)).toBe(2);
      expect(await journal.countDeliveries('crm')).toEqual({ pending: 2, in_flight: 0, delivered: 1, dead: 0 });
      expect(await journal.release([], T0 + 30)).toBe(0);
    });
  });
}
