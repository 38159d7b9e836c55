/**
 * Event ids: UUIDv7 (time-ordered, so the journal's unique index grows at its end), from the
 * `uuid` package, fed from a pool of random bytes: asking the OS for 16 bytes per id was a
 * noticeable share of each insert on the ingest path; one fill per 256 ids is not.
 */
import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

const pool = new Uint8Array(16 * 256);
let offset = pool.length;

/** A new random, time-ordered event id. */
export function newEventId(): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const random = pool.subarray(offset, offset + 16);
  offset += 16;
  return v7({ random });
}
