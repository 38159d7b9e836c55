/**
 * The admin API's routes, by name: the same zod schemas validate each request (params, query, body)
 * and generate the OpenAPI document served at `/openapi.json`; app.ts has the handlers. The answers'
 * types (`ApiAnswer` and the `Api*` types) are inferred from the same schemas, for clients.
 * Field names are snake_case, times ISO-8601 strings in responses. The routes are defined by group
 * in routes/ (destinations, events, metrics and health; shared.ts has what they share).
 */
import type { z } from '@hono/zod-openapi';
import { type DestinationSchema, destinationRoutes } from './routes/destination-routes.js';
import { type EventDetailSchema, type EventSummarySchema, eventRoutes } from './routes/event-routes.js';
import { type NodeSchema, nodeRoutes } from './routes/node-routes.js';
import { serviceRoutes } from './routes/service-routes.js';

/** Every admin route, in the order app.ts registers them (and the OpenAPI document lists them). */
export const routes = {
  listDestinations: destinationRoutes.listDestinations,
  listEvents: eventRoutes.listEvents,
  getEvent: eventRoutes.getEvent,
  deleteEvent: eventRoutes.deleteEvent,
  replayEvent: eventRoutes.replayEvent,
  replayDestination: destinationRoutes.replayDestination,
  pause: destinationRoutes.pause,
  resume: destinationRoutes.resume,
  listNodes: nodeRoutes.listNodes,
  metrics: serviceRoutes.metrics,
  healthz: serviceRoutes.healthz,
  readyz: serviceRoutes.readyz,
};

/** The admin routes, by name. */
export type AdminRoutes = typeof routes;

/** The JSON a route answers with on 200; `never` for a route that answers something else. */
type JsonAnswer<R> = R extends {
  responses: { 200: { content: { 'application/json': { schema: infer S extends z.ZodType } } } };
}
  ? z.infer<S>
  : never;

/** Routes that answer 200 with JSON (all but /metrics). */
export type JsonRoute = {
  [K in keyof AdminRoutes]: [JsonAnswer<AdminRoutes[K]>] extends [never] ? never : K;
}[keyof AdminRoutes];

/** What route `K` answers with on 200, as its client reads it. */
export type ApiAnswer<K extends JsonRoute> = JsonAnswer<AdminRoutes[K]>;

/** One destination of GET /destinations. */
export type ApiDestination = z.infer<typeof DestinationSchema>;
/** One event of GET /events. */
export type ApiEventSummary = z.infer<typeof EventSummarySchema>;
/** GET /events/{id}. */
export type ApiEvent = z.infer<typeof EventDetailSchema>;
/** GET /events: a page. */
export type ApiEventPage = ApiAnswer<'listEvents'>;
/** One node of GET /nodes. */
export type ApiNode = z.infer<typeof NodeSchema>;
