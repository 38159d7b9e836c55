/**
 * Claiming due deliveries (`Journal.claim`) and finding when the next one falls due
 * (`Journal.nextDueAt`), on statements prepared once per connection: every delivery runs them, and
 * drizzle would otherwise build and map the SQL on each call. The writer thread claims; the main
 * thread asks for the next due time on its own connection.
 */
import type Database from 'better-sqlite3';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Claim, ClaimRequest, DeliveryStatus, StoredEvent } from '../port.js';
import { dueKeyHeads, type KeyedQueries, prepareKeyedQueries } from './keyed-claim.js';
import type { Db } from './rows.js';
import { attempts, deliveries } from './schema.js';

/**
 * The columns of a delivery that claiming needs, with its event's (read in the same query), as the
 * array a raw statement returns (`claimColumns` selects them in this order). Arrays, not row
 * objects: better-sqlite3 builds an object by setting each of the 16 properties through V8's
 * API, which cost more instructions than the query itself (41 k per claimed delivery, callgrind,
 * test/bench/micro/writer-cycle.ts).
 */
type ClaimRow = [
  deliveryId: number,
  status: DeliveryStatus,
  attempts: number,
  dueAt: number | null,
  attemptsBeforeReplay: number,
  replayedAt: number | null,
  seq: number,
  id: string,
  source: string,
  method: string,
  path: string,
  query: string,
  headers: string,
  body: Uint8Array,
  remoteAddr: string | null,
  receivedAt: number,
];

const claimColumns =
  'd.id, d.status, d.attempts, d.due_at, d.attempts_before_replay, d.replayed_at, ' +
  'e.seq, e.id, e.source, e.method, e.path, e.query, e.headers, e.body, e.remote_addr, e.received_at';

/**
 * Why a due delivery may not be tried again, or `undefined` while it may: its attempts since the
 * last replay reach `maxAttempts`, or it has been tried and is older than `maxAgeMs` (counted from
 * receipt, or from the replay).
 */
function spentBudget(d: ClaimRow, budget: { maxAttempts: number; maxAgeMs: number }, now: number): string | undefined {
  const made = d[2] - d[4];
  const lost = d[1] === 'in_flight' ? 'the last attempt ended without an outcome (lease expired); ' : '';
  if (made >= budget.maxAttempts) return `${lost}gave up after ${made} attempts`;
  if (made > 0 && now > (d[5] ?? d[15]) + budget.maxAgeMs) return `${lost}past max_age`;
  return undefined;
}

/**
 * Claims as the writer thread sends them back: one flat array of their fields, `CLAIM_FIELDS` per
 * claim (deliveryId, attempt, attemptsBefore, since, then the event's seq, id, source, method, path,
 * query, headers, body, remoteAddr, receivedAt), the headers still in their stored JSON text, parsed
 * on the main thread (`claimsFromBatch`). As objects, structured clone wrote every property name of
 * every claim and its event and rebuilt each object on the other side; the rows better-sqlite3
 * returns are holey arrays, which it clones index by index as sparse ones. A string crosses as one
 * copy (test/bench/README.md, "Writer messages, both ways").
 */
export interface ClaimBatch {
  destination: string;
  leaseUntil: number;
  fields: unknown[];
}

/** Fields per claim in `ClaimBatch.fields`. */
export const CLAIM_FIELDS = 14;

/** The claims of a batch as the port gives them, their headers parsed. */
export function claimsFromBatch({ destination, leaseUntil, fields: f }: ClaimBatch): Claim[] {
  const claims: Claim[] = [];
  for (let i = 0; i < f.length; i += CLAIM_FIELDS) {
    const event: StoredEvent = {
      seq: f[i + 4] as number,
      id: f[i + 5] as string,
      source: f[i + 6] as string,
      method: f[i + 7] as string,
      path: f[i + 8] as string,
      query: f[i + 9] as string,
      headers: JSON.parse(f[i + 10] as string) as StoredEvent['headers'],
      body: f[i + 11] as Uint8Array,
      remoteAddr: f[i + 12] as string | null,
      receivedAt: f[i + 13] as number,
    };
    const budget = { attemptsBefore: f[i + 2] as number, since: f[i + 3] as number };
    claims.push({ deliveryId: f[i] as number, destination, attempt: f[i + 1] as number, leaseUntil, budget, event });
  }
  return claims;
}

