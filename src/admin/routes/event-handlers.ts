/**
 * The handlers of the event routes (event-routes.ts): a page of events, one event in full (found by
 * the start of its id too), deleting one and replaying one; and how an event is shown in JSON.
 */
import { isUtf8 } from 'node:buffer';
import type { RouteHandler } from '@hono/zod-openapi';
import type { DeliveryRecord, EventSummary, StoredEvent } from '../../journal/port.js';
import { redactCredentials } from '../../senders/credentials.js';
import type { eventRoutes as routes } from './event-routes.js';
import { error, type HandlerContext, iso, unknownDestination } from './handler-context.js';

/** Candidates an ambiguous id prefix names in its error. */
const AMBIGUOUS_SHOWN = 5;

/** The event routes' handlers, by route name. */
export function eventHandlers({ journal, scheduler, destinations, clock, audit }: HandlerContext) {
  const listEvents: RouteHandler<typeof routes.listEvents> = async (c) => {
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
  };

  const getEvent: RouteHandler<typeof routes.getEvent> = async (c) => {
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
  };

  const deleteEvent: RouteHandler<typeof routes.deleteEvent> = async (c) => {
    const { id } = c.req.valid('param');
    if (!(await journal.deleteEvent(id))) return error(c, 404, 'not_found', `no event "${id}"`);
    audit('delete', id);
    return c.json({ id, deleted: true as const }, 200);
  };

  const replayEvent: RouteHandler<typeof routes.replayEvent> = async (c) => {
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
  };

  return { listEvents, getEvent, deleteEvent, replayEvent };
}

/** The fields every view of an event starts with (`eventIdentity` in event-routes.ts). */
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
