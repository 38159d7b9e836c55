/**
 * The nodes as the admin API shows them: with a journal several nodes share, every live node (this
 * one from its live state, the others from their last report, at most a second old); otherwise this
 * process alone.
 */
import type { Journal, NodeDraining, NodeRecord } from '../journal/port.js';
import type { NodeReporter } from './node-report.js';

/** `id` of this process when its journal is its own. */
const LOCAL_NODE_ID = 'local';

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

/** What the nodes other than the one answering do with one destination (`drainingElsewhere`). */
export interface DrainingElsewhere {
  /** How many other live nodes drain it. */
  nodes: number;
  /** Their requests at the consumer. */
  sending: number;
  /** Their deliveries per second. */
  deliveredPerSecond: number;
  /** The sum of their paces: requests per second (undefined when one is not limited) and at once. */
  rate: number | undefined;
  concurrency: number;
}

/** What every node but `self` does with `destination`; undefined without a shared journal. */
export function drainingElsewhere(
  listing: NodeListing | undefined,
  destination: string,
): DrainingElsewhere | undefined {
  if (!listing?.shared) return undefined;
  const sum: DrainingElsewhere = { nodes: 0, sending: 0, deliveredPerSecond: 0, rate: 0, concurrency: 0 };
  for (const node of listing.nodes) {
    const d = node.draining[destination];
    if (node.id === listing.self || !d) continue;
    sum.nodes += 1;
    sum.sending += d.sending;
    sum.deliveredPerSecond += d.deliveredPerSecond;
    sum.rate = addRates(sum.rate, d.rate);
    sum.concurrency += d.concurrency;
  }
  return sum;
}

/** Whether a node is doing anything with a destination now: requests at the consumer, claims ahead, or deliveries. */
export function isBusy(d: Pick<NodeDraining, 'sending' | 'claimed' | 'deliveredPerSecond'>): boolean {
  return d.sending > 0 || d.claimed > 0 || d.deliveredPerSecond > 0;
}

/** The sum of two paces in requests per second: undefined (not limited) when either one is. */
export function addRates(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}
