/**
 * The shared token bucket of a destination (`destination_tokens`), for `Journal.reserveSendTokens`:
 * one row per destination, refilled on the database's clock (the nodes' clocks never enter), taken
 * from under the row's lock, so that nodes reserving at once take turns.
 *
 * One round trip, committed with `synchronous_commit = on` like every journal write: a reservation
 * committed without waiting for the disk could be lost in a database crash, and a fast restart or
 * failover would grant its tokens again within the same second, exceeding rate + burst once. The
 * fsync costs a fraction of a millisecond per reservation (test/bench/README.md).
 */
import type pg from 'pg';
import { checkout, DATABASE_NOW_MS, toJournalError } from './connection.js';

/** Takes up to `want` whole tokens; resolves how many. */
export async function reserveSendTokens(
  pool: pg.Pool,
  destination: string,
  want: number,
  bucket: { rate: number; capacity: number },
): Promise<number> {
  const n = (x: number) => {
    if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
    return String(x);
  };
  const name = `'${destination.replaceAll("'", "''")}'`;
  // The row is locked first, so that the UPDATE's snapshot and clock are taken once this node's
  // turn has come (read before the lock, another node's refill would be lost).
  // Parameters cannot be bound in a multi-statement query: the values are numbers checked above and
  // the name quoted as a literal.
  const text = `BEGIN;
INSERT INTO destination_tokens (name, tokens, refilled_at) VALUES (${name}, ${n(bucket.capacity)}, ${DATABASE_NOW_MS})
  ON CONFLICT (name) DO NOTHING;
SELECT 1 FROM destination_tokens WHERE name = ${name} FOR UPDATE;
UPDATE destination_tokens t SET tokens = x.avail - x.taken, refilled_at = x.at
FROM (
  SELECT s.name, s.avail, LEAST(floor(s.avail), ${n(want)}) AS taken, s.at FROM (
    SELECT name, LEAST(${n(bucket.capacity)}::float8, tokens + GREATEST(0, c.ms - refilled_at) * ${n(bucket.rate)}::float8 / 1000)
             AS avail, GREATEST(refilled_at, c.ms) AS at
    FROM destination_tokens, (SELECT ${DATABASE_NOW_MS} AS ms) AS c WHERE name = ${name}) AS s
) AS x
WHERE t.name = x.name RETURNING x.taken;
COMMIT;`;
  const { client, release } = await checkout(pool);
  try {
    const results = (await client.query(text)) as unknown as pg.QueryResult<{ taken: number }>[];
    release();
    return results.find((r) => r.command === 'UPDATE')?.rows[0]?.taken ?? 0;
  } catch (error) {
    // A failed statement leaves the transaction open and aborted: this connection is not reused.
    release(true);
    throw toJournalError(error);
  }
}
