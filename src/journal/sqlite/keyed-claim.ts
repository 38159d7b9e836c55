/**
 * The queries of keyed ordering (`ClaimRequest.byKey`): only the head of each ordering key, its
 * oldest unfinished delivery, may be claimed. Finding the heads never reads the backlog behind
 * them: a recursive query walks the destination's distinct keys through the index
 * `deliveries_by_order_key` (destination, order_key, event_seq over unfinished deliveries), taking
 * each key's first entry there: two lookups per key with a backlog, whatever its length. That cost
 * grows with the number of such keys (test/bench/README.md), so a claim first looks only at the
 * earliest due live deliveries (`dueHeadsInWindow`), which with many keys are mostly heads, and
 * walks the keys only when that does not fill the claim.
 * Deliveries without a key (order_key NULL) are one more group, looked up apart.
 */
import type Database from 'better-sqlite3';

/**
 * The head of every key of `@destination` with unfinished deliveries: (k, id, due, priority). Each
 * step is one seek in the index, whose first entry past the previous key is the next key's head
 * (it ends with event_seq, and holds the id), then one read of that row for its due time.
 */
const HEADS = `
  WITH RECURSIVE heads(k, id, due, priority) AS (
    SELECT d.order_key, d.id, d.due_at, d.priority FROM deliveries d
    WHERE d.id = (SELECT id FROM deliveries
                  WHERE destination = @destination AND finished_at IS NULL AND order_key IS NOT NULL
                  ORDER BY order_key, event_seq LIMIT 1)
    UNION ALL
    SELECT d.order_key, d.id, d.due_at, d.priority FROM heads JOIN deliveries d
    ON d.id = (SELECT id FROM deliveries
               WHERE destination = @destination AND finished_at IS NULL AND order_key > heads.k
               ORDER BY order_key, event_seq LIMIT 1)
  ),
  keyless(id, due, priority) AS (
    SELECT d.id, d.due_at, d.priority FROM deliveries d
    WHERE d.id = (SELECT id FROM deliveries
                  WHERE destination = @destination AND finished_at IS NULL AND order_key IS NULL
                  ORDER BY event_seq LIMIT 1)
  ),
  all_heads(id, due, priority) AS (SELECT id, due, priority FROM heads UNION ALL SELECT id, due, priority FROM keyless)`;

/**
 * How many of the earliest due live deliveries the quick path looks at, per head wanted. With many
 * keys those are mostly heads, and it finds them without walking every key.
 */
const WINDOW_PER_HEAD = 4;

/** The prepared queries of keyed ordering; `Row` is the array of what `claimColumns` selects (raw rows). */
export interface KeyedQueries<Row extends unknown[]> {
  /**
   * The quick path: the heads among the `@window` earliest due live deliveries, earliest due first,
   * at most `limit`. When it finds `limit` of them they are the ones `dueHeads` would give (a live
   * head due earlier would be in the window); with fewer, the window held deliveries waiting behind
   * their key's head, and only `dueHeads` knows.
   */
  dueHeadsInWindow: Database.Statement<[{ destination: string; now: number; limit: number; window: number }], Row>;
  /** Due heads, live before replayed, earliest due first, at most `limit`, with their events. */
  dueHeads: Database.Statement<[{ destination: string; now: number; limit: number }], Row>;
  /** Earliest due time among the heads (NULL when the destination has nothing unfinished). */
  nextDue: Database.Statement<[{ destination: string }], { dueAt: number | null }>;
}

/**
 * Prepares the keyed queries. `claimColumns` selects a claim's columns from `d` (deliveries) and `e`
 * (events): the heads are picked first, and only the picked ones are joined to their events. Those
 * two return raw rows, arrays of the columns, as the other claim queries do (see delivery-claims.ts).
 */
export function prepareKeyedQueries<Row extends unknown[]>(
  sqlite: Database.Database,
  claimColumns: string,
): KeyedQueries<Row> {
  return {
    dueHeadsInWindow: sqlite
      .prepare<[{ destination: string; now: number; limit: number; window: number }], Row>(
        `SELECT ${claimColumns} FROM (
         SELECT id FROM deliveries WHERE destination = @destination AND priority = 0 AND due_at <= @now
         ORDER BY due_at, id LIMIT @window) w
       JOIN deliveries d ON d.id = w.id JOIN events e ON e.seq = d.event_seq
       WHERE NOT EXISTS (SELECT 1 FROM deliveries o
                         WHERE o.destination = @destination AND o.order_key IS d.order_key
                           AND o.finished_at IS NULL AND o.event_seq < d.event_seq)
       ORDER BY d.due_at, d.id LIMIT @limit`,
      )
      .raw(),
    dueHeads: sqlite
      .prepare<[{ destination: string; now: number; limit: number }], Row>(
        `${HEADS},
       picked(id) AS (SELECT id FROM all_heads WHERE due <= @now ORDER BY priority, due, id LIMIT @limit)
       SELECT ${claimColumns} FROM picked JOIN deliveries d ON d.id = picked.id JOIN events e ON e.seq = d.event_seq
       ORDER BY d.priority, d.due_at, d.id`,
      )
      .raw(),
    nextDue: sqlite.prepare<[{ destination: string }], { dueAt: number | null }>(
      `${HEADS} SELECT min(due) AS dueAt FROM all_heads`,
    ),
  };
}

/** Due heads of `destination`, as `ClaimRequest.byKey` orders them: the quick path, else the walk over the keys. */
export function dueKeyHeads<Row extends unknown[]>(
  queries: KeyedQueries<Row>,
  request: { destination: string; now: number; limit: number },
): Row[] {
  const quick = queries.dueHeadsInWindow.all({ ...request, window: request.limit * WINDOW_PER_HEAD });
  return quick.length >= request.limit ? quick : queries.dueHeads.all(request);
}
