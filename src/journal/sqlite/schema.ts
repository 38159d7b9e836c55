/**
 * Tables of the SQLite journal. drizzle-kit generates migrations/ from this file
 * (`npm run db:generate`); journal.ts applies them at start-up.
 *
 * `deliveries.due_at` is the one column the scheduler looks at: for a pending delivery it is when
 * the next attempt may start, for an in-flight one when its lease ends (then it may be claimed
 * again), and NULL once delivered or dead. The partial indexes only hold unfinished deliveries,
 * so claims stay fast however many finished events are kept.
 */
import { sql } from 'drizzle-orm';
import { blob, index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const events = sqliteTable('events', {
  seq: integer('seq').primaryKey({ autoIncrement: true }),
  id: text('id').notNull().unique(),
  source: text('source').notNull(),
  method: text('method').notNull(),
  path: text('path').notNull(),
  query: text('query').notNull(),
  /** JSON array of [name, value] pairs, as received. */
  headers: text('headers').notNull(),
  body: blob('body', { mode: 'buffer' }).notNull(),
  remoteAddr: text('remote_addr'),
  receivedAt: integer('received_at').notNull(),
});

export const deliveries = sqliteTable(
  'deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    eventSeq: integer('event_seq')
      .notNull()
      .references(() => events.seq, { onDelete: 'cascade' }),
    destination: text('destination').notNull(),
    status: text('status', { enum: ['pending', 'in_flight', 'delivered', 'dead'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    dueAt: integer('due_at'),
    finishedAt: integer('finished_at'),
    lastError: text('last_error'),
    /** 0 for live events, 1 for replayed ones: live deliveries are claimed first. */
    priority: integer('priority').notNull().default(0),
    /** Set by a replay: the retry budget (max_attempts, max_age) counts from here again. */
    replayedAt: integer('replayed_at'),
    attemptsBeforeReplay: integer('attempts_before_replay').notNull().default(0),
    /**
     * The event's ordering key for a destination ordered by key (`ordering: { key }`); NULL for the
     * others, and for an event without a key (those form one group of their own).
     */
    orderKey: text('order_key'),
  },
  (t) => [
    index('deliveries_due_by_priority').on(t.destination, t.priority, t.dueAt).where(sql`${t.dueAt} IS NOT NULL`),
    // These two hold unfinished deliveries too, but by `finished_at IS NULL` (the same rows: due_at is
    // NULL exactly when finished_at is set): a claim, a retry or a release rewrites due_at, and
    // SQLite then rewrites every index whose columns or WHERE name it, while these name neither.
    index('deliveries_fifo').on(t.destination, t.eventSeq).where(sql`${t.finishedAt} IS NULL`),
    // Keyed ordering walks the distinct keys of a destination and takes each key's oldest unfinished
    // delivery: one lookup per key, however long the backlog (see keyed-claim.ts).
    index('deliveries_by_order_key').on(t.destination, t.orderKey, t.eventSeq).where(sql`${t.finishedAt} IS NULL`),
    index('deliveries_finished').on(t.status, t.finishedAt).where(sql`${t.finishedAt} IS NOT NULL`),
    index('deliveries_finished_by_destination')
      .on(t.destination, t.status, t.finishedAt)
      .where(sql`${t.finishedAt} IS NOT NULL`),
    index('deliveries_event').on(t.eventSeq),
  ],
);

export const attempts = sqliteTable(
  'attempts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    deliveryId: integer('delivery_id')
      .notNull()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    startedAt: integer('started_at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    status: integer('status'),
    error: text('error'),
    response: blob('response', { mode: 'buffer' }),
  },
  (t) => [index('attempts_delivery').on(t.deliveryId)],
);

/**
 * Deduplication keys of recently accepted events: a request whose key is here and not expired
 * is a duplicate of `event_id`. Checked and written in the same transaction as the event, by the
 * single writer, so two identical requests at once store one event.
 */
export const dedupeKeys = sqliteTable(
  'dedupe_keys',
  {
    source: text('source').notNull(),
    key: text('key').notNull(),
    eventId: text('event_id').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.source, t.key] }), index('dedupe_keys_expiry').on(t.expiresAt)],
);

/**
 * State of a destination that must survive restarts: the operator's pause, the consumer's
 * Retry-After hold, and the pace an adaptive destination learned.
 */
export const destinationState = sqliteTable('destination_state', {
  name: text('name').primaryKey(),
  paused: integer('paused', { mode: 'boolean' }).notNull().default(false),
  /** A 429/503 Retry-After: nothing is sent before this time (epoch ms); null when none was asked. */
  heldUntil: integer('held_until'),
  /** The learned pace (adaptive destinations): requests per second (null: not limited) and at once, and when. */
  paceRate: real('pace_rate'),
  paceConcurrency: integer('pace_concurrency'),
  paceAt: integer('pace_at'),
  updatedAt: integer('updated_at').notNull(),
});
