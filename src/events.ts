/**
 * What happens inside a gateway, as typed events. The parts that act (ingest, the journal, the
 * delivery loops) emit; metrics, logs and live views subscribe. An emitter does not know who
 * listens, so adding a view adds a subscriber, not an option threaded through every constructor.
 */
import { EventEmitter } from 'node:events';
import type { DestinationMode } from './delivery/destination-mode.js';
import type { PaceMode, PaceSignal } from './delivery/pacing/pace-mode.js';
import type { StoredEvent } from './journal/port.js';

/** What became of a request on a source's path: journaled, deduplicated, refused (4xx), or 503. */
export type ReceiveOutcome = 'accepted' | 'duplicate' | 'rejected' | 'unavailable';
export const RECEIVE_OUTCOMES: readonly ReceiveOutcome[] = ['accepted', 'duplicate', 'rejected', 'unavailable'];

/** What became of a delivery after one finished attempt. */
export type AttemptOutcomeKind = 'delivered' | 'retry' | 'dead';
export const ATTEMPT_OUTCOMES: readonly AttemptOutcomeKind[] = ['delivered', 'retry', 'dead'];

/** One finished delivery attempt. */
export interface AttemptEvent {
  destination: string;
  outcome: AttemptOutcomeKind;
  /** The consumer's status; absent when no answer came. */
  status: number | undefined;
  durationMs: number;
}

/** An adaptive destination's pace changed (see delivery/pacing/adaptive-pacer.ts). */
export interface PaceEvent {
  destination: string;
  /** Requests per second allowed now; undefined when not limited. */
  rate: number | undefined;
  concurrency: number;
  mode: PaceMode;
  /** What moved it, and when. */
  signal: PaceSignal | undefined;
  at: number | undefined;
  /**
   * The pace moved by more than a quarter (rate or concurrency) since the last change that did, or
   * changed mode: worth a log line, and kept in the journal for the next start.
   */
  notable: boolean;
}

/** What an operator did through the admin API or the dashboard. */
export type AdminActionKind = 'pause' | 'resume' | 'replay' | 'delete' | 'lift-hold' | 'purge';

/** One operator action, for the audit log and the dashboard's activity list. */
export interface AdminActionEvent {
  action: AdminActionKind;
  /** What it acted on: a destination name or an event id. */
  target: string;
  /** How much it changed (for example how many deliveries a replay made pending again). */
  count?: number | undefined;
  /** Where the request came from: the admin API (CLI, scripts) or the dashboard. */
  via: 'api' | 'ui';
  at: number;
}

/** Every event a gateway emits, by name, with its payload. */
export interface GatewayEventMap {
  /** A request on a source's path was answered. */
  'ingest:received': [{ source: string; outcome: ReceiveOutcome }];
  /** An event was journaled (not a duplicate): its destinations may have new work. */
  'ingest:accepted': [{ event: StoredEvent; destinations: readonly string[] }];
  /** The journal committed a group of writes. */
  'journal:commit': [{ batchSize: number; durationMs: number }];
  /**
   * Another node wrote new due deliveries for these destinations (an empty list: perhaps any, after
   * the journal's notification connection was lost). Only from a journal with `crossProcessWakeups`.
   */
  'journal:wakeup': [{ destinations: readonly string[] }];
  /** Another node paused, resumed or held this destination (the journal holds its new state). */
  'journal:state-changed': [{ destination: string }];
  /** The journal's notification connection was lost (it reconnects by itself) or is back. */
  'journal:listening': [{ listening: boolean; error?: string | undefined }];
  /**
   * Renewing the short leases of this node's claims failed (once per run of failures: its claims may
   * go to other nodes, and are released rather than sent), or works again.
   */
  'journal:lease-renewal': [{ renewing: boolean; error?: string | undefined }];
  /** Short of space, retention deleted delivered events before their retention ended. */
  'journal:reclaimed': [{ count: number }];
  /** A delivery attempt finished and its outcome was decided. */
  'delivery:attempt': [AttemptEvent];
  /** A destination's delivery loop changed mode (see delivery/destination-mode.ts). */
  'destination:mode': [{ destination: string; from: DestinationMode; to: DestinationMode; reason: string }];
  /** An adaptive destination's rate, concurrency or pace mode changed. */
  'destination:pace': [PaceEvent];
  /** An operator acted (pause, resume, replay, delete, ...). */
  'admin:action': [AdminActionEvent];
}

/** The gateway's event bus. */
export type GatewayEvents = EventEmitter<GatewayEventMap>;

/** A new, empty event bus. */
export function createGatewayEvents(): GatewayEvents {
  return new EventEmitter<GatewayEventMap>();
}
