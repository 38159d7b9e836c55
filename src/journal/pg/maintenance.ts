/**
 * The PostgreSQL journal's operator and housekeeping writes: retention, replay, deletion, and the
 * destination state (pause, Retry-After hold, learned pace) that every node reads from here. Replays,
 * pauses and holds are announced on NOTIFY channels, so the other nodes act on them at once.
 */
import type { DeliveryStatus, ReplayFilter, RetentionCutoffs, StoredPace } from '../port.js';
import { WAKEUP_CHANNEL } from './append.js';
import { changes, type Queryable, rows } from './connection.js';

/** The channel on which a pause, resume or hold is announced (payload: `node|destination`). */
export const STATE_CHANNEL = 'sluice_state';

/** See `Journal.purge`: expired deduplication keys, then up to `limit` events past retention. */
export async function purge(db: Queryable, cutoffs: RetentionCutoffs, limit: number): Promise<number> {
  await changes(db, 'DELETE FROM dedupe_keys WHERE expires_at <= $1', [cutoffs.dedupeBefore]);
  const expired = (alias: string) =>
    `((${alias}.status = 'delivered' AND ${alias}.finished_at < $1) OR (${alias}.status = 'dead' AND ${alias}.finished_at < $2))`;
  return changes(
    db,
    // DISTINCT: one row per event, so that LIMIT counts events, not deliveries.
    `DELETE FROM events WHERE seq IN (
       SELECT DISTINCT d.event_seq FROM deliveries d
       WHERE d.finished_at IS NOT NULL AND ${expired('d')}
         AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.event_seq = d.event_seq
                         AND NOT (o.finished_at IS NOT NULL AND ${expired('o')}))
       LIMIT $3)`,
    [cutoffs.deliveredBefore, cutoffs.deadBefore, limit],
  );
}

/**
 * One batch of `Journal.replay`: up to `limit` deliveries made pending again, behind live ones;
 * resolves how many. The destinations replayed to are woken on every node.
 */
export async function replayBatch(
  db: Queryable,
  filter: ReplayFilter,
  now: number,
  limit: number,
  nodeId: string,
): Promise<number> {
  const statuses: DeliveryStatus[] = filter.status
    ? [filter.status]
    : filter.eventId
      ? ['dead', 'delivered']
      : ['dead'];
  const params: unknown[] = [statuses, now, limit];
  const where = ['d.status = ANY($1::text[])'];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.destination) where.push(`d.destination = ${param(filter.destination)}`);
  const eventWhere: string[] = [];
  if (filter.eventId) eventWhere.push(`e.id = ${param(filter.eventId)}`);
  if (filter.since !== undefined) eventWhere.push(`e.received_at >= ${param(filter.since)}`);
  if (filter.until !== undefined) eventWhere.push(`e.received_at < ${param(filter.until)}`);
  if (eventWhere.length > 0)
    where.push(`d.event_seq IN (SELECT e.seq FROM events e WHERE ${eventWhere.join(' AND ')})`);
  const replayed = await rows<{ destination: string }>(
    db,
    `WITH r AS (
       UPDATE deliveries SET status = 'pending', due_at = $2, finished_at = NULL, priority = 1, replayed_at = $2,
         attempts_before_replay = attempts
       WHERE id IN (SELECT d.id FROM deliveries d WHERE ${where.join(' AND ')} LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING destination)
     SELECT destination FROM r`,
    params,
  );
  const woken = [...new Set(replayed.map((r) => r.destination))];
  if (woken.length > 0) await notify(db, WAKEUP_CHANNEL, `${nodeId}|${woken.join(',')}`);
  return replayed.length;
}

/** See `Journal.deleteEvent`. */
export async function deleteEvent(db: Queryable, id: string): Promise<boolean> {
  await changes(db, 'DELETE FROM dedupe_keys WHERE event_id = $1', [id]);
  return (await changes(db, 'DELETE FROM events WHERE id = $1', [id])) === 1;
}

/** Sets some of a destination's lasting state (a pause, a hold), leaving the rest, and tells the other nodes. */
export async function setDestinationState(
  db: Queryable,
  name: string,
  set: { paused: boolean } | { heldUntil: number },
  now: number,
  nodeId: string,
): Promise<void> {
  const column = 'paused' in set ? 'paused' : 'held_until';
  const value = 'paused' in set ? set.paused : set.heldUntil;
  await rows(
    db,
    `WITH s AS (
       INSERT INTO destination_state (name, ${column}, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET ${column} = excluded.${column}, updated_at = excluded.updated_at RETURNING name)
     SELECT s.name FROM s, (SELECT pg_notify('${STATE_CHANNEL}', $4)) AS announced`,
    [name, value, now, `${nodeId}|${name}`],
  );
}

/**
 * See `Journal.setPace` (`undefined` forgets it). Not announced: a node reads the learned pace only
 * when it starts, and an adaptive pacer keeps learning from its own answers meanwhile.
 */
export async function setPace(db: Queryable, name: string, pace: StoredPace | undefined, now: number): Promise<void> {
  await changes(
    db,
    `INSERT INTO destination_state (name, pace_rate, pace_concurrency, pace_at, updated_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (name) DO UPDATE SET pace_rate = excluded.pace_rate, pace_concurrency = excluded.pace_concurrency,
       pace_at = excluded.pace_at, updated_at = excluded.updated_at`,
    [name, pace?.rate ?? null, pace?.concurrency ?? null, pace?.at ?? null, now],
  );
}

async function notify(db: Queryable, channel: string, payload: string): Promise<void> {
  await rows(db, 'SELECT pg_notify($1, $2)', [channel, payload]);
}
