/**
 * The admin API: backlog per destination, events, replay, pause/resume, purge, metrics and health,
 * on its own listener (never the public ingest port). Every route but /healthz and /readyz needs
 * `Authorization: Bearer <token>` (the configured token, or the one made at first start: token.ts),
 * a Host the listener answers to, no foreign Origin, and a JSON content type to change anything
 * (request-guard.ts). Routes and schemas: schemas.ts (by group in routes/); the handlers, by group:
 * routes/destination-handlers.ts and routes/event-handlers.ts. The OpenAPI document generated from
 * the schemas is served at /openapi.json.
 *
 * Errors are JSON `{"error": {"code", "message"}}` with a stable code: unauthorized (401),
 * forbidden_host and forbidden_origin (403), invalid_request (400), not_found (404), not_finished
 * (409), unsupported_media_type (415), not_ready and unavailable (503), internal (500).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Hono, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { NodeReporter } from '../cluster/node-report.js';
import type { Config } from '../config/schema.js';
import type { Scheduler } from '../delivery/scheduler.js';
import { JournalUnavailableError } from '../errors.js';
import type { AdminActionEvent, GatewayEvents } from '../events.js';
import type { Journal } from '../journal/port.js';
import type { Logger } from '../log.js';
import { safeEqual } from '../senders/signature.js';
import { healthHandlers, type ReadinessCheck } from './health.js';
import type { Metrics } from './metrics.js';
import { hostGuard, jsonOnly, LOOPBACK_NAMES } from './request-guard.js';
import { destinationHandlers } from './routes/destination-handlers.js';
import { eventHandlers } from './routes/event-handlers.js';
import { error } from './routes/handler-context.js';
import { nodeHandlers } from './routes/node-handlers.js';
import { BEARER } from './routes/shared.js';
import { routes } from './schemas.js';

/** What the admin app needs. */
export interface AdminOptions {
  journal: Journal;
  scheduler: Scheduler;
  destinations: Config['destinations'];
  /** Bearer token every route but the health checks needs. */
  token: string;
  /** Host names the listener answers to (`listenerHostNames`); default the loopback names. */
  allowedHosts?: readonly string[];
  metrics: Metrics;
  /** This node's live report (GET /nodes), the one the gateway's heartbeat sends. */
  reporter: NodeReporter;
  clock?: () => number;
  /** Journal writable, migrations applied, listeners bound. */
  isReady: ReadinessCheck;
  /** Unexpected errors (500s) are logged here. */
  logger?: Logger;
  /** The dashboard's routes, mounted at /ui behind the Host and Origin check; they sign in with a cookie. */
  dashboard?: Hono;
  /** Where each operator action goes as `admin:action` (the audit log subscribes). */
  events?: GatewayEvents;
}

/** Paths served without a token, whatever the Host. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);
/** Paths served without a token (the API's description holds no data), to an allowed Host only. */
export const TOKENLESS_PATHS: ReadonlySet<string> = new Set([...PUBLIC_PATHS, '/openapi.json']);

/** Builds the admin Hono app (mount it on the admin listener only). */
export function createAdminApp(deps: AdminOptions): OpenAPIHono {
  const { journal, scheduler, destinations, metrics } = deps;
  const clock = deps.clock ?? Date.now;
  const audit = (action: AdminActionEvent['action'], target: string, count?: number) =>
    deps.events?.emit('admin:action', { action, target, count, via: 'api', at: clock() });
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success)
        return error(
          c,
          400,
          'invalid_request',
          result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '),
        );
      return undefined;
    },
  });

  app.use('*', hostGuard(deps.allowedHosts ?? LOOPBACK_NAMES, PUBLIC_PATHS, error));
  // Before the bearer check: the page cannot send the header, it has its own sign-in (dashboard/app.tsx).
  if (deps.dashboard) app.route('/ui', deps.dashboard);
  app.use('*', bearerAuth(deps.token));
  app.use('*', jsonOnly(error));
  app.notFound((c) => error(c, 404, 'not_found', `no route ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      return error(
        c,
        status,
        status === 415 ? 'unsupported_media_type' : status === 400 ? 'invalid_request' : 'http_error',
        err.message || 'bad request',
      );
    }
    if (err instanceof JournalUnavailableError) return error(c, 503, 'unavailable', err.message);
    deps.logger?.error({ err, method: c.req.method, path: c.req.path }, 'admin request failed');
    return error(c, 500, 'internal', 'internal error');
  });
  app.openAPIRegistry.registerComponent('securitySchemes', BEARER, { type: 'http', scheme: 'bearer' });

  const context = { journal, scheduler, destinations, metrics, reporter: deps.reporter, clock, audit };
  const destination = destinationHandlers(context);
  const event = eventHandlers(context);
  const node = nodeHandlers(context);
  // In this order: the OpenAPI document lists the routes as they are registered.
  app.openapi(routes.listDestinations, destination.listDestinations);
  app.openapi(routes.listEvents, event.listEvents);
  app.openapi(routes.getEvent, event.getEvent);
  app.openapi(routes.deleteEvent, event.deleteEvent);
  app.openapi(routes.replayEvent, event.replayEvent);
  app.openapi(routes.replayDestination, destination.replayDestination);
  app.openapi(routes.pause, destination.pause);
  app.openapi(routes.resume, destination.resume);
  app.openapi(routes.listNodes, node.listNodes);

  app.openapi(routes.metrics, async (c) => {
    const text = await metrics.registry.metrics();
    return c.text(text, 200, { 'Content-Type': metrics.registry.contentType });
  });

  const health = healthHandlers(deps.isReady);
  app.openapi(routes.healthz, health.healthz);
  app.openapi(routes.readyz, health.readyz);

  app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 'Sluice admin API', version: '1' } });
  return app;
}

/**
 * Bearer token check in constant time (`safeEqual`): neither the token nor its length leaks through timing.
 */
function bearerAuth(token: string): MiddlewareHandler {
  if (!token) throw new Error('the admin token must not be empty');
  return async function bearerAuth(c, next) {
    if (!TOKENLESS_PATHS.has(c.req.path)) {
      const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(c.req.header('authorization') ?? '');
      if (!match || !safeEqual(match[1]!, token)) {
        c.header('WWW-Authenticate', 'Bearer realm="sluice-admin"');
        return error(
          c,
          401,
          'unauthorized',
          match ? 'wrong admin token' : 'this route needs Authorization: Bearer <admin token>',
        );
      }
    }
    await next();
    return undefined;
  };
}
