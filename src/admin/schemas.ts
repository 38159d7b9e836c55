/**
 * The admin API's routes and schemas. The same zod schemas validate each request (params, query,
 * body) and generate the OpenAPI document served at `/openapi.json`; app.ts has the handlers. The
 * answers' types (`ApiAnswer` and the `Api*` types) are inferred from the same schemas, for clients.
 * Field names are snake_case, times ISO-8601 strings in responses.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { PACE_MODES, PACE_SIGNALS } from '../delivery/pacing/pace-mode.js';
import { HOLD_REASONS } from '../delivery/scheduler.js';

/** Security scheme name in the OpenAPI document. */
export const BEARER = 'bearer';
const secured = [{ [BEARER]: [] }];

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ description: 'Stable, machine-readable', example: 'not_found' }),
      message: z.string(),
    }),
  })
  .openapi('Error');

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});
const unauthorized = { 401: errorResponse('Missing or wrong bearer token (`unauthorized`)') };
const invalid = { 400: errorResponse('The request does not match the schema (`invalid_request`)') };
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A time: ISO-8601 (`2024-05-01T10:00:00Z`) or Unix epoch milliseconds; resolves to epoch ms. */
function toEpochMs(value: string | number, ctx: z.core.$RefinementCtx): number {
  const ms =
    typeof value === 'number'
      ? value
      : /^\d+$/.test(value)
        ? Number(value)
        : /^\d{4}-\d{2}-\d{2}/.test(value)
          ? Date.parse(value)
          : NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a time: use ISO-8601 (2024-05-01T10:00:00Z) or epoch milliseconds`,
    });
    return z.NEVER;
  }
  return ms;
}
const timeDoc = { description: 'ISO-8601 or Unix epoch milliseconds', example: '2024-05-01T10:00:00Z' };
const time = z.union([z.string(), z.number()]).transform(toEpochMs).openapi(timeDoc);
const queryTime = z.string().transform(toEpochMs).openapi(timeDoc);

const isoTime = z.string().openapi({ format: 'date-time' });
const deliveryStatus = z.enum(['pending', 'in_flight', 'delivered', 'dead']);
const finishedStatus = z.enum(['dead', 'delivered']);
const bodyEncoding = z
  .enum(['utf8', 'base64'])
  .openapi({ description: 'utf8 when the bytes are valid UTF-8, else base64' });

const NameParam = z.object({
  name: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'crm' }),
});
const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

const PaceSchema = z
  .object({
    adaptive: z.boolean().openapi({
      description:
        "true when the pace is learned from the consumer's answers under the configured rate and concurrency",
    }),
    rate_per_second: z
      .number()
      .nullable()
      .openapi({ description: 'Requests per second allowed now; null: not limited' }),
    concurrency: z.number().int().openapi({ description: 'Requests at once allowed now (1 while probing)' }),
    mode: z.enum(PACE_MODES).nullable().openapi({ description: "The adaptive pacer's mode; null for a fixed pace" }),
    last_signal: z.enum(PACE_SIGNALS).nullable().openapi({
      description:
        'What last moved an adaptive pace: a refusal (429, 503), a burst of 5xx, a timeout, no connection, latency above no-load (a queue in the consumer), growth, idle (slow start again) or restored (from the previous run)',
    }),
    last_signal_at: isoTime.nullable(),
  })
  .openapi('Pace');

export const DestinationSchema = z
  .object({
    name: z.string(),
    state: z.enum(['running', 'paused']),
    ordering: z.string().openapi({
      description:
        'unordered; fifo (strict ingest order, one at a time); or key <spec>, e.g. `key json:/customer_id` (strict order within each key, keys in parallel)',
      example: 'key json:/customer_id',
    }),
    pending: z.number().int().openapi({ description: 'Waiting for a first attempt (or replayed)' }),
    in_flight: z
      .number()
      .int()
      .openapi({ description: 'Requests at the consumer now (never more than its concurrency)' }),
    claimed: z.number().int().openapi({
      description:
        'Claimed from the journal but not sent yet: claimed ahead of a free slot, or leased by a process that stopped (sent again once the lease ends)',
    }),
    retrying: z.number().int().openapi({ description: 'Waiting for a retry after a failed attempt' }),
    dead: z.number().int(),
    delivered_last_hour: z.number().int(),
    oldest_pending_age_seconds: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Age of the oldest event not yet finished; null when none' }),
    rate_per_second: z.number().openapi({
      description:
        'Deliveries per second over the last minute (counted from the first delivery in it when this process started or resumed less than a minute ago)',
    }),
    eta_seconds: z.number().int().nullable().openapi({
      description:
        'Time to drain pending + retrying + in flight + claimed at that rate (or at the pace since this process first sent, when higher: just after a restart), at most at the configured rate; 0 with no backlog; null when nothing was delivered in the last minute or the destination is paused',
    }),
    held_until: isoTime
      .nullable()
      .openapi({ description: 'Nothing is sent to the destination before then (see held_by); null when not held' }),
    held_by: z.enum(HOLD_REASONS).nullable().openapi({
      description:
        "retry_after: the consumer's 429/503 Retry-After; unreachable: attempts in a row got no answer, and the consumer is probed one request at a time after the hold",
    }),
    pace: PaceSchema.nullable().openapi({ description: 'The pace it is sent at now; null when not known' }),
  })
  .openapi('Destination');

const DeliverySummary = z.object({
  destination: z.string(),
  status: deliveryStatus,
  attempts: z.number().int(),
  last_error: z.string().nullable(),
});
/** The fields every view of an event starts with. */
const eventIdentity = {
  id: z.string(),
  seq: z.number().int(),
  source: z.string(),
  method: z.string(),
  path: z.string(),
};
export const EventSummarySchema = z
  .object({
    ...eventIdentity,
    received_at: isoTime,
    body_size: z.number().int(),
    deliveries: z.array(DeliverySummary),
  })
  .openapi('EventSummary');

const AttemptSchema = z.object({
  attempt: z.number().int(),
  started_at: isoTime,
  duration_ms: z.number(),
  status: z
    .number()
    .int()
    .nullable()
    .openapi({ description: "HTTP status of the consumer's answer; null when none came" }),
  error: z.string().nullable(),
  response: z.string().nullable().openapi({ description: 'First bytes (at most 1 KiB) of the answer' }),
  response_encoding: bodyEncoding.nullable(),
});
export const EventDetailSchema = z
  .object({
    ...eventIdentity,
    query: z.string(),
    remote_addr: z.string().nullable(),
    received_at: isoTime,
    headers: z
      .array(z.tuple([z.string(), z.string()]))
      .openapi({ description: 'As received: original case and order, repeats kept' }),
    body: z.string(),
    body_encoding: bodyEncoding,
    body_size: z.number().int(),
    deliveries: z.array(
      z.object({
        destination: z.string(),
        status: deliveryStatus,
        attempts: z.number().int(),
        due_at: isoTime.nullable(),
        finished_at: isoTime.nullable(),
        last_error: z.string().nullable(),
        attempt_log: z.array(AttemptSchema),
      }),
    ),
  })
  .openapi('Event');

const Replayed = z
  .object({ replayed: z.number().int().openapi({ description: 'Deliveries made pending again' }) })
  .openapi('Replayed');
const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: false, content: { 'application/json': { schema } } });

/** POST /destinations/{name}/pause: answers the state it leads to. */
function stateRoute<A extends 'pause' | 'resume', S extends 'paused' | 'running'>(
  action: A,
  state: S,
  summary: string,
) {
  return createRoute({
    method: 'post',
    path: `/destinations/{name}/${action}` as `/destinations/{name}/${A}`,
    summary,
    security: secured,
    request: { params: NameParam },
    responses: {
      200: json(z.object({ name: z.string(), state: z.literal(state) }), state === 'paused' ? 'Paused' : 'Running'),
      ...unauthorized,
      404: errorResponse('No such destination'),
    },
  });
}

export const routes = {
  listDestinations: createRoute({
    method: 'get',
    path: '/destinations',
    summary: 'Backlog, state and drain estimate of every destination',
    security: secured,
    responses: {
      200: json(z.object({ destinations: z.array(DestinationSchema) }), 'Per destination'),
      ...unauthorized,
    },
  }),
  listEvents: createRoute({
    method: 'get',
    path: '/events',
    summary: 'Events, newest first, with keyset pagination',
    security: secured,
    request: {
      query: z.object({
        status: deliveryStatus
          .optional()
          .openapi({ description: 'Events with a delivery in this status (to `destination` when given)' }),
        source: z.string().min(1).optional(),
        destination: z.string().min(1).optional(),
        since: queryTime.optional().openapi({ description: 'Received at or after' }),
        until: queryTime.optional().openapi({ description: 'Received before' }),
        limit: z.coerce.number().int().min(1).max(1000).default(50),
        cursor: z
          .string()
          .regex(/^[A-Za-z0-9._~-]{1,256}$/, 'not a cursor from this API')
          .optional()
          .openapi({ description: '`next_cursor` of the previous page' }),
      }),
    },
    responses: {
      200: json(
        z.object({
          events: z.array(EventSummarySchema),
          next_cursor: z.string().nullable().openapi({ description: 'null on the last page' }),
        }),
        'A page of events',
      ),
      ...invalid,
      ...unauthorized,
      404: errorResponse('`destination` is not in the config'),
    },
  }),
  getEvent: createRoute({
    method: 'get',
    path: '/events/{id}',
    summary: 'The stored request, each delivery and every attempt',
    security: secured,
    request: { params: IdParam },
    responses: {
      200: json(EventDetailSchema, 'The event: `id` may be the start of an id, when only one event has it'),
      ...unauthorized,
      404: errorResponse('No such event'),
      409: errorResponse('More than one event has an id starting so (`ambiguous`); the message lists some'),
    },
  }),
  deleteEvent: createRoute({
    method: 'delete',
    path: '/events/{id}',
    summary: 'Purge one event with its deliveries and attempts',
    security: secured,
    request: { params: IdParam },
    responses: {
      200: json(z.object({ id: z.string(), deleted: z.literal(true) }), 'Deleted'),
      ...unauthorized,
      404: errorResponse('No such event'),
    },
  }),
  replayEvent: createRoute({
    method: 'post',
    path: '/events/{id}/replay',
    summary: 'Deliver an event again (its finished deliveries, or only the one to `destination`)',
    security: secured,
    request: { params: IdParam, body: jsonBody(z.object({ destination: z.string().min(1).optional() })) },
    responses: {
      200: json(Replayed, 'Replayed'),
      ...invalid,
      ...unauthorized,
      404: errorResponse('No such event, or no delivery of it to `destination`'),
      409: errorResponse('Nothing to replay: the deliveries are not finished yet (`not_finished`)'),
    },
  }),
  replayDestination: createRoute({
    method: 'post',
    path: '/destinations/{name}/replay',
    summary: 'Deliver again every dead (or delivered) delivery of a destination, optionally by time range',
    description:
      'Replayed deliveries are sent under the destination’s rate and concurrency, only with what live events leave.',
    security: secured,
    request: {
      params: NameParam,
      body: jsonBody(
        z.object({
          status: finishedStatus.optional().openapi({ description: 'Which finished deliveries (default dead)' }),
          since: time.optional().openapi({ description: 'Events received at or after' }),
          until: time.optional().openapi({ description: 'Events received before' }),
        }),
      ),
    },
    responses: {
      200: json(Replayed, 'Replayed'),
      ...invalid,
      ...unauthorized,
      404: errorResponse('No such destination'),
    },
  }),
  pause: stateRoute('pause', 'paused', 'Stop sending to a destination (ingest goes on); survives restarts'),
  resume: createRoute({
    method: 'post',
    path: '/destinations/{name}/resume',
    summary:
      'Send again: ends a pause, and a hold (a Retry-After, or the wait before probing a consumer that was down)',
    security: secured,
    request: { params: NameParam },
    responses: {
      200: json(
        z.object({
          name: z.string(),
          state: z.literal('running'),
          hold_lifted: z
            .object({ held_until: isoTime, held_by: z.enum(HOLD_REASONS) })
            .optional()
            .openapi({ description: 'The hold this ended, when one ran; it stays ended after a restart' }),
        }),
        'Running',
      ),
      ...unauthorized,
      404: errorResponse('No such destination'),
    },
  }),
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
