/**
 * Claiming and finishing deliveries on PostgreSQL, safe with several nodes draining one journal:
 *
 * - A claim locks the due rows it takes with `FOR UPDATE SKIP LOCKED`: two nodes claiming at once
 *   take different deliveries, neither waits for the other. A delivery whose lease ran out is due
 *   again (its `due_at` is the lease end), so any node takes it back.
 * - A fifo claim locks the destination's head with plain `FOR UPDATE`: skipping a locked head would
 *   hand out the second event while the first is being claimed elsewhere. The waiting node then
 *   reads the head as leased (not due) and claims nothing.
 * - A claim ordered by key finds each key's head without locks, then locks only those heads with
 *   `SKIP LOCKED` (keyed-claim.ts): a head being claimed elsewhere is skipped, never what is behind it.
 * - `complete` and `release` are fenced by (id, attempts, in_flight), as in SQLite: a node whose
 *   lease was taken over changes nothing.
 */
import type pg from 'pg';
import { toStoredEvent } from '../event-row.js';
import type { AttemptRecord, Claim, ClaimRequest, Verdict } from '../port.js';
import { changes, type Queryable, rows, transaction } from './connection.js';
import { lockDueKeyHeads, nextKeyHeadDue } from './keyed-claim.js';

/** A due delivery with its event, as a claim reads it. */
interface ClaimRow {
  deliveryId: number;
  status: 'pending' | 'in_flight';
  attempts: number;
  dueAt: number;
  attemptsBeforeReplay: number;
  replayedAt: number | null;
  seq: number;
  id: string;
  source: string;
  method: string;
  path: string;
  query: string;
  headers: string;
  body: Buffer;
  remoteAddr: string | null;
  receivedAt: number;
}

const CLAIM_COLUMNS = `d.id AS "deliveryId", d.status, d.attempts, d.due_at AS "dueAt",
  d.attempts_before_replay AS "attemptsBeforeReplay", d.replayed_at AS "replayedAt",
  e.seq, e.id, e.source, e.method, e.path, e.query, e.headers, e.body, e.remote_addr AS "remoteAddr",
  e.received_at AS "receivedAt"`;

/**
 * `$5` are the ids this claim already locked (expired leases): SKIP LOCKED skips only the locks of
 * other transactions, so without it they would be read (and claimed) a second time.
 */
const DUE_SQL = `SELECT ${CLAIM_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq
  WHERE d.destination = $1 AND d.priority = $2 AND d.due_at IS NOT NULL AND d.due_at <= $3
    AND d.id <> ALL($5::bigint[])
  ORDER BY d.due_at, d.id LIMIT $4 FOR UPDATE OF d SKIP LOCKED`;

/** Leases that ran out (their node stopped or stalled mid-attempt), oldest first. */
const EXPIRED_SQL = `SELECT ${CLAIM_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq
  WHERE d.destination = $1 AND d.status = 'in_flight' AND d.due_at <= $2
  ORDER BY d.due_at, d.id LIMIT $3 FOR UPDATE OF d SKIP LOCKED`;

const FIFO_HEAD_SQL = `SELECT ${CLAIM_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq
  WHERE d.destination = $1 AND d.due_at IS NOT NULL ORDER BY d.event_seq LIMIT 1 FOR UPDATE OF d`;

const LEASE_EXPIRED =
  'lease expired: no outcome recorded (the process stopped after claiming it; the request may or may not have been sent)';

/** Why a due delivery may not be tried again (see the SQLite store's `spentBudget`). */
function spentBudget(d: ClaimRow, budget: { maxAttempts: number; maxAgeMs: number }, now: number): string | undefined {
  const made = d.attempts - d.attemptsBeforeReplay;
  const lost = d.status === 'in_flight' ? 'the last attempt ended without an outcome (lease expired); ' : '';
  if (made >= budget.maxAttempts) return `${lost}gave up after ${made} attempts`;
  if (made > 0 && now > (d.replayedAt ?? d.receivedAt) + budget.maxAgeMs) return `${lost}past max_age`;
  return undefined;
}

