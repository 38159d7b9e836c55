/**
 * Keyed ordering on PostgreSQL (`ClaimRequest.byKey`): only the head of each ordering key, its
 * oldest unfinished delivery, may be claimed, and two nodes never both hold heads of one key.
 *
 * A claim takes two steps in its transaction:
 * 1. Find the due heads, without locks. First among the earliest due live deliveries (with many keys
 *    those are mostly heads: one index lookup each tells); only when that does not fill the claim,
 *    by walking the destination's distinct keys through `deliveries_by_order_key` (destination,
 *    order_key, event_seq over unfinished deliveries) with a recursive query: the first entry past
 *    the previous key is the next key's head, one index descent per key, whatever the backlog behind.
 * 2. Lock those rows with `FOR UPDATE SKIP LOCKED`, re-checking that each is still unfinished and
 *    due. A head another node is claiming is skipped, and nothing behind it is taken in its place:
 *    step 1 named the heads, and step 2 takes only them. A head that node has claimed meanwhile
 *    fails the re-check (PostgreSQL re-reads a row updated since the statement began before locking
 *    it), as does one it finished: the key then gives nothing to this claim, and its next event
 *    becomes the head for the next one. (Plain `SKIP LOCKED` on "the first unfinished delivery of
 *    each key" would instead pass over a locked head to the event behind it.)
 *
 * Deliveries without a key (order_key NULL) are one more group, looked up with `IS NULL` (which
 * the index serves; `=` never matches NULL).
 */
import type { Queryable } from './connection.js';
import { rows } from './connection.js';

/**
 * The head of every key of $1 with unfinished deliveries (k, id, due, priority), then the head of
 * the group without a key.
 */
const HEADS = `
  WITH RECURSIVE heads(k, id, due, priority) AS (
    (SELECT order_key, id, due_at, priority FROM deliveries
     WHERE destination = $1 AND due_at IS NOT NULL AND order_key IS NOT NULL
     ORDER BY order_key, event_seq LIMIT 1)
    UNION ALL
    SELECT n.order_key, n.id, n.due_at, n.priority FROM heads h CROSS JOIN LATERAL (
      SELECT order_key, id, due_at, priority FROM deliveries
      WHERE destination = $1 AND due_at IS NOT NULL AND order_key > h.k
      ORDER BY order_key, event_seq LIMIT 1) n
  ),
  keyless(id, due, priority) AS (
    SELECT id, due_at, priority FROM deliveries
    WHERE destination = $1 AND due_at IS NOT NULL AND order_key IS NULL
    ORDER BY event_seq LIMIT 1
  ),
  all_heads(id, due, priority) AS (SELECT id, due, priority FROM heads UNION ALL SELECT id, due, priority FROM keyless)`;

/** Due heads ($2: now), live before replayed, earliest due first, at most $3. */
const DUE_HEADS = `${HEADS}
  SELECT id FROM all_heads WHERE due <= $2 ORDER BY priority, due, id LIMIT $3`;

/**
 * The quick path: heads among the $4 earliest due live deliveries, earliest due first, at most $3.
 * A delivery is a head when it is the first unfinished one of its key. Asked as "the first of the
 * key" (ORDER BY … LIMIT 1, which the index answers with one descent) rather than "no older one
 * exists": PostgreSQL planned the latter, for a key holding much of the backlog, as a sequential
 * scan, which has to read the whole table to prove that a head has nothing before it.
 */
const DUE_HEADS_IN_WINDOW = `
  SELECT w.id FROM (
    SELECT id, event_seq, order_key, due_at FROM deliveries
    WHERE destination = $1 AND priority = 0 AND due_at IS NOT NULL AND due_at <= $2
    ORDER BY due_at, id LIMIT $4) w
  WHERE w.event_seq = CASE WHEN w.order_key IS NULL
    THEN (SELECT o.event_seq FROM deliveries o WHERE o.destination = $1 AND o.order_key IS NULL
          AND o.due_at IS NOT NULL ORDER BY o.event_seq LIMIT 1)
    ELSE (SELECT o.event_seq FROM deliveries o WHERE o.destination = $1 AND o.order_key = w.order_key
          AND o.due_at IS NOT NULL ORDER BY o.event_seq LIMIT 1)
    END
  ORDER BY w.due_at, w.id LIMIT $3`;

/** Earliest due time among the heads; NULL when nothing of the destination is unfinished. */
const NEXT_DUE = `${HEADS} SELECT min(due) AS "dueAt" FROM all_heads`;

/**
 * How many of the earliest due live deliveries the quick path looks at, per head wanted (as in the
 * SQLite journal): with many keys those are mostly heads, found without walking every key.
 */
const WINDOW_PER_HEAD = 4;

/**
 * Heads found per head wanted: a few more than `limit`, so that heads skipped because another node
 * is locking them leave room for others.
 */
const CANDIDATES_PER_HEAD = 2;

/**
 * Locks and reads up to `limit` due heads of `destination` (see `ClaimRequest.byKey`), inside the
 * claim's transaction. `claimColumns` selects a claim's columns from `d` (deliveries) and `e`
 * (events); only the locked heads are joined to their events.
 */
export async function lockDueKeyHeads<Row>(
  client: Queryable,
  claimColumns: string,
  request: { destination: string; now: number; limit: number },
): Promise<Row[]> {
  const { destination, now, limit } = request;
  const candidates = limit * CANDIDATES_PER_HEAD;
  let heads = await rows<{ id: number }>(client, DUE_HEADS_IN_WINDOW, [
    destination,
    now,
    candidates,
    limit * WINDOW_PER_HEAD,
  ]);
  // Fewer than `limit`: the window held deliveries waiting behind their key's head (or replayed
  // heads are due); only the walk over every key knows the rest.
  if (heads.length < limit) heads = await rows<{ id: number }>(client, DUE_HEADS, [destination, now, candidates]);
  if (heads.length === 0) return [];
  return rows<Row>(
    client,
    `SELECT ${claimColumns} FROM deliveries d JOIN events e ON e.seq = d.event_seq
     WHERE d.id = ANY($1::bigint[]) AND d.destination = $2 AND d.due_at IS NOT NULL AND d.due_at <= $3
     ORDER BY d.priority, d.due_at, d.id LIMIT $4 FOR UPDATE OF d SKIP LOCKED`,
    [heads.map((h) => h.id), destination, now, limit],
  );
}

/** See `Journal.nextDueAt` with `byKey`: the earliest due time among the heads. */
export async function nextKeyHeadDue(db: Queryable, destination: string): Promise<number | undefined> {
  const [row] = await rows<{ dueAt: number | null }>(db, NEXT_DUE, [destination]);
  return row?.dueAt ?? undefined;
}
