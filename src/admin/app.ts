/**
 * The admin API: backlog per destination, events, replay, pause/resume, purge, metrics and health,
 * on its own listener (never the public ingest port). Every route but /healthz and /readyz needs
 * `Authorization: Bearer <token>` (the configured token, or the one made at first start: token.ts),
 * a Host the listener answers to, no foreign Origin, and a JSON content type to change anything
 * (request-guard.ts). Routes and schemas: schemas.ts; the OpenAPI document generated from them is
 * served at /openapi.json.
 *
 * Errors are JSON `{"error": {"code", "message"}}` with a stable code: unauthorized (401),
 * forbidden_host and forbidden_origin (403), invalid_request (400), not_found (404), not_finished
 * (409), unsupported_media_type (415), not_ready and unavailable (503), internal (500).
 */
import { isUtf8 } from 'node:buffer';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type Config, orderingLabel } from '../config/schema.js';
import type { Scheduler } from '../delivery/scheduler.js';
import { JournalUnavailableError } from '../errors.js';
import type { AdminActionEvent, GatewayEvents } from '../events.js';
import type { DeliveryRecord, DestinationStats, EventSummary, Journal, StoredEvent } from '../journal/port.js';
import type { Logger } from '../log.js';
import { redactCredentials } from '../senders/credentials.js';
import { safeEqual } from '../senders/signature.js';
import { healthHandlers, type ReadinessCheck } from './health.js';
import type { Metrics } from './metrics.js';
import { hostGuard, jsonOnly, LOOPBACK_NAMES } from './request-guard.js';
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

/** Candidates an ambiguous id prefix names in its error. */
const AMBIGUOUS_SHOWN = 5;

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
  // Before the bearer check: the page cannot send the header, it has its own session (dashboard/app.tsx).
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

  const unknownDestination = (c: Context, name: string) =>
    error(c, 404, 'not_found', `no destination "${name}" in the config`);

  app.openapi(routes.listDestinations, async (c) => {
    const now = clock();
    const list = await Promise.all(
      Object.entries(destinations).map(async ([name, destination]) =>
        destinationStatus(name, await journal.destinationStats(name, now), {
          state: scheduler.state(name),
          now,
          localRate: metrics.deliveredRate(name, now),
          sendingRate: metrics.sendingRate(name, now),
          configuredRate: destination.rate,
          ordering: destination.ordering,
        }),
      ),
    );
    return c.json({ destinations: list }, 200);
  });

  app.openapi(routes.listEvents, async (c) => {
    const q = c.req.valid('query');
    if (q.destination !== undefined && !(q.destination in destinations)) return unknownDestination(c, q.destination);
    const page = await journal.listEvents({
      status: q.status,
      source: q.source,
      destination: q.destination,
      since: q.since,
      until: q.until,
      limit: q.limit,
      cursor: q.cursor,
    });
    return c.json({ events: page.events.map(eventSummary), next_cursor: page.nextCursor ?? null }, 200);
  });

  app.openapi(routes.getEvent, async (c) => {
    const { id } = c.req.valid('param');
    // An operator may type the start of an id: ids made in the same millisecond share their first
    // characters, so the prefix must be long enough to be unique.
    let event = await journal.getEvent(id);
    if (!event) {
      const matches = await journal.findEventIds(id, AMBIGUOUS_SHOWN + 1);
      if (matches.length > 1) {
        const more = matches.length > AMBIGUOUS_SHOWN ? ', ...' : '';
        return error(
          c,
          409,
          'ambiguous',
          `more than one event id starts with "${id}": ${matches.slice(0, AMBIGUOUS_SHOWN).join(', ')}${more}; give more of the id`,
        );
      }
      if (matches.length === 1) event = await journal.getEvent(matches[0]!);
    }
    if (!event) return error(c, 404, 'not_found', `no event "${id}"`);
    return c.json(eventDetail(event), 200);
  });

  app.openapi(routes.deleteEvent, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await journal.deleteEvent(id))) return error(c, 404, 'not_found', `no event "${id}"`);
    audit('delete', id);
    return c.json({ id, deleted: true as const }, 200);
  });

  app.openapi(routes.replayEvent, async (c) => {
    const { id } = c.req.valid('param');
    const { destination } = c.req.valid('json');
    const event = await journal.getEvent(id);
    if (!event) return error(c, 404, 'not_found', `no event "${id}"`);
    const targets = event.deliveries
      .map((d) => d.destination)
      .filter((d) => destination === undefined || d === destination);
    if (targets.length === 0) return error(c, 404, 'not_found', `event "${id}" has no delivery to "${destination}"`);
    const replayed = await journal.replay({ eventId: id, destination }, clock());
    if (replayed === 0)
      return error(
        c,
        409,
        'not_finished',
        `nothing to replay: the deliveries of "${id}" are still pending or in flight`,
      );
    scheduler.notify(targets);
    audit('replay', id, replayed);
    return c.json({ replayed }, 200);
  });

  app.openapi(routes.replayDestination, async (c) => {
    const { name } = c.req.valid('param');
    const body = c.req.valid('json');
    if (!(name in destinations)) return unknownDestination(c, name);
    const replayed = await journal.replay(
      { destination: name, status: body.status, since: body.since, until: body.until },
      clock(),
    );
    if (replayed > 0) scheduler.notify([name]);
    audit('replay', name, replayed);
    return c.json({ replayed }, 200);
  });

  app.openapi(routes.pause, async (c) => {
    const { name } = c.req.valid('param');
    if (!(name in destinations)) return unknownDestination(c, name);
    await scheduler.pause(name);
    audit('pause', name);
    return c.json({ name, state: 'paused' as const }, 200);
  });

  app.openapi(routes.resume, async (c) => {
    const { name } = c.req.valid('param');
    if (!(name in destinations)) return unknownDestination(c, name);
    // Resume means "send now": it ends a Retry-After hold (or the wait before probing) as well.
    const lifted = await scheduler.liftHold(name);
    await scheduler.resume(name);
    if (lifted) audit('lift-hold', name);
    audit('resume', name);
    const hold = lifted && { held_until: iso(lifted.until), held_by: lifted.by };
    return c.json({ name, state: 'running' as const, ...(hold && { hold_lifted: hold }) }, 200);
  });

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

