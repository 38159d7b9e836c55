/**
 * Contract suite of the `Journal` port (src/journal.ts). Every backend must pass it: the SQLite
 * one runs it in sqlite.test.ts, a PostgreSQL one will call `describeJournalContract` the same way.
 *
 * Only the port is used here (no SQL, no backend internals), and every time is passed explicitly:
 * no test sleeps or reads a clock for a decision.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AppendResult,
  AttemptRecord,
  Claim,
  ClaimRequest,
  DestinationStats,
  EventQuery,
  IncomingEvent,
  Journal,
  StoredEvent,
} from '../../src/journal/port.js';

/** A journal opened for one test, and how to dispose of it (close it and delete its storage). */
export interface OpenedJournal {
  journal: Journal;
  cleanup(): Promise<void>;
}

/** Base of the times used below (a fixed instant, far from 0 so that `at - x` stays positive). */
const T0 = Date.UTC(2030, 0, 1);
/** The lease used by claims unless a test says otherwise. */
const LEASE = 30_000;

/** An incoming event with sensible defaults; `overrides` wins. */
export function makeEvent(overrides: Partial<IncomingEvent> = {}): IncomingEvent {
  return {
    source: 'stripe',
    method: 'POST',
    path: '/hooks/stripe',
    query: '',
    headers: [['Content-Type', 'application/json']],
    body: new TextEncoder().encode('{"ok":true}'),
    remoteAddr: '203.0.113.7',
    receivedAt: T0,
    destinations: ['crm'],
    ...overrides,
  };
}

