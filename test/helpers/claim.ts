/** A claim as the scheduler hands it to a delivery client, for testing the client directly. */
import type { Claim, HeaderPair, StoredEvent } from '../../src/journal/port.js';

export function claimOf(
  event: Pick<StoredEvent, 'source' | 'receivedAt'> & {
    headers: HeaderPair[];
    body: string | Uint8Array;
    id?: string;
    /** The sender's address as the listener saw it; default none (then no X-Forwarded-For is added). */
    remoteAddr?: string | null;
  },
  attempt = 1,
): Claim {
  const body = typeof event.body === 'string' ? Buffer.from(event.body) : event.body;
  const stored: StoredEvent = {
    id: event.id ?? '0b7c5d0e-8f7a-4c1e-9d1a-3f9e2b6c4a11',
    seq: 1,
    source: event.source,
    method: 'POST',
    path: `/in/${event.source}`,
    query: '',
    headers: event.headers,
    body,
    remoteAddr: event.remoteAddr ?? null,
    receivedAt: event.receivedAt,
  };
  // `as Claim`: the lease bookkeeping fields are the journal's business, not the client's.
  return {
    deliveryId: 1,
    destination: 'crm',
    attempt,
    leaseUntil: Date.now() + 60_000,
    budget: { attemptsBefore: 0, since: event.receivedAt },
    event: stored,
  } as Claim;
}

/** Value of the first header named `name` (any case) in a raw header list. */
export function header(raw: string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}

/** The header names of a raw list, as sent. */
export function names(raw: string[]): string[] {
  return raw.filter((_, i) => i % 2 === 0);
}
