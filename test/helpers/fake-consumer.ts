/**
 * A consumer without a network: a `DeliveryClient` whose answers a test decides, each after a
 * delay on the (fake) timers, and which keeps what it was sent, when, and how many at once.
 */
import type { DeliveryClient } from '../../src/delivery/http-client.js';
import type { Claim } from '../../src/journal/port.js';

/** How the consumer answers one request: a status (with Retry-After), or no answer at all. */
export type FakeAnswer =
  | { status: number; retryAfter?: string; delayMs?: number }
  | { error: string; delayMs?: number };

export interface FakeConsumer {
  /** Pass as the scheduler's `createClient`. */
  createClient: () => DeliveryClient;
  /** Each request, with the time it was sent (Date.now, faked in the tests). */
  readonly requests: { at: number; claim: Claim }[];
  /** Requests waiting for their answer now. */
  readonly inFlight: number;
  /** Most requests waiting for their answer at once. */
  readonly maxInFlight: number;
  /** Most requests at once since `resetMax()`. */
  resetMax(): void;
}

export function fakeConsumer(answer: (claim: Claim, request: number) => FakeAnswer): FakeConsumer {
  const requests: { at: number; claim: Claim }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client: DeliveryClient = {
    send(claim, signal) {
      const startedAt = Date.now();
      requests.push({ at: startedAt, claim });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const a = answer(claim, requests.length);
      return new Promise((resolve) => {
        const finish = (outcome: { status?: number; retryAfter?: string; error?: string }) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', aborted);
          inFlight -= 1;
          resolve({ startedAt, durationMs: Date.now() - startedAt, ...outcome });
        };
        const aborted = () => finish({ error: 'aborted: shut down during the attempt' });
        const timer = setTimeout(
          () => finish('error' in a ? { error: a.error } : { status: a.status, retryAfter: a.retryAfter }),
          a.delayMs ?? 0,
        );
        signal?.addEventListener('abort', aborted, { once: true });
      });
    },
    close: async () => {},
  };
  return {
    createClient: () => client,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    resetMax() {
      maxInFlight = inFlight;
    },
  };
}
