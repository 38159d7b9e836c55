/**
 * The nodes sharing the journal (schema.ts `nodes`): each writes its report every second, any node
 * lists the live ones. Liveness is judged on the node's own clock (`seen_at`), as leases are: node
 * clocks must agree to well within a second anyway.
 */
import { NODE_LIVE_MS, type NodeDraining, type NodeRecord, type NodeReport } from '../port.js';
import { changes, DATABASE_NOW_MS, type Queryable, rows } from './connection.js';

/** A crashed node's row is kept this long (it shows nowhere once it is not live), then removed. */
const FORGET_AFTER_MS = 3_600_000;

/**
 * Writes this node's report (and removes the rows of nodes gone for an hour). The hour is counted on
 * the database's clock: counted on this node's, a node whose clock ran an hour ahead would remove
 * every other node's row each second.
 */
export async function recordNode(db: Queryable, id: string, report: NodeReport, now: number): Promise<void> {
  await changes(
    db,
    `WITH gone AS (DELETE FROM nodes
       WHERE seen_at < ${DATABASE_NOW_MS} - $9 AND id <> $1)
     INSERT INTO nodes (id, host, pid, version, listeners, draining, started_at, seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET listeners = excluded.listeners, draining = excluded.draining,
       seen_at = excluded.seen_at`,
    [
      id,
      report.host,
      report.pid,
      report.version,
      JSON.stringify(report.listeners),
      JSON.stringify(report.draining),
      report.startedAt,
      now,
      FORGET_AFTER_MS,
    ],
  );
}

/** The nodes that reported within `NODE_LIVE_MS` of `now`, in no order (`listNodes` sorts them). */
export async function liveNodes(db: Queryable, now: number): Promise<NodeRecord[]> {
  const found = await rows<{
    id: string;
    host: string;
    pid: number;
    version: string;
    listeners: NodeReport['listeners'];
    draining: Record<string, NodeDraining & { rate: number | null }>;
    started_at: number;
    seen_at: number;
  }>(
    db,
    `SELECT id, host, pid, version, listeners, draining, started_at, seen_at FROM nodes
     WHERE seen_at >= $1`,
    [now - NODE_LIVE_MS],
  );
  return found.map((r) => ({
    id: r.id,
    host: r.host,
    pid: r.pid,
    version: r.version,
    listeners: r.listeners,
    startedAt: r.started_at,
    seenAt: r.seen_at,
    // JSON has no undefined: an unlimited rate was stored as null.
    draining: Object.fromEntries(
      Object.entries(r.draining).map(([name, d]) => [name, { ...d, rate: d.rate ?? undefined }]),
    ),
  }));
}

/** Removes this node's row on a clean stop: it is gone at once, not after `NODE_LIVE_MS`. */
export async function forgetNode(db: Queryable, id: string): Promise<void> {
  await changes(db, 'DELETE FROM nodes WHERE id = $1', [id]);
}
