/**
 * Group commit of appends on PostgreSQL. Appends arriving in one turn of the event loop are
 * written together: one multi-row INSERT of the events, their deliveries and a NOTIFY to the other
 * nodes, in one statement (so one round trip and one COMMIT); every promise of the group settles
 * only after that COMMIT returned (`synchronous_commit = on`: it is on the database's disk).
 *
 * At most `maxInFlight` groups are committing at once; appends that arrive meanwhile wait and form
 * the next group, so that groups grow with the load instead of connections multiplying.
 *
 * Deduplicated events take a transaction of a few statements instead: each key is claimed with
 * `INSERT … ON CONFLICT`, which makes two nodes accepting the same key at once meet on the primary
 * key (the second waits for the first's COMMIT, then sees its key and answers with its event).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { IncomingEvent } from '../port.js';
import { changes, type Queryable, rows, toJournalError, transaction } from './connection.js';

/** What an append resolves to before the event's fields are added back. */
export interface AppendOutcome {
  id: string;
  seq: number;
  duplicate: boolean;
}

/** The channel on which a node announces new pending deliveries (payload: `node|dest1,dest2`). */
export const WAKEUP_CHANNEL = 'sluice_wakeup';

/** Most events in one statement (9 parameters each: far below PostgreSQL's 65,535). */
const MAX_GROUP = 1_000;
const COLUMNS = 9;

interface Pending {
  id: string;
  event: IncomingEvent;
  resolve: (outcome: AppendOutcome) => void;
  reject: (error: unknown) => void;
}

/** Longest ordering or dedupe key stored as is, in UTF-8 bytes (see `storedKey`). */
const MAX_STORED_KEY = 256;

/**
 * An ordering or dedupe key as the tables hold it. A key comes from the sender (a header or a body
 * field) and may be of any length, while a btree entry of PostgreSQL must fit in a third of a page,
 * and text cannot hold NUL: either would fail the whole group commit, and every event in it. Such a
 * key is stored as its SHA-256 instead; only equality of keys matters (to a claim, to dedupe).
 */
export function storedKey(key: string): string {
  if (Buffer.byteLength(key) <= MAX_STORED_KEY && !key.includes('\0')) return key;
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** Observes each group commit: how many appends it held and how long it took. */
export type CommitObserver = (batchSize: number, durationMs: number) => void;

/** Queues appends and commits them in groups. */
export class AppendGroups {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly drained: (() => void)[] = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly nodeId: string,
    private readonly maxInFlight: number,
    private readonly onCommit?: CommitObserver,
  ) {}

  /** Appends one event (with the id it will have); resolves once its group committed. */
  append(id: string, event: IncomingEvent): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id, event, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves once every queued append has been answered. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0) {
      this.flush();
      await new Promise<void>((resolve) => this.drained.push(resolve));
    }
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const group = this.queue.splice(0, MAX_GROUP);
      this.inFlight++;
      const started = performance.now();
      this.commit(group)
        .then(
          (outcomes) => {
            this.onCommit?.(group.length, performance.now() - started);
            for (const [i, p] of group.entries()) p.resolve(outcomes[i]!);
          },
          (error: unknown) => {
            const failure = toJournalError(error);
            for (const p of group) p.reject(failure);
          },
        )
        .finally(() => {
          this.inFlight--;
          if (this.queue.length > 0) this.flush();
          else if (this.inFlight === 0) for (const resolve of this.drained.splice(0)) resolve();
        });
    }
  }

  private async commit(group: Pending[]): Promise<AppendOutcome[]> {
    if (group.every((p) => !p.event.dedupe)) {
      const seqs = await insertEvents(this.pool, group, this.nodeId);
      return group.map((p) => ({ id: p.id, seq: seqs.get(p.id)!, duplicate: false }));
    }
    return transaction(this.pool, async (client) => {
      const originals = new Map<Pending, { id: string; seq: number }>();
      /** Requests of this group that duplicate an earlier one of the same group. */
      const sameAs = new Map<Pending, Pending>();
      const firstOfKey = new Map<string, Pending>();
      for (const p of group) {
        const dedupe = p.event.dedupe;
        if (!dedupe) continue;
        // Two requests with one key in the same group: the second duplicates the first, as if in turn.
        const key = JSON.stringify([p.event.source, dedupe.key]);
        const first = firstOfKey.get(key);
        if (first && first.event.dedupe!.until > p.event.receivedAt) {
          sameAs.set(p, first);
          continue;
        }
        firstOfKey.set(key, p);
        const original = await claimKey(client, p);
        if (original) originals.set(p, original);
      }
      const fresh = group.filter((p) => !originals.has(p) && !sameAs.has(p));
      const seqs = fresh.length > 0 ? await insertEvents(client, fresh, this.nodeId) : new Map<string, number>();
      const outcomeOf = (p: Pending): AppendOutcome => {
        const original = originals.get(p);
        if (original) return { ...original, duplicate: true };
        const first = sameAs.get(p);
        if (first) return { ...outcomeOf(first), duplicate: true };
        return { id: p.id, seq: seqs.get(p.id)!, duplicate: false };
      };
      return group.map(outcomeOf);
    });
  }
}