/**
 * See `Journal.claim`. With `heldLeaseMs`, the lease stored is only that long (at most the one asked
 * for): the claiming node renews it while it works on the delivery (lease-renewal.ts), so that a
 * node that dies leaves its deliveries to the others within `heldLeaseMs`, however long the
 * destination's timeout. The claim still reports the lease asked for.
 */
export function claim(
  pool: pg.Pool,
  request: ClaimRequest,
  heldLeaseMs?: number,
  concurrency?: number,
): Promise<Claim[]> {
  const { destination, now, leaseMs } = request;
  let { limit } = request;
  return transaction(pool, async (client) => {
    if (concurrency !== undefined) {
      // The destination's concurrency holds across nodes: claims of one destination take turns, and
      // take only what the live leases of every node leave. A claimed delivery counts from its claim,
      // not its send, so the consumer never has more than `concurrency` requests from the cluster.
      await rows(client, `SELECT pg_advisory_xact_lock(hashtext('sluice:claim:' || $1))`, [destination]);
      const [held] = await rows<{ n: number }>(
        client,
        `SELECT count(*) AS n FROM deliveries WHERE destination = $1 AND status = 'in_flight' AND due_at > $2`,
        [destination, now],
      );
      limit = Math.min(limit, concurrency - (held?.n ?? 0));
      if (limit <= 0) return [];
    }
    let due: ClaimRow[];
    if (request.fifo) {
      due = (await rows<ClaimRow>(client, FIFO_HEAD_SQL, [destination])).filter((d) => d.dueAt <= now);
    } else if (request.byKey) {
      due = await lockDueKeyHeads<ClaimRow>(client, CLAIM_COLUMNS, { destination, now, limit });
    } else {
      // What a stopped node held goes first: its events are older than the backlog due before its
      // lease ran out. Then live deliveries; replayed ones only fill what live traffic leaves of `limit`.
      due = await rows<ClaimRow>(client, EXPIRED_SQL, [destination, now, limit]);
      const taken = due.map((d) => d.deliveryId);
      for (const priority of [0, 1]) {
        if (due.length >= limit) break;
        due.push(...(await rows<ClaimRow>(client, DUE_SQL, [destination, priority, now, limit - due.length, taken])));
      }
    }
    if (due.length === 0) return [];

    const leaseUntil = now + leaseMs;
    const expired = due.filter((d) => d.status === 'in_flight');
    if (expired.length > 0) {
      // Its lease ran out: the node that held it stopped (or stalled) mid-attempt.
      await changes(
        client,
        `INSERT INTO attempts (delivery_id, attempt, started_at, duration_ms, error)
         SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::int[], $5::text[])`,
        [
          expired.map((d) => d.deliveryId),
          expired.map((d) => d.attempts),
          // When it started is not known: at the latest one (stored, perhaps renewed) lease before it ran out.
          expired.map((d) => d.dueAt - (heldLeaseMs ?? leaseMs)),
          expired.map(() => 0),
          expired.map(() => LEASE_EXPIRED),
        ],
      );
    }
    const dead: { id: number; why: string }[] = [];
    const claimed: ClaimRow[] = [];
    for (const d of due) {
      const spent = request.budget && spentBudget(d, request.budget, now);
      if (spent) dead.push({ id: d.deliveryId, why: spent });
      else claimed.push(d);
    }
    if (dead.length > 0) {
      await changes(
        client,
        `UPDATE deliveries SET status = 'dead', due_at = NULL, finished_at = $1, last_error = x.why
         FROM unnest($2::bigint[], $3::text[]) AS x(id, why) WHERE deliveries.id = x.id`,
        [now, dead.map((d) => d.id), dead.map((d) => d.why)],
      );
    }
    if (claimed.length > 0) {
      await changes(
        client,
        `UPDATE deliveries SET status = 'in_flight', attempts = attempts + 1, due_at = $1 WHERE id = ANY($2::bigint[])`,
        [
          heldLeaseMs === undefined ? leaseUntil : Math.min(leaseUntil, now + heldLeaseMs),
          claimed.map((d) => d.deliveryId),
        ],
      );
    }
    return claimed.map((d) => {
      const event = toStoredEvent(d);
      const budget = { attemptsBefore: d.attemptsBeforeReplay, since: d.replayedAt ?? event.receivedAt };
      return { deliveryId: d.deliveryId, destination, attempt: d.attempts + 1, leaseUntil, budget, event };
    });
  });
}

