/**
 * What a finished attempt becomes once its verdict is decided: the attempt record in the journal,
 * a `delivery:attempt` event, and a log line; and the sample its destination's pacer learns from.
 */
import type { GatewayEvents } from '../events.js';
import type { Claim, Journal } from '../journal/port.js';
import type { Logger } from '../log.js';
import type { AttemptResult } from './http-client.js';
import type { PaceSample } from './pacing/pacer.js';
import { type Decision, isDelivered, parseRetryAfter } from './retry-policy.js';

/** The errors http-client.ts reports for an answer that did not come in time (its own deadline, or undici's). */
const TIMEOUT_ERROR = /^timeout:|UND_ERR_(HEADERS|BODY)_TIMEOUT/;

/** Where an outcome is recorded and told. */
export interface OutcomeSinks {
  destination: string;
  journal: Journal;
  events: GatewayEvents;
  log: Logger;
}

/** Records the attempt and its verdict, then tells the bus and the log. Never rejects for a journal error. */
export async function recordOutcome(
  sinks: OutcomeSinks,
  claim: Claim,
  result: AttemptResult,
  decision: Decision,
): Promise<void> {
  const { log } = sinks;
  // What is needed after the commit, taken now: the claim (its event's body with it) and the result
  // are then not held through the journal's commit, which would keep them past young-generation GCs.
  const eventId = claim.event.id;
  const attempt = claim.attempt;
  const { status, durationMs } = result;
  const record = {
    attempt,
    startedAt: result.startedAt,
    durationMs,
    status,
    error: isDelivered(status) ? undefined : decision.reason,
    response: result.response,
  };
  try {
    const kept = await sinks.journal.complete(claim, record, decision.verdict);
    if (!kept) log.warn({ eventId, attempt }, 'lease lost before the outcome was recorded; a newer claim decides');
  } catch (error) {
    // The lease will expire and the event is delivered again: at-least-once holds.
    log.error({ err: error, eventId }, 'could not record the attempt');
    return;
  }
  sinks.events.emit('delivery:attempt', {
    destination: sinks.destination,
    outcome: decision.verdict.kind,
    status,
    durationMs,
  });
  const delivered = decision.verdict.kind === 'delivered';
  // Built only when logged: at the default level a delivery writes nothing, and this runs for every one.
  if (delivered && !log.isLevelEnabled('debug')) return;
  const fields = { eventId, attempt, status, durationMs: Math.round(durationMs) };
  if (delivered) log.debug(fields, 'delivered');
  else if (decision.verdict.kind === 'retry')
    log.warn(
      { ...fields, error: decision.reason, nextAttemptAt: new Date(decision.verdict.at).toISOString() },
      'attempt failed; will retry',
    );
  else log.warn({ ...fields, error: decision.reason }, 'delivery dead');
}

/** What an attempt tells the pacer. */
export function paceSample(result: AttemptResult, now: number): PaceSample {
  let failure: PaceSample['failure'];
  if (result.status === undefined) failure = TIMEOUT_ERROR.test(result.error ?? '') ? 'timeout' : 'connection';
  return {
    status: result.status,
    latencyMs: result.durationMs,
    retryAfter: parseRetryAfter(result.retryAfter, now),
    failure,
  };
}