/** Hex of any byte view, so that byte-exact comparisons print readable diffs. */
function hex(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined
    ? undefined
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A stored event with its body as hex (Buffer and Uint8Array bodies compare equal this way). */
function comparable(event: StoredEvent): Omit<StoredEvent, 'body'> & { body: string | undefined } {
  return {
    id: event.id,
    seq: event.seq,
    source: event.source,
    method: event.method,
    path: event.path,
    query: event.query,
    headers: event.headers,
    body: hex(event.body),
    remoteAddr: event.remoteAddr,
    receivedAt: event.receivedAt,
  };
}

/**
 * Registers the contract tests of the `Journal` port under `describe(name)`.
 *
 * @param name Label of the backend, e.g. `'sqlite'`.
 * @param open Opens a fresh, empty and isolated journal; called before every test. Its `cleanup`
 *   is called after the test and must release everything (connections, files, schemas).
 */
export function describeJournalContract(name: string, open: () => Promise<OpenedJournal>): void {
  describe(`Journal contract: ${name}`, () => {
    let opened: OpenedJournal | undefined;
    let journal: Journal;

    beforeEach(async () => {
      opened = await open();
      journal = opened.journal;
    });

    afterEach(async () => {
      await opened?.cleanup();
      opened = undefined;
    });

    /** Claims with defaults (non-fifo, limit 10, `LEASE`). */
    function claim(destination: string, now: number, more: Partial<ClaimRequest> = {}): Promise<Claim[]> {
      return journal.claim({ destination, now, limit: 10, leaseMs: LEASE, fifo: false, ...more });
    }

    /** Claims exactly one delivery and returns it (fails the test otherwise). */
    async function claimOne(destination: string, now: number, more: Partial<ClaimRequest> = {}): Promise<Claim> {
      const claims = await claim(destination, now, more);
      expect(claims).toHaveLength(1);
      return claims[0]!;
    }

    /** The attempt record of `claim`, started at `startedAt`, lasting 10 ms unless overridden. */
    function attemptOf(c: Claim, startedAt: number, more: Partial<AttemptRecord> = {}): AttemptRecord {
      return { attempt: c.attempt, startedAt, durationMs: 10, status: 200, ...more };
    }

    /** Completes `c` with a verdict; the attempt ends at `endedAt`. */
    function finish(c: Claim, endedAt: number, verdict: 'delivered' | 'dead'): Promise<boolean> {
      const attempt =
        verdict === 'delivered'
          ? attemptOf(c, endedAt - 10)
          : attemptOf(c, endedAt - 10, { status: 410, error: 'HTTP 410' });
      return journal.complete(c, attempt, { kind: verdict });
    }

    async function deliveryOf(eventId: string, destination: string) {
      const stored = await journal.getEvent(eventId);
      expect(stored).toBeDefined();
      const delivery = stored!.deliveries.find((d) => d.destination === destination);
      expect(delivery).toBeDefined();
      return delivery!;
    }

    describe('append and getEvent', () => {
      it('returns the stored event: the request as given, a unique id and a seq', async () => {
        const incoming = makeEvent({ destinations: ['crm', 'billing'] });
        const stored = await journal.append(incoming);
        expect(typeof stored.id).toBe('string');
        expect(stored.id.length).toBeGreaterThan(0);
        expect(Number.isInteger(stored.seq)).toBe(true);
        const { destinations: _, ...request } = incoming;
        expect(comparable(stored)).toEqual(comparable({ ...request, id: stored.id, seq: stored.seq }));
        expect(stored).not.toHaveProperty('destinations');
      });

      it('gives every event a distinct id and a strictly increasing seq', async () => {
        const seqs: number[] = [];
        const ids = new Set<string>();
        for (let i = 0; i < 5; i++) {
          const stored = await journal.append(makeEvent({ receivedAt: T0 + i }));
          seqs.push(stored.seq);
          ids.add(stored.id);
        }
        expect(ids.size).toBe(5);
        for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
      });

      it('gives concurrent appends distinct ids and seqs', async () => {
        const stored = await Promise.all(
          Array.from({ length: 20 }, (_, i) => journal.append(makeEvent({ receivedAt: T0 + i }))),
        );
        expect(new Set(stored.map((e) => e.id)).size).toBe(20);
        expect(new Set(stored.map((e) => e.seq)).size).toBe(20);
        for (const e of stored) expect((await journal.getEvent(e.id))?.receivedAt).toBe(e.receivedAt);
      });

      it('reads the request back byte-exact: repeated headers in order and case, binary body, query, remote address', async () => {
        // Every byte value, then sequences that are not valid UTF-8 (lone continuation, truncated
        // and overlong sequences, a UTF-16 surrogate encoded as UTF-8, 0xFE/0xFF).
        const body = new Uint8Array([
          ...Array.from({ length: 256 }, (_, i) => i),
          0x80,
          0xc3,
          0x28,
          0xe2,
          0x82,
          0xc0,
          0xaf,
          0xed,
          0xa0,
          0x80,
          0xfe,
          0xff,
          0x00,
          0x00,
        ]);
        const incoming = makeEvent({
          method: 'PUT',
          path: '/hooks/github/%E2%9C%93',
          query: 'a=1&a=2&b=%20x&empty=&flag',
          headers: [
            ['X-Dup', 'first'],
            ['Content-Type', 'application/octet-stream'],
            ['x-dup', 'second'],
            ['X-DUP', 'third'],
            ['X-Spaces', '  padded value  '],
            ['X-Latin1', 'caf\u00e9'],
            ['X-Empty', ''],
          ],
          body,
          remoteAddr: '2001:db8::1',
          receivedAt: T0 + 123,
        });
        const stored = await journal.append(incoming);
        const read = await journal.getEvent(stored.id);
        expect(read).toBeDefined();
        expect(comparable(read!)).toEqual(comparable(stored));
        expect(read!.headers).toEqual(incoming.headers);
        expect(hex(read!.body)).toBe(hex(body));
        expect(read!.body.byteLength).toBe(body.byteLength);
        expect(read!.query).toBe('a=1&a=2&b=%20x&empty=&flag');
        expect(read!.method).toBe('PUT');
      });

      it('stores an empty body, no headers and a null remote address', async () => {
        const stored = await journal.append(
          makeEvent({ body: new Uint8Array(0), headers: [], remoteAddr: null, query: '' }),
        );
        const read = await journal.getEvent(stored.id);
        expect(read!.body.byteLength).toBe(0);
        expect(read!.headers).toEqual([]);
        expect(read!.remoteAddr).toBeNull();
        expect(read!.query).toBe('');
      });

      it('stores only the bytes of a body that is a view into a larger buffer', async () => {
        const backing = new Uint8Array([9, 9, 9, 1, 2, 3, 4, 9, 9]);
        const stored = await journal.append(makeEvent({ body: backing.subarray(3, 7) }));
        expect(hex((await journal.getEvent(stored.id))!.body)).toBe('01020304');
      });

      it('creates one pending delivery per destination, with no attempts yet', async () => {
        const stored = await journal.append(makeEvent({ destinations: ['crm', 'billing', 'audit'] }));
        const read = await journal.getEvent(stored.id);
        expect(read!.deliveries.map((d) => d.destination).sort()).toEqual(['audit', 'billing', 'crm']);
        expect(new Set(read!.deliveries.map((d) => d.id)).size).toBe(3);
        for (const d of read!.deliveries) {
          expect(d).toMatchObject({
            status: 'pending',
            attempts: 0,
            finishedAt: null,
            lastError: null,
            attemptLog: [],
          });
          expect(d.dueAt).not.toBeNull();
        }
        for (const destination of ['crm', 'billing', 'audit']) {
          expect(await journal.countDeliveries(destination)).toEqual({
            pending: 1,
            in_flight: 0,
            delivered: 0,
            dead: 0,
          });
        }
      });

      it('getEvent resolves undefined for an unknown id', async () => {
        await journal.append(makeEvent());
        expect(await journal.getEvent('00000000-0000-7000-8000-000000000000')).toBeUndefined();
        expect(await journal.getEvent('')).toBeUndefined();
      });
    });

    describe('claim', () => {
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

    describe('complete', () => {
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

    describe('fifo', () => {
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

    describe('nextDueAt', () => {
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

    describe('purge', () => {
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

    describe('destinations', () => {
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

    describe('countDeliveries', () => {
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

    describe('dedupe', () => {
      /** An event carrying a deduplication key whose window ends at `until`. */
      function keyed(key: string, until: number, overrides: Partial<IncomingEvent> = {}): IncomingEvent {
        return makeEvent({ dedupe: { key, until }, ...overrides });
      }

      it('a duplicate within the window stores nothing and resolves the original id and seq', async () => {
        const original = await journal.append(
          keyed('evt_1', T0 + 1_000, { receivedAt: T0, body: new TextEncoder().encode('first') }),
        );
        expect(original.duplicate).toBe(false);

        const again = await journal.append(
          keyed('evt_1', T0 + 5_000, {
            receivedAt: T0 + 999,
            body: new TextEncoder().encode('second'),
            destinations: ['crm', 'billing'],
          }),
        );
        expect(again.duplicate).toBe(true);
        expect(again.id).toBe(original.id);
        expect(again.seq).toBe(original.seq);

        // Nothing of the duplicate was stored: no event, no delivery (not even to its other destination).
        expect(hex((await journal.getEvent(original.id))!.body)).toBe(hex(new TextEncoder().encode('first')));
        expect((await journal.getEvent(original.id))!.deliveries.map((d) => d.destination)).toEqual(['crm']);
        expect(await journal.countDeliveries('crm')).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 0 });
        expect(await journal.countDeliveries('billing')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 0 });
        expect((await journal.listEvents({ limit: 10 })).events.map((e) => e.id)).toEqual([original.id]);
      });

      it('the window is the original one, compared with receivedAt: after `until` a new event is stored and becomes the original', async () => {
        const first = await journal.append(keyed('evt_1', T0 + 1_000, { receivedAt: T0 }));
        // A duplicate does not extend the window, whatever `until` it carries.
        expect((await journal.append(keyed('evt_1', T0 + 100_000, { receivedAt: T0 + 500 }))).id).toBe(first.id);

        const second = await journal.append(keyed('evt_1', T0 + 10_000, { receivedAt: T0 + 1_001 }));
        expect(second.duplicate).toBe(false);
        expect(second.id).not.toBe(first.id);
        expect(second.seq).toBeGreaterThan(first.seq);

        // From now on the key points at the second event, within its own window.
        const third = await journal.append(keyed('evt_1', T0 + 20_000, { receivedAt: T0 + 9_999 }));
        expect(third).toMatchObject({ duplicate: true, id: second.id, seq: second.seq });
        const fourth = await journal.append(keyed('evt_1', T0 + 20_000, { receivedAt: T0 + 10_001 }));
        expect(fourth.duplicate).toBe(false);
        expect(new Set([first.id, second.id, fourth.id]).size).toBe(3);
        expect(await journal.countDeliveries('crm')).toEqual({ pending: 3, in_flight: 0, delivered: 0, dead: 0 });
      });

      it('keys are per source, and events without a key or with another key are never duplicates', async () => {
        const stripe = await journal.append(keyed('k', T0 + 1_000, { source: 'stripe' }));
        const github = await journal.append(keyed('k', T0 + 1_000, { source: 'github' }));
        expect(github.duplicate).toBe(false);
        expect(github.id).not.toBe(stripe.id);
        expect(await journal.append(keyed('k', T0 + 1_000, { source: 'stripe', receivedAt: T0 + 1 }))).toMatchObject({
          duplicate: true,
          id: stripe.id,
        });
        expect(await journal.append(keyed('k', T0 + 1_000, { source: 'github', receivedAt: T0 + 1 }))).toMatchObject({
          duplicate: true,
          id: github.id,
        });

        const other = await journal.append(keyed('other', T0 + 1_000, { source: 'stripe', receivedAt: T0 + 2 }));
        const plain1 = await journal.append(makeEvent({ receivedAt: T0 + 3 }));
        const plain2 = await journal.append(makeEvent({ receivedAt: T0 + 3 }));
        for (const e of [other, plain1, plain2]) expect(e.duplicate).toBe(false);
        expect(new Set([stripe.id, github.id, other.id, plain1.id, plain2.id]).size).toBe(5);
        expect(await journal.countDeliveries('crm')).toEqual({ pending: 5, in_flight: 0, delivered: 0, dead: 0 });
      });

      it('concurrent identical appends store exactly one event', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => journal.append(keyed('same', T0 + 60_000, { receivedAt: T0 + i }))),
        );
        const stored = results.filter((r) => !r.duplicate);
        expect(stored).toHaveLength(1);
        for (const r of results) expect({ id: r.id, seq: r.seq }).toEqual({ id: stored[0]!.id, seq: stored[0]!.seq });
        expect(await journal.countDeliveries('crm')).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 0 });
        expect((await journal.listEvents({ limit: 100 })).events).toHaveLength(1);
      });

      it('purge forgets the keys whose window ended before dedupeBefore, and only those', async () => {
        const short = await journal.append(keyed('short', T0 + 1_000));
        const long = await journal.append(keyed('long', T0 + 5_000));
        // No event is finished: purge deletes none, whatever it does with keys.
        expect(await journal.purge({ deliveredBefore: T0, deadBefore: T0, dedupeBefore: T0 + 2_000 }, 100)).toBe(0);
        expect(await journal.getEvent(short.id)).toBeDefined();

        // Same receive time as before, so only the forgotten key can make a difference.
        const afterShort = await journal.append(keyed('short', T0 + 1_000, { receivedAt: T0 + 500 }));
        expect(afterShort.duplicate).toBe(false);
        expect(afterShort.id).not.toBe(short.id);
        expect(await journal.append(keyed('long', T0 + 5_000, { receivedAt: T0 + 500 }))).toMatchObject({
          duplicate: true,
          id: long.id,
        });
      });

      it('deleting the original event forgets its key', async () => {
        const original = await journal.append(keyed('evt_1', T0 + 60_000));
        expect(await journal.deleteEvent(original.id)).toBe(true);
        const again = await journal.append(keyed('evt_1', T0 + 60_000, { receivedAt: T0 + 1 }));
        expect(again.duplicate).toBe(false);
        expect(again.id).not.toBe(original.id);
        expect((await journal.getEvent(again.id))?.deliveries).toHaveLength(1);
        expect(await journal.append(keyed('evt_1', T0 + 60_000, { receivedAt: T0 + 2 }))).toMatchObject({
          duplicate: true,
          id: again.id,
        });
      });
    });

    describe('destinationStats', () => {
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

    describe('listEvents', () => {
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
          stored.push(
            await journal.append(makeEvent({ receivedAt: T0 + i, source: i % 3 === 0 ? 'github' : 'stripe' })),
          );
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
    });

    describe('replay', () => {
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

    describe('deleteEvent', () => {
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

    describe('probe', () => {
      it('resolves on a journal that takes writes, and rejects as unavailable once it is closed', async () => {
        await expect(journal.probe()).resolves.toBeUndefined();
        await journal.close();
        await expect(journal.probe()).rejects.toMatchObject({ code: 'JOURNAL_UNAVAILABLE' });
      });
    });

    describe('pause', () => {
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
  });
}
