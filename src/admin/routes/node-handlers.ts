/** The handler of GET /nodes (node-routes.ts). */
import type { RouteHandler } from '@hono/zod-openapi';
import { listNodes } from '../../cluster/node-listing.js';
import type { NodeRecord } from '../../journal/port.js';
import type { HandlerContext } from './handler-context.js';
import { iso } from './handler-context.js';
import type { nodeRoutes as routes } from './node-routes.js';

export function nodeHandlers({ journal, reporter, clock }: HandlerContext) {
  const listNodesHandler: RouteHandler<typeof routes.listNodes> = async (c) => {
    const listing = await listNodes(journal, reporter, clock());
    return c.json({ shared: listing.shared, nodes: listing.nodes.map((n) => apiNode(n, listing.self)) }, 200);
  };
  return { listNodes: listNodesHandler };
}

function apiNode(node: NodeRecord, self: string) {
  return {
    id: node.id,
    self: node.id === self,
    host: node.host,
    pid: node.pid,
    version: node.version,
    ingest_url: node.listeners.ingest ?? null,
    admin_url: node.listeners.admin ?? null,
    started_at: iso(node.startedAt),
    seen_at: iso(node.seenAt),
    draining: Object.fromEntries(
      Object.entries(node.draining).map(([name, d]) => [
        name,
        {
          in_flight: d.sending,
          claimed: d.claimed,
          delivered_per_second: d.deliveredPerSecond,
          rate_per_second: d.rate ?? null,
          concurrency: d.concurrency,
        },
      ]),
    ),
  };
}
