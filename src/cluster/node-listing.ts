/**
 * The nodes as the admin API shows them: with a journal several nodes share, every live node (this
 * one from its live state, the others from their last report, at most a second old); otherwise this
 * process alone.
 */
import type { Journal, NodeRecord } from '../journal/port.js';
import type { NodeReporter } from './node-report.js';

/** `id` of this process when its journal is its own. */
export const LOCAL_NODE_ID = 'local';

export interface NodeListing {
  /** True when the journal is shared by several nodes (PostgreSQL). */
  shared: boolean;
  /** This node's id among `nodes`. */
  self: string;
  nodes: NodeRecord[];
}

export async function listNodes(journal: Journal, reporter: NodeReporter, now: number): Promise<NodeListing> {
  const self: NodeRecord = { id: journal.nodeId ?? LOCAL_NODE_ID, seenAt: now, ...reporter.report(now) };
  if (!journal.nodes) return { shared: false, self: self.id, nodes: [self] };
  const others = (await journal.nodes(now)).filter((node) => node.id !== self.id);
  const nodes = [...others, self].sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
  return { shared: true, self: self.id, nodes };
}

/** What every node but `self` does with `destination`: requests at the consumer, deliveries per second. */
export function drainingElsewhere(
  listing: NodeListing | undefined,
  destination: string,
): { sending: number; deliveredPerSecond: number } {
  const sum = { sending: 0, deliveredPerSecond: 0 };
  for (const node of listing?.nodes ?? []) {
    const d = node.draining[destination];
    if (node.id === listing!.self || !d) continue;
    sum.sending += d.sending;
    sum.deliveredPerSecond += d.deliveredPerSecond;
  }
  return sum;
}
