/**
 * The queries of keyed ordering (`ClaimRequest.byKey`): only the head of each ordering key, its
 * oldest unfinished delivery, may be claimed. Finding the heads never reads the backlog behind
 * them: a recursive query walks the destination's distinct keys through the index
 * `deliveries_by_order_key` (destination, order_key, event_seq over unfinished deliveries), and
 * takes each key's first entry there, a few index lookups per key with a backlog, whatever its length.
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
                  WHERE destination = @destination AND due_at IS NOT NULL AND order_key IS NOT NULL
                  ORDER BY order_key, event_seq LIMIT 1)
    UNION ALL
    SELECT d.order_key, d.id, d.due_at, d.priority FROM heads JOIN deliveries d
    ON d.id = (SELECT id FROM deliveries
               WHERE destination = @destination AND due_at IS NOT NULL AND order_key > heads.k
               ORDER BY order_key, event_seq LIMIT 1)
  ),
  keyless(id, due, priority) AS (
    SELECT d.id, d.due_at, d.priority FROM deliveries d
    WHERE d.id = (SELECT id FROM deliveries
                  WHERE destination = @destination AND due_at IS NOT NULL AND order_key IS NULL
                  ORDER BY event_seq LIMIT 1)
  ),
  all_heads(id, due, priority) AS (SELECT id, due, priority FROM heads UNION ALL SELECT id, due, priority FROM keyless)`;

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
       picked(id) AS (SELECT id FROM all_heads WHERE due <= @now ORDER BY priority, due, id LIMIT @limit)
       SELECT ${claimColumns} FROM picked JOIN deliveries d ON d.id = picked.id JOIN events e ON e.seq = d.event_seq
       ORDER BY d.priority, d.due_at, d.id`,
    ),
    nextDue: sqlite.prepare<[{ destination: string }], { dueAt: number | null }>(
      `${HEADS} SELECT min(due) AS dueAt FROM all_heads`,
    ),
  };
}