/**
 * Most deliveries leased by one UPDATE: as many statements are prepared, one per count. The delivery
 * loop claims at most 64 at once (CLAIM_BATCH, src/delivery/claim-ahead.ts), so its claims take one
 * UPDATE. Equal to ROWS_PER_INSERT (multi-row-writes.ts) but not the same bound: that one chunks
 * a writer message's appends and outcomes, this one a claim's leases.
 */
const LEASE_CHUNK = 64;

/** The claim queries of one connection. */
export class DeliveryClaims {
  private readonly dueQuery: Database.Statement<
    [{ destination: string; priority: number; now: number; limit: number }],
    ClaimRow
  >;
  private readonly fifoHeadQuery: Database.Statement<[string], ClaimRow>;
  private readonly fifoHeadDue: Database.Statement<[string], { dueAt: number }>;
  private readonly keyed: KeyedQueries<ClaimRow>;
  /** The lease UPDATE for n deliveries at once, by n (prepared on first use, at most LEASE_CHUNK). */
  private readonly leaseUpdates: Database.Statement<number[]>[] = [];
  private readonly deadUpdate: Database.Statement<[number, string, number]>;
  private readonly nextDueQuery;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly db: Db,
  ) {
    // Raw SQL on the per-delivery path: drizzle's prepared queries still map every row and
    // parameter in JavaScript, on the writer thread that a drain keeps busy. One query reads the
    // due deliveries and their events, rather than a statement per claimed delivery.
    this.dueQuery = sqlite
      .prepare<{ destination: string; priority: number; now: number; limit: number }, ClaimRow>(
        `SELECT ${claimColumns} FROM deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE d.destination = @destination AND d.priority = @priority AND d.due_at <= @now ORDER BY d.due_at, d.id LIMIT @limit + 0`,
      )
      .raw();
    // `LIMIT @limit + 0`, not `LIMIT @limit`: SQLite's planner reads a bare bound LIMIT's value, and
    // then prepares the statement again every time it is bound (every claim: 3.7 % of the writer's
    // CPU under a drain). The plan is the same either way.
    // The oldest unfinished delivery of a fifo destination: claimed with its event, or only its due time.
    const fifoHead = 'WHERE d.destination = ? AND d.finished_at IS NULL ORDER BY d.event_seq LIMIT 1';
    this.fifoHeadQuery = sqlite
      .prepare<[string], ClaimRow>(
        `SELECT ${claimColumns} FROM deliveries d JOIN events e ON e.seq = d.event_seq ${fifoHead}`,
      )
      .raw();
    this.fifoHeadDue = sqlite.prepare<[string], { dueAt: number }>(
      `SELECT d.due_at AS dueAt FROM deliveries d ${fifoHead}`,
    );
    this.keyed = prepareKeyedQueries<ClaimRow>(sqlite, claimColumns);
    // Positional parameters: binding named ones from an object costs more, on every delivery.
    this.deadUpdate = sqlite.prepare<[number, string, number]>(
      "UPDATE deliveries SET status = 'dead', due_at = NULL, finished_at = ?, last_error = ? WHERE id = ?",
    );
    // Per priority: the index (destination, priority, due_at) then answers with one lookup, where
    // ordering all priorities by due_at scanned and sorted every unfinished delivery.
    this.nextDueQuery = db
      .select({ dueAt: sql<number | null>`min(${deliveries.dueAt})` })
      .from(deliveries)
      .where(
        and(
          eq(deliveries.destination, sql.placeholder('destination')),
          eq(deliveries.priority, sql.placeholder('priority')),
          isNotNull(deliveries.dueAt),
        ),
      )
      .prepare();
  }

  /** See `Journal.claim`. */
  claim(request: ClaimRequest): ClaimBatch {
    const { destination, now, leaseMs } = request;
    const due = request.fifo
      ? this.fifoHeadQuery.all(destination).filter((d) => d[3]! <= now)
      : request.byKey
        ? dueKeyHeads(this.keyed, { destination, now, limit: request.limit })
        : this.dueByPriority(destination, now, request.limit);
    const leaseUntil = now + leaseMs;
    if (due.length === 0) return { destination, leaseUntil, fields: [] };

    const claimed: ClaimRow[] = [];
    for (const d of due) {
      if (d[1] === 'in_flight') {
        // Its lease ran out: the process that held it stopped (or stalled) mid-attempt.
        this.db
          .insert(attempts)
          .values({
            deliveryId: d[0],
            attempt: d[2],
            startedAt: d[3]! - leaseMs,
            durationMs: 0,
            error:
              'lease expired: no outcome recorded (the process stopped after claiming it; the request may or may not have been sent)',
          })
          .run();
      }
      const spent = request.budget && spentBudget(d, request.budget, now);
      if (spent) {
        this.deadUpdate.run(now, spent, d[0]);
        continue;
      }
      claimed.push(d);
    }
    this.lease(claimed, leaseUntil);
    // Pushed one by one: the array stays packed (see ClaimBatch).
    const fields: unknown[] = [];
    for (const d of claimed)
      fields.push(
        d[0],
        d[2] + 1,
        d[4],
        d[5] ?? d[15],
        d[6],
        d[7],
        d[8],
        d[9],
        d[10],
        d[11],
        d[12],
        d[13],
        d[14],
        d[15],
      );
    return { destination, leaseUntil, fields };
  }

  /**
   * Leases `rows` until `leaseUntil`: one UPDATE for up to LEASE_CHUNK of them, where a statement
   * per delivery paid SQLite's per-statement start and halt, and better-sqlite3's call, each time.
   */
  private lease(rows: readonly ClaimRow[], leaseUntil: number): void {
    for (let start = 0; start < rows.length; start += LEASE_CHUNK) {
      const n = Math.min(LEASE_CHUNK, rows.length - start);
      let statement = this.leaseUpdates[n];
      if (!statement) {
        statement = this.sqlite.prepare<number[]>(
          `UPDATE deliveries SET status = 'in_flight', attempts = attempts + 1, due_at = ? WHERE id IN (${'?,'.repeat(n - 1)}?)`,
        );
        this.leaseUpdates[n] = statement;
      }
      const params: number[] = [leaseUntil];
      for (let i = start; i < start + n; i++) params.push(rows[i]![0]);
      statement.run(...params);
    }
  }

  /** Due deliveries, live ones first: replayed ones only fill what live traffic leaves of `limit`. */
  private dueByPriority(destination: string, now: number, limit: number) {
    const due = (priority: number, n: number) => this.dueQuery.all({ destination, priority, now, limit: n });
    const live = due(0, limit);
    return live.length < limit ? [...live, ...due(1, limit - live.length)] : live;
  }

  /** See `Journal.nextDueAt`. */
  nextDueAt(destination: string, fifo: boolean, byKey = false): number | undefined {
    if (fifo) return this.fifoHeadDue.get(destination)?.dueAt ?? undefined;
    if (byKey) return this.keyed.nextDue.get({ destination })?.dueAt ?? undefined;
    const dues = [0, 1]
      .map((priority) => this.nextDueQuery.get({ destination, priority })?.dueAt)
      .filter((t): t is number => typeof t === 'number');
    return dues.length > 0 ? Math.min(...dues) : undefined;
  }
}
