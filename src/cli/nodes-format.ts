/**
 * `sluice status`, with a journal several nodes share: a table of the live nodes under the
 * destinations, each with what it is draining now (requests at the consumer and its delivery rate,
 * per destination).
 */
import type { ApiNode } from '../admin/schemas.js';
import { isBusy } from '../cluster/node-listing.js';
import { NODE_SILENT_MS } from '../journal/listings.js';
import { formatRate, formatSeconds, printable, table } from './admin-format.js';

export function formatNodes(nodes: readonly ApiNode[], cliNow: number): string {
  // Ages are the answering node's: its own `seen_at` is its clock at the answer. The machine running
  // `sluice status` may be seconds off the nodes, which would mark every node silent (or none).
  const self = nodes.find((n) => n.self);
  const now = self ? Date.parse(self.seen_at) : cliNow;
  const headers = ['NODE', 'VERSION', 'UP', 'SEEN', 'INGEST', 'DRAINING'];
  const body = nodes.map((n) => [
    `${printable(n.host)}:${n.pid}${n.self ? ' (this)' : ''}`,
    printable(n.version),
    formatSeconds(Math.max(0, Math.floor((now - Date.parse(n.started_at)) / 1000))),
    seen(now - Date.parse(n.seen_at)),
    n.ingest_url === null ? '-' : printable(n.ingest_url),
    draining(n.draining),
  ]);
  const title = `NODES: ${nodes.length} live on the shared journal\n`;
  return title + table(headers, body, new Set([2, 3]));
}

/** `orders 8 in flight 40/s, crm 1 in flight 0.5/s`, or `idle`. */
function draining(by: ApiNode['draining']): string {
  const busy = Object.entries(by).filter(([, d]) =>
    isBusy({ sending: d.in_flight, claimed: d.claimed, deliveredPerSecond: d.delivered_per_second }),
  );
  if (busy.length === 0) return 'idle';
  return busy
    .map(([name, d]) => `${printable(name)} ${d.in_flight} in flight ${formatRate(d.delivered_per_second)}/s`)
    .join(', ');
}

/** `0s ago`; a node that missed two reports is marked: it may have stopped (gone from the list after 5 s). */
function seen(ms: number): string {
  const text = `${Math.max(0, Math.round(ms / 1000))}s ago`;
  return ms > NODE_SILENT_MS ? `${text} (silent)` : text;
}
