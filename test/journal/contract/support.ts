/**
 * What the contract areas share: how a backend is handed to the suite, the journal each test gets,
 * and the event and claim helpers. Only the port is used here (no SQL, no backend internals), and
 * every time is passed explicitly: no test sleeps or reads a clock for a decision.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import type {
  AttemptRecord,
  Claim,
  ClaimRequest,
  IncomingEvent,
  Journal,
  StoredEvent,
} from '../../../src/journal/port.js';

/** A journal opened for one test, and how to dispose of it (close it and delete its storage). */
export interface OpenedJournal {
  journal: Journal;
  /** Releases everything the test opened (this journal and any `reopen`ed one): connections, files, schemas. */
  cleanup(): Promise<void>;
  /**
   * Opens another journal on the same storage, as a restart or a second process would; present when
   * the backend declares `supports.reopen`.
   */
  reopen?(): Promise<Journal>;
}

/** What a backend declares it supports beyond the port itself; the tests of anything else are skipped. */
export interface JournalFeatures {
  /** `OpenedJournal.reopen`: its storage outlives a journal object. */
  reopen: boolean;
}

/** A backend handed to the contract suite. */
export interface JournalBackend {
  /** Label in the test names, e.g. `'sqlite'`. */
  name: string;
  /** Opens a fresh, empty and isolated journal; called before every test, `cleanup` after it. */
  open(): Promise<OpenedJournal>;
  supports: JournalFeatures;
}

/** Base of the times used in the contract (a fixed instant, far from 0 so that `at - x` stays positive). */
export const T0 = Date.UTC(2030, 0, 1);
/** The lease used by claims unless a test says otherwise. */
export const LEASE = 30_000;

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
export function hex(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined
    ? undefined
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A stored event with its body as hex (Buffer and Uint8Array bodies compare equal this way). */
export function comparable(event: StoredEvent): Omit<StoredEvent, 'body'> & { body: string | undefined } {
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
 * Registers, in the enclosing `describe`, a fresh journal of `backend` for every test, and returns
 * it with the claim helpers. `journal` stands for the current test's journal (it forwards each call),
 * so that the tests can name it once.
 */
export function journalPerTest(backend: JournalBackend) {
  let opened: OpenedJournal | undefined;

  beforeEach(async () => {
    opened = await backend.open();
  });

  afterEach(async () => {
    await opened?.cleanup();
    opened = undefined;
  });

  function current(): OpenedJournal {
    if (!opened) throw new Error('the contract journal is only open during a test');
    return opened;
  }

  const journal: Journal = {
    get capabilities() {
      return current().journal.capabilities;
    },
    storageFull: () => current().journal.storageFull(),
    append: (event) => current().journal.append(event),
    claim: (request) => current().journal.claim(request),
    complete: (c, attempt, verdict) => current().journal.complete(c, attempt, verdict),
    release: (claims, now) => current().journal.release(claims, now),
    nextDueAt: (destination, fifo, byKey) => current().journal.nextDueAt(destination, fifo, byKey),
    purge: (cutoffs, limit) => current().journal.purge(cutoffs, limit),
    getEvent: (id) => current().journal.getEvent(id),
    findEventIds: (prefix, limit) => current().journal.findEventIds(prefix, limit),
    countDeliveries: (destination) => current().journal.countDeliveries(destination),
    destinationStats: (destination, now) => current().journal.destinationStats(destination, now),
    listEvents: (query) => current().journal.listEvents(query),
    replay: (filter, now) => current().journal.replay(filter, now),
    deleteEvent: (id) => current().journal.deleteEvent(id),
    setPaused: (destination, paused, now) => current().journal.setPaused(destination, paused, now),
    pausedDestinations: () => current().journal.pausedDestinations(),
    setHold: (destination, until, now) => current().journal.setHold(destination, until, now),
    heldDestinations: (now) => current().journal.heldDestinations(now),
    setPace: (destination, pace, now) => current().journal.setPace(destination, pace, now),
    destinationPaces: () => current().journal.destinationPaces(),
    recentSends: (destination, since) => current().journal.recentSends(destination, since),
    probe: () => current().journal.probe(),
    close: () => current().journal.close(),
  };

  /** Another journal on the current test's storage (the backend must declare `supports.reopen`). */
  function reopen(): Promise<Journal> {
    const { reopen } = current();
    if (!reopen) throw new Error(`the ${backend.name} backend declares reopen but its journals have no reopen()`);
    return reopen();
  }

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

  return { journal, reopen, claim, claimOne, attemptOf, finish, deliveryOf };
}