function error<S extends ContentfulStatusCode>(c: Context, status: S, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

/**
 * One row of GET /destinations (and of `sluice status`).
 *
 * The rate is the journal's deliveries in the last minute over 60 s, or this process's own count
 * over the time since its first delivery in that minute when that is higher (just after a start or
 * a resume, a whole minute would understate it). The time to drain divides the backlog by that
 * rate, or by the pace since this process's first send when higher (just after a restart), capped
 * by the configured rate (a burst says nothing of the pace after it).
 */
export function destinationStatus(
  name: string,
  s: DestinationStats,
  at: {
    state: ReturnType<Scheduler['state']>;
    now: number;
    localRate?: number | undefined;
    /** `Metrics.sendingRate`: this process's pace without the 10 s floor, for the time to drain. */
    sendingRate?: number | undefined;
    configuredRate?: number | undefined;
    ordering?: Config['destinations'][string]['ordering'] | undefined;
  },
) {
  const paused = at.state?.paused ?? false;
  const rate = Math.max(s.deliveredLastMinute / 60, at.localRate ?? 0);
  // Right after a start the floored local rate and the journal's minute (which spans the downtime)
  // both understate the pace, by up to ten times: the ETA then used the unfloored pace since the
  // first send, capped by the configured rate, which a burst cannot pass.
  const drainRate = Math.min(Math.max(rate, at.sendingRate ?? 0), at.configuredRate ?? Infinity);
  const backlog = s.pending + s.retrying + s.inFlight;
  // The journal counts every claimed delivery as in flight, also those claimed ahead of a free slot
  // (claim-ahead.ts) and the leases of a stopped process: only the loop knows which are at the consumer.
  const sending = at.state === undefined ? s.inFlight : Math.min(s.inFlight, at.state.inFlight);
  return {
    name,
    state: paused ? ('paused' as const) : ('running' as const),
    ordering: orderingLabel(at.ordering ?? 'unordered'),
    pending: s.pending,
    in_flight: sending,
    claimed: s.inFlight - sending,
    retrying: s.retrying,
    dead: s.dead,
    delivered_last_hour: s.deliveredLastHour,
    oldest_pending_age_seconds:
      s.oldestUnfinishedAt === undefined ? null : Math.max(0, Math.floor((at.now - s.oldestUnfinishedAt) / 1000)),
    rate_per_second: Math.round(rate * 1000) / 1000,
    eta_seconds: backlog === 0 ? 0 : paused || drainRate === 0 ? null : Math.ceil(backlog / drainRate),
    held_until: at.state?.heldUntil === undefined ? null : new Date(at.state.heldUntil).toISOString(),
    held_by: at.state?.heldBy ?? null,
    pace: at.state ? paceStatus(at.state) : null,
  };
}

/** The pace a destination is sent at now: configured, or learned by its adaptive pacer, and what last moved it. */
function paceStatus(state: NonNullable<ReturnType<Scheduler['state']>>) {
  const rate = state.rate === undefined ? null : Number(state.rate.toPrecision(3));
  return {
    adaptive: state.pace !== undefined,
    rate_per_second: rate,
    concurrency: state.concurrency,
    mode: state.pace?.mode ?? null,
    last_signal: state.pace?.signal ?? null,
    last_signal_at: state.pace?.signalAt === undefined ? null : new Date(state.pace.signalAt).toISOString(),
  };
}

/** The fields every view of an event starts with (`eventIdentity` in schemas.ts). */
function eventIdentity(e: Pick<EventSummary, 'id' | 'seq' | 'source' | 'method' | 'path'>) {
  return { id: e.id, seq: e.seq, source: e.source, method: e.method, path: e.path };
}

function eventSummary(e: EventSummary) {
  return {
    ...eventIdentity(e),
    received_at: iso(e.receivedAt),
    body_size: e.bodySize,
    deliveries: e.deliveries.map((d) => ({
      destination: d.destination,
      status: d.status,
      attempts: d.attempts,
      last_error: d.lastError,
    })),
  };
}

function eventDetail(e: StoredEvent & { deliveries: DeliveryRecord[] }) {
  const body = encode(e.body);
  return {
    ...eventIdentity(e),
    query: e.query,
    remote_addr: e.remoteAddr,
    received_at: iso(e.receivedAt),
    // Credentials redacted, also in events stored before ingest began dropping them.
    headers: redactCredentials(e.headers),
    body: body.text,
    body_encoding: body.encoding,
    body_size: e.body.byteLength,
    deliveries: e.deliveries.map((d) => ({
      destination: d.destination,
      status: d.status,
      attempts: d.attempts,
      due_at: d.dueAt === null ? null : iso(d.dueAt),
      finished_at: d.finishedAt === null ? null : iso(d.finishedAt),
      last_error: d.lastError,
      attempt_log: d.attemptLog.map((a) => {
        const response = a.response ? encode(a.response) : undefined;
        return {
          attempt: a.attempt,
          started_at: iso(a.startedAt),
          duration_ms: a.durationMs,
          status: a.status ?? null,
          error: a.error ?? null,
          response: response?.text ?? null,
          response_encoding: response?.encoding ?? null,
        };
      }),
    })),
  };
}

/** Text when the bytes are valid UTF-8, else base64. */
function encode(bytes: Uint8Array): { text: string; encoding: 'utf8' | 'base64' } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return isUtf8(buffer)
    ? { text: buffer.toString('utf8'), encoding: 'utf8' }
    : { text: buffer.toString('base64'), encoding: 'base64' };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
