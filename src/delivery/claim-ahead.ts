/**
 * How many deliveries a destination loop claims at once: enough to fill its free slots, plus,
 * once attempts are known to be quick, about `CLAIM_AHEAD_MS` worth of further ones, so that a
 * freed slot is refilled from memory instead of waiting for a claim to commit (an fsync: with one
 * claim per freed slot, delivery ran at a fifth of what the consumer could take). A fifo
 * destination never claims ahead, nor does one probing a consumer that was down; a paced one
 * claims at most what its pacer allows within `CLAIM_AHEAD_MS`; large bodies shrink the
 * claim-ahead to `MAX_AHEAD_BYTES`.
 */
import type { Pacer } from './pacing/pacer.js';

/** Most deliveries claimed in one go. */
const CLAIM_BATCH = 64;
/** Claims ahead of free slots cover about this much sending time. */
export const CLAIM_AHEAD_MS = 1_000;
/** Most deliveries claimed ahead of free slots, and most body bytes they may hold in memory. */
const MAX_AHEAD = 256;
const MAX_AHEAD_BYTES = 4 * 1024 * 1024;

/** Where the loop stands when it claims. */
export interface ClaimRoom {
  /** Most requests at the consumer now (one while probing). */
  cap: number;
  inFlight: number;
  /** Claimed ahead, not sent yet. */
  buffered: number;
  probing: boolean;
}

/** The claim-ahead of one destination; see the module comment. */
export class ClaimAhead {
  /** Moving average of attempt durations (ms). Unknown before the first. */
  private attemptMs: number | undefined;
  /** Moving average of the body size of sent events, in bytes. */
  private bodyBytes = 0;

  constructor(private readonly fifo: boolean) {}

  /** A request with a body of this size went out. */
  sent(bodyBytes: number): void {
    this.bodyBytes = this.bodyBytes === 0 ? bodyBytes : average(this.bodyBytes, bodyBytes);
  }

  /** An attempt took this long. */
  answered(durationMs: number): void {
    this.attemptMs = this.attemptMs === undefined ? durationMs : average(this.attemptMs, durationMs);
  }

  /** How many deliveries to claim now (0 or less: none). */
  limit(now: number, pacer: Pacer, room: ClaimRoom): number {
    const ahead =
      this.fifo || this.attemptMs === undefined || room.probing
        ? 0
        : Math.min(
            MAX_AHEAD,
            Math.floor((pacer.concurrency * CLAIM_AHEAD_MS) / Math.max(1, this.attemptMs)),
            Math.floor(MAX_AHEAD_BYTES / Math.max(1, this.bodyBytes)),
          );
    const slots = room.cap + ahead - room.inFlight - room.buffered;
    const affordable = pacer.affordable(now, ahead > 0 ? CLAIM_AHEAD_MS : 0) - room.buffered;
    return Math.min(slots, affordable, CLAIM_BATCH);
  }
}

/** Exponential moving average: recent values weigh most, one odd value moves it by a fifth. */
function average(mean: number, value: number): number {
  return mean + 0.2 * (value - mean);
}
