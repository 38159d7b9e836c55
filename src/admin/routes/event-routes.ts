/**
 * The routes about events: a page of them, one with its deliveries and attempts, deleting one and
 * replaying one. Handlers: event-handlers.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  bodyEncoding,
  deliveryStatus,
  errorResponse,
  IdParam,
  invalid,
  isoTime,
  json,
  jsonBody,
  queryTime,
  Replayed,
  secured,
  unauthorized,
} from './shared.js';

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

export const eventRoutes = {
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
};
