/**
 * The queries of keyed ordering (`ClaimRequest.byKey`): only the head of each ordering key, its
 * oldest unfinished delivery, may be claimed. Finding the heads never reads the backlog behind
 * them: a recursive query walks the destination's distinct keys through the index
 * `deliveries_by_order_key` (destination, order_key, event_seq over unfinished deliveries), and
 * takes each key's first entry there, a few index lookups per key with a backlog, whatever its length.
 * Deliveries without a key (order_key NULL) are one more group, looked up apart.
 */
import type Database from 'better-sqlite3';

/** The head (delivery id) of every key of `@destination` with unfinished deliveries. */
const HEADS = `
  WITH RECURSIVE keys(k) AS (
    SELECT (SELECT order_key FROM deliveries
            WHERE destination = @destination AND due_at IS NOT NULL AND order_key IS NOT NULL
            ORDER BY order_key LIMIT 1)
    UNION ALL
    SELECT (SELECT order_key FROM deliveries
            WHERE destination = @destination AND due_at IS NOT NULL AND order_key > keys.k
            ORDER BY order_key LIMIT 1)
    FROM keys WHERE keys.k IS NOT NULL
  ),
  heads(id) AS (
    SELECT (SELECT h.id FROM deliveries h
            WHERE h.destination = @destination AND h.order_key = keys.k AND h.due_at IS NOT NULL
            ORDER BY h.event_seq LIMIT 1)
    FROM keys WHERE keys.k IS NOT NULL
    UNION ALL
    SELECT (SELECT h.id FROM deliveries h
            WHERE h.destination = @destination AND h.order_key IS NULL AND h.due_at IS NOT NULL
            ORDER BY h.event_seq LIMIT 1)
  )`;

/** The prepared queries of keyed ordering; `Row` is what `claimColumns` selects. */
export interface KeyedQueries<Row> {
  /** Due heads, live before replayed, earliest due first, at most `limit`, with their events. */
  dueHeads: Database.Statement<[{ destination: string; now: number; limit: number }], Row>;
  /** Earliest due time among the heads (NULL when the destination has nothing unfinished). */
  nextDue: Database.Statement<[{ destination: string }], { dueAt: number | null }>;
}

/**
 * Prepares the keyed queries. `claimColumns` selects a claim's columns from `d` (deliveries) and `e`
 * (events): the heads are picked first, and only the picked ones are joined to their events.
 */
export function prepareKeyedQueries<Row>(sqlite: Database.Database, claimColumns: string): KeyedQueries<Row> {
  return {
    dueHeads: sqlite.prepare<[{ destination: string; now: number; limit: number }], Row>(
      `${HEADS},
       picked(id) AS (
         SELECT d.id FROM heads JOIN deliveries d ON d.id = heads.id
         WHERE d.due_at <= @now ORDER BY d.priority, d.due_at, d.id LIMIT @limit
       )
       SELECT ${claimColumns} FROM picked JOIN deliveries d ON d.id = picked.id JOIN events e ON e.seq = d.event_seq
       ORDER BY d.priority, d.due_at, d.id`,
    ),
    nextDue: sqlite.prepare<[{ destination: string }], { dueAt: number | null }>(
      `${HEADS} SELECT min(d.due_at) AS dueAt FROM heads JOIN deliveries d ON d.id = heads.id`,
    ),
  };
}