/** See `Journal.complete`: one statement, the attempt recorded only when the lease still held. */
export async function complete(
  db: Queryable,
  ref: Pick<Claim, 'deliveryId' | 'attempt'>,
  attempt: AttemptRecord,
  verdict: Verdict,
): Promise<boolean> {
  const response = attempt.response
    ? Buffer.from(attempt.response.buffer, attempt.response.byteOffset, attempt.response.byteLength)
    : null;
  const finishedAt = attempt.startedAt + Math.round(attempt.durationMs);
  const next =
    verdict.kind === 'retry'
      ? { status: 'pending', dueAt: verdict.at, finishedAt: null }
      : { status: verdict.kind, dueAt: null, finishedAt };
  const lastError = verdict.kind === 'delivered' ? null : (attempt.error ?? null);
  const recorded = await changes(
    db,
    `WITH u AS (
       UPDATE deliveries SET status = $1, due_at = $2, finished_at = $3, last_error = $4
       WHERE id = $5 AND attempts = $6 AND status = 'in_flight' RETURNING id)
     INSERT INTO attempts (delivery_id, attempt, started_at, duration_ms, status, error, response)
     SELECT u.id, $7, $8, $9, $10, $11, $12::bytea FROM u`,
    [
      next.status,
      next.dueAt,
      next.finishedAt,
      lastError,
      ref.deliveryId,
      ref.attempt,
      attempt.attempt,
      attempt.startedAt,
      Math.round(attempt.durationMs),
      attempt.status ?? null,
      attempt.error ?? null,
      response,
    ],
  );
  return recorded === 1;
}

/** See `Journal.release`. */
export function release(db: Queryable, refs: readonly Pick<Claim, 'deliveryId' | 'attempt'>[], now: number) {
  if (refs.length === 0) return Promise.resolve(0);
  return changes(
    db,
    `UPDATE deliveries SET status = 'pending', attempts = deliveries.attempts - 1, due_at = $1
     FROM unnest($2::bigint[], $3::int[]) AS x(id, attempt)
     WHERE deliveries.id = x.id AND deliveries.attempts = x.attempt AND deliveries.status = 'in_flight'`,
    [now, refs.map((r) => r.deliveryId), refs.map((r) => r.attempt)],
  );
}

/**
 * See `Journal.nextDueAt`: one index lookup per priority (or the fifo head's due time, or with
 * `byKey` the earliest due head).
 */
export async function nextDueAt(
  db: Queryable,
  destination: string,
  fifo: boolean,
  byKey = false,
): Promise<number | undefined> {
  if (!fifo && byKey) return nextKeyHeadDue(db, destination);
  const [row] = fifo
    ? await rows<{ dueAt: number | null }>(
        db,
        `SELECT due_at AS "dueAt" FROM deliveries WHERE destination = $1 AND due_at IS NOT NULL ORDER BY event_seq LIMIT 1`,
        [destination],
      )
    : await rows<{ dueAt: number | null }>(
        db,
        `SELECT least(
           (SELECT min(due_at) FROM deliveries WHERE destination = $1 AND priority = 0 AND due_at IS NOT NULL),
           (SELECT min(due_at) FROM deliveries WHERE destination = $1 AND priority = 1 AND due_at IS NOT NULL)) AS "dueAt"`,
        [destination],
      );
  return row?.dueAt ?? undefined;
}
