/**
 * Contract suite of the `Journal` port (src/journal.ts). Every backend must pass it: the SQLite
 * one runs it in sqlite.test.ts, a PostgreSQL one will call `describeJournalContract` the same way.
 *
 * Only the port is used here (no SQL, no backend internals), and every time is passed explicitly:
 * no test sleeps or reads a clock for a decision.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AttemptRecord, Claim, ClaimRequest, IncomingEvent, Journal, StoredEvent } from '../../src/journal.js';

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
  return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
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
      const attempt = verdict === 'delivered'
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
        const stored = await Promise.all(Array.from({ length: 20 }, (_, i) => journal.append(makeEvent({ receivedAt: T0 + i }))));
        expect(new Set(stored.map((e) => e.id)).size).toBe(20);
        expect(new Set(stored.map((e) => e.seq)).size).toBe(20);
        for (const e of stored) expect((await journal.getEvent(e.id))?.receivedAt).toBe(e.receivedAt);
      });

      it('reads the request back byte-exact: repeated headers in order and case, binary body, query, remote address', async () => {
        // Every byte value, then sequences that are not valid UTF-8 (lone continuation, truncated
        // and overlong sequences, a UTF-16 surrogate encoded as UTF-8, 0xFE/0xFF).
        const body = new Uint8Array([
          ...Array.from({ length: 256 }, (_, i) => i),
          0x80, 0xc3, 0x28, 0xe2, 0x82, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xfe, 0xff, 0x00, 0x00,
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
        const stored = await journal.append(makeEvent({ body: new Uint8Array(0), headers: [], remoteAddr: null, query: '' }));
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
          expect(d).toMatchObject({ status: 'pending', attempts: 0, finishedAt: null, lastError: null, attemptLog: [] });
          expect(d.dueAt).not.toBeNull();
        }
        for (const destination of ['crm', 'billing', 'audit']) {
          expect(await journal.countDeliveries(destination)).toEqual({ pending: 1, in_flight: 0, delivered: 0, dead: 0 });
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
          expect(await journal.complete(c, attemptOf(c, T0 + 20, { status: 503, error: 'HTTP 503' }), { kind: 'retry', at: retryAt[index]! })).toBe(true);
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
          await journal.complete(c, attemptOf(c, T0 + 20, { status: 500, error: 'HTTP 500' }), { kind: 'retry', at: retryAt.get(c.event.id)! });
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
        expect({ attempt: a.attempt, startedAt: a.startedAt, durationMs: a.durationMs, status: a.status, error: a.error }).toEqual({
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
        expect(d).toMatchObject({ status: 'pending', attempts: 1, dueAt: at, finishedAt: null, lastError: 'timeout after 5000 ms' });
        expect(d.attemptLog).toHaveLength(1);
        expect(d.attemptLog[0]).toMatchObject({ attempt: 1, startedAt: T0, durationMs: 5_000, error: 'timeout after 5000 ms' });
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
        const attempt: AttemptRecord = { attempt: 1, startedAt: T0 + 2, durationMs: 3, status: 400, error: 'HTTP 400', response: new TextEncoder().encode('bad') };
        expect(await journal.complete(c, attempt, { kind: 'dead' })).toBe(true);

        const d = await deliveryOf(stored.id, 'crm');
        expect(d).toMatchObject({ status: 'dead', attempts: 1, dueAt: null, finishedAt: T0 + 5, lastError: 'HTTP 400' });
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
          expect(await journal.complete(c, attemptOf(c, now, { status, error: n < 3 ? `HTTP ${status}` : undefined }), verdict)).toBe(true);
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
        expect(await journal.complete(old, attemptOf(old, T0, { status: 410, error: 'HTTP 410' }), { kind: 'dead' })).toBe(false);
        expect(await journal.complete(old, attemptOf(old, T0, { status: 503, error: 'HTTP 503' }), { kind: 'retry', at: T0 })).toBe(false);

        const d = await deliveryOf(stored.id, 'crm');
        expect(d).toMatchObject({ status: 'in_flight', attempts: 2, dueAt: newer.leaseUntil, finishedAt: null });
        // Ignored means ignored: the late reports are not in the log (attempt 1 is there once, as abandoned).
        expect(d.attemptLog.map((a) => a.attempt)).toEqual([1]);
        expect(d.attemptLog[0]!.status).toBeUndefined();
        // The newer lease is still exclusive, and its outcome is what counts.
        expect(await claim('crm', newer.leaseUntil - 1)).toEqual([]);
        expect(await journal.complete(newer, attemptOf(newer, old.leaseUntil + 2, { status: 503, error: 'HTTP 503' }), { kind: 'retry', at: T0 + 50_000 })).toBe(true);
        expect(await deliveryOf(stored.id, 'crm')).toMatchObject({ status: 'pending', attempts: 2, dueAt: T0 + 50_000, lastError: 'HTTP 503' });
      });

      it('after the newer claim finished, a late report of the older one is ignored too', async () => {
        const stored = await journal.append(makeEvent());
        const old = await claimOne('crm', T0, { leaseMs: 1_000 });
        const newer = await claimOne('crm', old.leaseUntil + 1, { leaseMs: 1_000 });
        expect(await journal.complete(newer, attemptOf(newer, old.leaseUntil + 1, { status: 410, error: 'HTTP 410' }), { kind: 'dead' })).toBe(true);
        expect(await journal.complete(old, attemptOf(old, T0), { kind: 'delivered' })).toBe(false);
        expect(await deliveryOf(stored.id, 'crm')).toMatchObject({ status: 'dead', attempts: 2, lastError: 'HTTP 410', dueAt: null });
        expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 1 });
      });

      it('a second report of the same claim is ignored', async () => {
        const stored = await journal.append(makeEvent());
        const c = await claimOne('crm', T0);
        expect(await journal.complete(c, attemptOf(c, T0, { status: 500, error: 'HTTP 500' }), { kind: 'retry', at: T0 + 1_000 })).toBe(true);
        expect(await journal.complete(c, attemptOf(c, T0), { kind: 'delivered' })).toBe(false);
        expect(await deliveryOf(stored.id, 'crm')).toMatchObject({ status: 'pending', dueAt: T0 + 1_000, attempts: 1 });
      });

      it('an expired lease that nobody took over can still be completed', async () => {
        const stored = await journal.append(makeEvent());
        const c = await claimOne('crm', T0, { leaseMs: 1_000 });
        // Past leaseUntil, but no other claim happened: the attempt's outcome is still the latest word.
        expect(await journal.complete(c, attemptOf(c, c.leaseUntil + 500, { durationMs: 1 }), { kind: 'delivered' })).toBe(true);
        expect(await deliveryOf(stored.id, 'crm')).toMatchObject({ status: 'delivered', attempts: 1 });
        expect(await claim('crm', c.leaseUntil + 10_000)).toEqual([]);
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
        expect(await journal.complete(head, attemptOf(head, T0 + 10, { status: 503, error: 'HTTP 503' }), { kind: 'retry', at })).toBe(true);
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
        await journal.complete(crmHead, attemptOf(crmHead, T0 + 10, { status: 503, error: 'HTTP 503' }), { kind: 'retry', at: T0 + 100_000 });
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
        await journal.complete(head, attemptOf(head, T0, { status: 503, error: 'HTTP 503' }), { kind: 'retry', at: T0 + 90_000 });
        const other = await claimOne('crm', T0 + 1, { limit: 1 });
        await journal.complete(other, attemptOf(other, T0 + 1, { status: 503, error: 'HTTP 503' }), { kind: 'retry', at: T0 + 40_000 });
        expect(await journal.nextDueAt('crm', false)).toBe(T0 + 40_000);
        expect(await journal.nextDueAt('crm', true)).toBe(T0 + 90_000);
      });

      it('skips finished deliveries', async () => {
        await journal.append(makeEvent({ receivedAt: T0 }));
        await journal.append(makeEvent({ receivedAt: T0 + 1 }));
        const head = await claimOne('crm', T0, { limit: 1, fifo: true });
        await finish(head, T0 + 5, 'dead');
        const other = await claimOne('crm', T0 + 6, { limit: 1 });
        await journal.complete(other, attemptOf(other, T0 + 6, { status: 503, error: 'HTTP 503' }), { kind: 'retry', at: T0 + 70_000 });
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
      async function finishedEvent(outcomes: Record<string, { verdict: 'delivered' | 'dead'; endedAt: number }>): Promise<StoredEvent> {
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
        expect(await journal.purge({ deliveredBefore: T0 + 2_000, deadBefore: T0 + 2_000 }, 100)).toBe(1);
        expect(await journal.getEvent(stored.id)).toBeUndefined();
        expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 0 });
        expect(await journal.purge({ deliveredBefore: far, deadBefore: far }, 100)).toBe(0);
      });

      it('keeps events finished at or after the cutoff', async () => {
        const stored = await finishedEvent({ crm: { verdict: 'delivered', endedAt: T0 + 1_000 } });
        expect(await journal.purge({ deliveredBefore: T0 + 1_000, deadBefore: T0 + 1_000 }, 100)).toBe(0);
        expect(await journal.purge({ deliveredBefore: T0 + 500, deadBefore: far }, 100)).toBe(0);
        expect(await journal.getEvent(stored.id)).toBeDefined();
      });

      it('uses deliveredBefore for delivered events and deadBefore for dead ones', async () => {
        const delivered = await finishedEvent({ crm: { verdict: 'delivered', endedAt: T0 + 1_000 } });
        const dead = await finishedEvent({ crm: { verdict: 'dead', endedAt: T0 + 1_000 } });

        // Delivered events expire, dead ones are kept longer.
        expect(await journal.purge({ deliveredBefore: T0 + 2_000, deadBefore: T0 }, 100)).toBe(1);
        expect(await journal.getEvent(delivered.id)).toBeUndefined();
        expect(await journal.getEvent(dead.id)).toBeDefined();

        expect(await journal.purge({ deliveredBefore: T0, deadBefore: T0 + 2_000 }, 100)).toBe(1);
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

        expect(await journal.purge({ deliveredBefore: far, deadBefore: far }, 100)).toBe(0);
        for (const e of [pending, retrying, inFlight]) expect(await journal.getEvent(e.id)).toBeDefined();

        // Once the last delivery of the fan-out event finishes, it can go.
        const billing = await claimOne('billing', T0 + 20);
        await finish(billing, T0 + 30, 'delivered');
        expect(await journal.purge({ deliveredBefore: far, deadBefore: far }, 100)).toBe(1);
        expect(await journal.getEvent(pending.id)).toBeUndefined();
        expect(await journal.getEvent(retrying.id)).toBeDefined();
        expect(await journal.getEvent(inFlight.id)).toBeDefined();
      });

      it('a fan-out event goes only when every delivery is past its cutoff', async () => {
        const stored = await finishedEvent({
          crm: { verdict: 'delivered', endedAt: T0 + 1_000 },
          billing: { verdict: 'delivered', endedAt: T0 + 5_000 },
        });
        expect(await journal.purge({ deliveredBefore: T0 + 2_000, deadBefore: T0 + 2_000 }, 100)).toBe(0);
        expect(await journal.getEvent(stored.id)).toBeDefined();
        expect(await journal.purge({ deliveredBefore: T0 + 6_000, deadBefore: T0 + 6_000 }, 100)).toBe(1);
        expect(await journal.getEvent(stored.id)).toBeUndefined();
        expect(await journal.countDeliveries('crm')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 0 });
        expect(await journal.countDeliveries('billing')).toEqual({ pending: 0, in_flight: 0, delivered: 0, dead: 0 });
      });

      it('an event with both delivered and dead deliveries goes once all are past both cutoffs', async () => {
        const stored = await finishedEvent({
          crm: { verdict: 'delivered', endedAt: T0 + 1_000 },
          billing: { verdict: 'dead', endedAt: T0 + 1_000 },
        });
        expect(await journal.purge({ deliveredBefore: T0 + 2_000, deadBefore: T0 }, 100)).toBe(0);
        expect(await journal.getEvent(stored.id)).toBeDefined();
        expect(await journal.purge({ deliveredBefore: T0 + 2_000, deadBefore: T0 + 2_000 }, 100)).toBe(1);
        expect(await journal.getEvent(stored.id)).toBeUndefined();
      });

      it('deletes at most `limit` events per call, counting events (not deliveries)', async () => {
        const stored = [];
        for (let i = 0; i < 5; i++) {
          stored.push(await finishedEvent({
            crm: { verdict: 'delivered', endedAt: T0 + 100 + i },
            billing: { verdict: 'delivered', endedAt: T0 + 100 + i },
            audit: { verdict: 'delivered', endedAt: T0 + 100 + i },
          }));
        }
        const cutoffs = { deliveredBefore: far, deadBefore: far };
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
        expect(await journal.purge({ deliveredBefore: far, deadBefore: far }, 100)).toBe(1);
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
        for (let i = 0; i < 6; i++) await journal.append(makeEvent({ receivedAt: T0 + i, destinations: ['crm', 'other'] }));
        const claims = await claim('crm', T0 + 10, { limit: 4 });
        expect(claims).toHaveLength(4);
        await finish(claims[0]!, T0 + 20, 'delivered');
        await finish(claims[1]!, T0 + 20, 'delivered');
        await finish(claims[2]!, T0 + 20, 'dead');
        expect(await journal.countDeliveries('crm')).toEqual({ pending: 2, in_flight: 1, delivered: 2, dead: 1 });
        expect(await journal.countDeliveries('other')).toEqual({ pending: 6, in_flight: 0, delivered: 0, dead: 0 });
        await journal.complete(claims[3]!, attemptOf(claims[3]!, T0 + 20, { status: 500, error: 'HTTP 500' }), { kind: 'retry', at: T0 + 100 });
        expect(await journal.countDeliveries('crm')).toEqual({ pending: 3, in_flight: 0, delivered: 2, dead: 1 });
      });
    });
  });
}
