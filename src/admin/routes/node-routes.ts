/**
 * GET /nodes: the Sluice nodes sharing this journal and what each is draining (with SQLite, this
 * process alone). Handler: node-handlers.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { isoTime, json, secured, unauthorized } from './shared.js';

const DrainingSchema = z
  .object({
    in_flight: z.number().int().openapi({ description: 'Requests of this node at the consumer now' }),
    claimed: z.number().int().openapi({ description: 'Claimed by this node ahead of a free slot, not sent yet' }),
    delivered_per_second: z.number().openapi({ description: "This node's deliveries per second, last minute" }),
    rate_per_second: z
      .number()
      .nullable()
      .openapi({ description: 'The pace this node sends at (requests per second); null: not limited' }),
    concurrency: z.number().int().openapi({ description: 'Requests at once this node allows itself' }),
  })
  .openapi('NodeDraining');

export const NodeSchema = z
  .object({
    id: z.string().openapi({ description: "The node's id in the journal (`local` with a journal of its own)" }),
    self: z.boolean().openapi({ description: 'true for the node that answered' }),
    host: z.string(),
    pid: z.number().int(),
    version: z.string(),
    ingest_url: z.string().nullable(),
    admin_url: z.string().nullable(),
    started_at: isoTime,
    seen_at: isoTime.openapi({ description: 'Its last report (every second; a node silent for 5 s is not listed)' }),
    draining: z.record(z.string(), DrainingSchema).openapi({ description: 'By destination' }),
  })
  .openapi('Node');

export const nodeRoutes = {
  listNodes: createRoute({
    method: 'get',
    path: '/nodes',
    summary: 'The live nodes sharing this journal, and what each one is draining',
    description:
      'With a journal several nodes share (PostgreSQL), every node that reported in the last 5 s; with SQLite, this process alone.',
    security: secured,
    responses: {
      200: json(
        z.object({
          shared: z.boolean().openapi({ description: 'true when several nodes can share the journal (PostgreSQL)' }),
          nodes: z.array(NodeSchema),
        }),
        'Oldest first',
      ),
      ...unauthorized,
    },
  }),
};
