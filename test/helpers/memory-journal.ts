/**
 * An in-memory journal with the parts of `Journal` a destination loop uses (claim, complete,
 * release, nextDueAt, setHold, setPaused, recentSends), for unit tests of the delivery loop that
 * run on fake timers. It keeps the rules the loop relies on: a claim leases and counts the attempt, an
 * outcome or release for an older claim is ignored, fifo claims only the oldest unfinished event.
 * Replays and priorities are left out. Everything else throws.
 */
import type {
  AttemptRecord,
  Claim,
  ClaimRequest,
  DeliveryStatus,
  Journal,
  StoredEvent,
  StoredPace,
  Verdict,
} from '../../src/journal/port.js';

/** One delivery as the memory journal holds it. */
export interface MemoryDelivery {
  id: number;
  destination: string;
  event: StoredEvent;
  status: DeliveryStatus;
  attempts: number;
  /** Due time (pending) or lease end (in flight); null once finished. */
  dueAt: number | null;
  attemptLog: AttemptRecord[];
}

export interface MemoryJournal extends Journal {
  readonly deliveries: MemoryDelivery[];
  /** Adds one event with a pending delivery to `destination`, due at `now`; returns the delivery. */
  add(destination: string, now: number, body?: string): MemoryDelivery;
  /** Deliveries given back by `release`, in order. */
  readonly released: Claim[];
  /** Holds recorded by `setHold`. */
  readonly holds: { destination: string; until: number }[];
  readonly paused: Set<string>;
  /** Paces recorded by `setPace`, by destination. */
  readonly paces: Map<string, StoredPace>;
}

export function createMemoryJournal(): MemoryJournal {
  const deliveries: MemoryDelivery[] = [];
  const released: Claim[] = [];
  const holds: { destination: string; until: number }[] = [];
  const paused = new Set<string>();
  const paces = new Map<string, StoredPace>();
  let seq = 0;
  const unsupported = (name: string) => () => Promise.reject(new Error(`memory journal: ${name} is not implemented`));
  /** The delivery `claim` still holds the lease of, if it does. */
  const leased = (claim: Claim) =>
    deliveries.find((d) => d.id === claim.deliveryId && d.status === 'in_flight' && d.attempts === claim.attempt);
  const unfinished = (destination: string) =>
    deliveries.filter((d) => d.destination === destination && d.dueAt !== null);

  return {
    capabilities: { commitStats: false, crossProcessWakeups: false },
    storageFull: () => false,
    deliveries,
    released,
    holds,
    paused,
    paces,
    add(destination, now, body = '{}') {
      seq += 1;
      const event: StoredEvent = {
        id: `event-${seq}`,
        seq,
        source: 'shop',
        method: 'POST',
        path: '/in/shop',
        query: '',
        headers: [['content-type', 'application/json']],
        body: Buffer.from(body),
        remoteAddr: '127.0.0.1',
        receivedAt: now,
      };
      const delivery: MemoryDelivery = {
        id: seq,
        destination,
        event,
        status: 'pending',
        attempts: 0,
        dueAt: now,
        attemptLog: [],
      };
      deliveries.push(delivery);
      return delivery;
    },

    async claim(request: ClaimRequest) {
      const { destination, now, leaseMs, limit } = request;
      const open = unfinished(destination);
      const due = request.fifo
        ? open.slice(0, 1).filter((d) => d.dueAt! <= now)
        : open
            .filter((d) => d.dueAt! <= now)
            .sort((a, b) => a.dueAt! - b.dueAt! || a.id - b.id)
            .slice(0, limit);
      return due.map((d) => {
        d.status = 'in_flight';
        d.attempts += 1;
        d.dueAt = now + leaseMs;
        return {
          deliveryId: d.id,
          destination,
          attempt: d.attempts,
          leaseUntil: d.dueAt,
          budget: { attemptsBefore: 0, since: d.event.receivedAt },
          event: d.event,
        };
      });
    },

    async complete(claim: Claim, attempt: AttemptRecord, verdict: Verdict) {
      const d = leased(claim);
      if (!d) return false;
      d.attemptLog.push(attempt);
      if (verdict.kind === 'retry') {
        d.status = 'pending';
        d.dueAt = verdict.at;
      } else {
        d.status = verdict.kind;
        d.dueAt = null;
      }
      return true;
    },

    async release(claims: readonly Claim[], now: number) {
      let n = 0;
      for (const claim of claims) {
        const d = leased(claim);
        if (!d) continue;
        d.status = 'pending';
        d.attempts -= 1;
        d.dueAt = now;
        released.push(claim);
        n += 1;
      }
      return n;
    },

    async nextDueAt(destination: string, fifo: boolean) {
      const open = unfinished(destination);
      if (open.length === 0) return undefined;
      return fifo ? open[0]!.dueAt! : Math.min(...open.map((d) => d.dueAt!));
    },

    async setHold(destination: string, until: number) {
      holds.push({ destination, until });
    },

    async recentSends(destination: string, since: number) {
      const mine = deliveries.filter((d) => d.destination === destination);
      const attempts = mine.flatMap((d) => d.attemptLog).filter((a) => a.startedAt >= since).length;
      return attempts + mine.filter((d) => d.status === 'in_flight' && d.dueAt! > since).length;
    },

    async setPaused(destination: string, isPaused: boolean) {
      if (isPaused) paused.add(destination);
      else paused.delete(destination);
    },

    append: unsupported('append'),
    purge: unsupported('purge'),
    getEvent: unsupported('getEvent'),
    findEventIds: unsupported('findEventIds'),
    countDeliveries: unsupported('countDeliveries'),
    destinationStats: unsupported('destinationStats'),
    listEvents: unsupported('listEvents'),
    replay: unsupported('replay'),
    deleteEvent: unsupported('deleteEvent'),
    pausedDestinations: async () => [...paused],
    heldDestinations: unsupported('heldDestinations'),
    async setPace(destination: string, pace: StoredPace | undefined) {
      if (pace) paces.set(destination, pace);
      else paces.delete(destination);
    },
    destinationPaces: async () => Object.fromEntries(paces),
    probe: async () => {},
    close: async () => {},
  };
}
