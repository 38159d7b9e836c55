/**
 * Tables of the PostgreSQL journal, the same as the SQLite ones (../sqlite/schema.ts) in PostgreSQL's
 * types. drizzle-kit generates migrations/pg/ from this file (`npm run db:generate`); migrate.ts
 * applies them at start-up, under an advisory lock.
 *
 * Times are epoch milliseconds in `bigint` columns read as JavaScript numbers (exact up to 2^53).
 * The partial indexes end with `id` (or `event_seq`): a claim orders by (due_at, id), and without
 * it PostgreSQL sorted every due delivery on each claim (SQLite's indexes end with the rowid).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
} from 'drizzle-orm/pg-core';

/** Raw bytes: node-postgres reads `bytea` as a Buffer and sends a Buffer as binary. */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** Epoch milliseconds. */
const millis = (name: string) => bigint(name, { mode: 'number' });

export const events = pgTable(
  'events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    id: text('id').notNull().unique(),
    source: text('source').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    query: text('query').notNull(),
    /** JSON array of [name, value] pairs, as received (text, not jsonb: kept byte for byte). */
    headers: text('headers').notNull(),
    body: bytea('body').notNull(),
    remoteAddr: text('remote_addr'),
    receivedAt: millis('received_at').notNull(),
  },
  // An id prefix (`findEventIds`) is a LIKE 'prefix%': with text_pattern_ops the index serves it
  // whatever the database's collation (a plain text index does so only under the C collation).
  (t) => [index('events_id_prefix').using('btree', t.id.op('text_pattern_ops'))],
);

export const deliveries = pgTable(
  'deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventSeq: bigint('event_seq', { mode: 'number' })
      .notNull()
      .references(() => events.seq, { onDelete: 'cascade' }),
    destination: text('destination').notNull(),
    status: text('status', { enum: ['pending', 'in_flight', 'delivered', 'dead'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    dueAt: millis('due_at'),
    finishedAt: millis('finished_at'),
    lastError: text('last_error'),
    /** 0 for live events, 1 for replayed ones: live deliveries are claimed first. */
    priority: integer('priority').notNull().default(0),
    /** Set by a replay: the retry budget (max_attempts, max_age) counts from here again. */
    replayedAt: millis('replayed_at'),
    attemptsBeforeReplay: integer('attempts_before_replay').notNull().default(0),
    /**
     * The event's ordering key for this destination (`IncomingEvent.orderKeys`), stored at ingest;
     * NULL when it has none. Read only by destinations ordered by key (keyed-claim.ts).
     */
    orderKey: text('order_key'),
  },
  (t) => [
    index('deliveries_due_by_priority').on(t.destination, t.priority, t.dueAt, t.id).where(sql`${t.dueAt} IS NOT NULL`),
    index('deliveries_fifo').on(t.destination, t.eventSeq).where(sql`${t.dueAt} IS NOT NULL`),
    // The leases held now (about `concurrency` rows per destination): a lease that ran out is found
    // here and taken back first, not behind the backlog that was due before it (claims.ts).
    index('deliveries_leased').on(t.destination, t.dueAt, t.id).where(sql`${t.status} = 'in_flight'`),
    // A key's head is its first entry here, and the next key's head the first entry past it: claims
    // walk the keys one index lookup each, however long the backlog behind them (keyed-claim.ts).
    index('deliveries_by_order_key').on(t.destination, t.orderKey, t.eventSeq).where(sql`${t.dueAt} IS NOT NULL`),
    index('deliveries_finished').on(t.status, t.finishedAt).where(sql`${t.finishedAt} IS NOT NULL`),
    index('deliveries_finished_by_destination')
      .on(t.destination, t.status, t.finishedAt)
      .where(sql`${t.finishedAt} IS NOT NULL`),
    index('deliveries_event').on(t.eventSeq),
  ],
);

export const attempts = pgTable(
  'attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: bigint('delivery_id', { mode: 'number' })
      .notNull()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    startedAt: millis('started_at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    status: integer('status'),
    error: text('error'),
    response: bytea('response'),
  },
  (t) => [index('attempts_delivery').on(t.deliveryId)],
);

/**
 * Deduplication keys of recently accepted events. The primary key makes the check safe across
 * nodes: two nodes inserting the same key at once meet in `INSERT … ON CONFLICT`, and the second
 * waits for the first's transaction, then sees its key (store.ts).
 */
export const dedupeKeys = pgTable(
  'dedupe_keys',
  {
    source: text('source').notNull(),
    key: text('key').notNull(),
    eventId: text('event_id').notNull(),
    expiresAt: millis('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.key] }), index('dedupe_keys_expiry').on(t.expiresAt)],
);

/**
 * State of a destination shared by every node: the operator's pause, the consumer's Retry-After
 * hold, and the pace an adaptive destination learned (one per destination, whichever node saved it last).
 */
export const destinationState = pgTable('destination_state', {
  name: text('name').primaryKey(),
  paused: boolean('paused').notNull().default(false),
  /** A 429/503 Retry-After: nothing is sent before this time (epoch ms); null when none was asked. */
  heldUntil: millis('held_until'),
  /** The learned pace (adaptive destinations): requests per second (null: not limited) and at once, and when. */
  paceRate: doublePrecision('pace_rate'),
  paceConcurrency: integer('pace_concurrency'),
  paceAt: millis('pace_at'),
  updatedAt: millis('updated_at').notNull(),
});

/**
 * One token bucket per destination, shared by every node (pacing/shared-bucket.ts): a node takes
 * about a second's worth of tokens at a time in a short `SELECT … FOR UPDATE` transaction and
 * spends them locally. Tokens a crashed node took are lost: the rate is under-used, never exceeded.
 */
export const destinationTokens = pgTable('destination_tokens', {
  name: text('name').primaryKey(),
  tokens: doublePrecision('tokens').notNull(),
  /** When `tokens` was last refilled (epoch ms, the database's clock). */
  refilledAt: millis('refilled_at').notNull(),
});

/**
 * The nodes sharing this journal, each row written by its node every second (cluster/heartbeat.ts):
 * what it is, where it listens, and what it is draining. A node whose row is older than a few
 * seconds is gone; its row is removed on a clean stop, and an hour after a crash.
 */
export const nodes = pgTable('nodes', {
  id: text('id').primaryKey(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  version: text('version').notNull(),
  /** The URLs it listens on (ingest, admin), as JSON. */
  listeners: jsonb('listeners').notNull(),
  /** Per destination: requests at the consumer, claimed ahead, delivered per second, pace (JSON). */
  draining: jsonb('draining').notNull(),
  startedAt: millis('started_at').notNull(),
  /** The node's clock at its last report (epoch ms). */
  seenAt: millis('seen_at').notNull(),
});
