/**
 * The routes about destinations: their backlog, state and pace (GET /destinations), and what an
 * operator does to one (replay, pause, resume). Handlers: destination-handlers.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { PACE_MODES, PACE_SIGNALS } from '../../delivery/pacing/pace-mode.js';
import { HOLD_REASONS } from '../../delivery/scheduler.js';
import {
  errorResponse,
  finishedStatus,
  invalid,
  isoTime,
  json,
  jsonBody,
  NameParam,
  Replayed,
  secured,
  time,
  unauthorized,
} from './shared.js';

const PaceSchema = z
  .object({
    adaptive: z.boolean().openapi({
      description:
        "true when the pace is learned from the consumer's answers under the configured rate and concurrency",
    }),
    rate_per_second: z
      .number()
      .nullable()
      .openapi({ description: 'Requests per second allowed now, by every node together; null: not limited' }),
    concurrency: z.number().int().openapi({ description: 'Requests at once allowed now (1 while probing)' }),
    nodes: z.number().int().openapi({
      description:
        'The nodes whose paces make this one: with several nodes on one journal, rate and concurrency are the sum of theirs, within the configured ones',
    }),
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

export const destinationRoutes = {
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
};