/**
 * Takes the event's deduplication key, unless a live one is held by a stored event: then resolves
 * that event (the original). A key whose window ended, or whose event is gone, is taken over.
 *
 * The conflict test reads only the key row itself: under READ COMMITTED a subquery in `ON CONFLICT
 * … WHERE` would use the snapshot taken before waiting for the other node, and miss its event.
 * The original is read by the next statement, whose snapshot includes that node's COMMIT.
 */
async function claimKey(client: pg.PoolClient, p: Pending): Promise<{ id: string; seq: number } | undefined> {
  const { source, receivedAt } = p.event;
  const until = p.event.dedupe!.until;
  const key = storedKey(p.event.dedupe!.key);
  const taken = await changes(
    client,
    `INSERT INTO dedupe_keys (source, key, event_id, expires_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (source, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at
     WHERE dedupe_keys.expires_at <= $5`,
    [source, key, p.id, until, receivedAt],
  );
  if (taken === 1) return undefined;
  const [original] = await rows<{ id: string; seq: number }>(
    client,
    'SELECT e.id, e.seq FROM dedupe_keys k JOIN events e ON e.id = k.event_id WHERE k.source = $1 AND k.key = $2',
    [source, key],
  );
  if (original) return original;
  // The key outlived its event (deleted, or purged before the window ended): this event takes it.
  await changes(client, 'UPDATE dedupe_keys SET event_id = $3, expires_at = $4 WHERE source = $1 AND key = $2', [
    source,
    key,
    p.id,
    until,
  ]);
  return undefined;
}

/**
 * One statement: the events (multi-row VALUES, bodies sent as binary parameters), one pending
 * delivery per destination (with the event's ordering key for it, if any), and a NOTIFY of the
 * destinations (delivered to listeners at COMMIT). Resolves each event's seq by id.
 */
async function insertEvents(db: Queryable, group: Pending[], nodeId: string): Promise<Map<string, number>> {
  const params: unknown[] = [];
  const values: string[] = [];
  const deliveryIds: string[] = [];
  const deliveryDestinations: string[] = [];
  const deliveryDue: number[] = [];
  const deliveryKeys: (string | null)[] = [];
  const woken = new Set<string>();
  for (const { id, event: e } of group) {
    const n = params.length;
    values.push(
      `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, $${n + 6}, $${n + 7}::bytea, $${n + 8}, $${n + 9}::bigint)`,
    );
    const body = Buffer.isBuffer(e.body) ? e.body : Buffer.from(e.body.buffer, e.body.byteOffset, e.body.byteLength);
    params.push(id, e.source, e.method, e.path, e.query, JSON.stringify(e.headers), body, e.remoteAddr, e.receivedAt);
    for (const destination of e.destinations) {
      deliveryIds.push(id);
      deliveryDestinations.push(destination);
      deliveryDue.push(e.receivedAt);
      const orderKey = e.orderKeys?.[destination];
      deliveryKeys.push(orderKey === undefined ? null : storedKey(orderKey));
      woken.add(destination);
    }
  }
  const n = group.length * COLUMNS;
  params.push(deliveryIds, deliveryDestinations, deliveryDue, deliveryKeys, `${nodeId}|${[...woken].join(',')}`);
  const result = await rows<{ id: string; seq: number }>(
    db,
    `WITH e AS (
       INSERT INTO events (id, source, method, path, query, headers, body, remote_addr, received_at)
       VALUES ${values.join(', ')} RETURNING seq, id),
     d AS (
       INSERT INTO deliveries (event_seq, destination, status, due_at, order_key)
       SELECT e.seq, x.destination, 'pending', x.due_at, x.order_key
       FROM unnest($${n + 1}::text[], $${n + 2}::text[], $${n + 3}::bigint[], $${n + 4}::text[])
         WITH ORDINALITY AS x(event_id, destination, due_at, order_key, o)
       JOIN e ON e.id = x.event_id ORDER BY x.o)
     SELECT e.id, e.seq FROM e, (SELECT pg_notify('${WAKEUP_CHANNEL}', $${n + 5})) AS wakeup`,
    params,
  );
  return new Map(result.map((r) => [r.id, r.seq]));
}
