/**
 * The routes for monitoring: Prometheus metrics (behind the token) and the health checks (without).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { errorResponse, json, secured, unauthorized } from './shared.js';

export const serviceRoutes = {
  metrics: createRoute({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    security: secured,
    responses: {
      200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
      ...unauthorized,
    },
  }),
  healthz: createRoute({
    method: 'get',
    path: '/healthz',
    summary: 'The process is up (no token needed)',
    security: [],
    responses: { 200: json(z.object({ status: z.literal('ok') }), 'Up') },
  }),
  readyz: createRoute({
    method: 'get',
    path: '/readyz',
    summary: 'Ready to take events: journal writable, migrations applied, listeners bound (no token needed)',
    security: [],
    responses: {
      200: json(z.object({ status: z.literal('ready') }), 'Ready'),
      503: errorResponse('Not ready (`not_ready`)'),
    },
  }),
};
