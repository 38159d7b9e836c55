/**
 * Types shared by the scheduler and the destination loops (kept apart from both so that neither
 * imports the other's module for them).
 */
import type { DestinationConfig } from '../config/schema.js';
import type { GatewayEvents } from '../events.js';
import type { Journal } from '../journal/port.js';
import type { Logger } from '../log.js';
import type { DestinationMode } from './destination-mode.js';
import type { DeliveryClient } from './http-client.js';
import type { LearnedPace, PacerFactory, PaceStatus } from './pacing/pacer.js';

/** What the scheduler needs. */
export interface SchedulerOptions {
  destinations: Record<string, DestinationConfig>;
  journal: Journal;
  logger: Logger;
  clock?: () => number;
  random?: () => number;
  /** Makes the HTTP client of a destination (tests may point it elsewhere; defaults to undici). */
  createClient?: (destination: DestinationConfig, name: string) => DeliveryClient;
  /** Makes the pacer of a destination; defaults to the configured rate, burst and concurrency (static-pacer.ts). */
  createPacer?: PacerFactory;
  /** Destinations paused when the scheduler starts (the journal remembers pauses across restarts). */
  paused?: readonly string[];
  /** Retry-After holds still running when the scheduler starts, by destination (`Journal.heldDestinations`). */
  held?: Readonly<Record<string, number>>;
  /** Paces adaptive destinations learned in an earlier run, by destination (`Journal.destinationPaces`). */
  paces?: Readonly<Record<string, LearnedPace>>;
  /** Where `delivery:attempt`, `destination:mode` and `destination:pace` go; the scheduler makes its own when absent. */
  events?: GatewayEvents;
}

/** Why a destination is held: a 429/503 Retry-After, or a consumer that cannot be reached (circuit breaker). */
export const HOLD_REASONS = ['retry_after', 'unreachable'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

/** What the scheduler knows of a destination right now. */
export interface DestinationState {
  /** What its delivery loop is doing (destination-mode.ts). */
  mode: DestinationMode;
  paused: boolean;
  inFlight: number;
  /** Claimed ahead of a free slot, not sent yet. */
  claimedAhead: number;
  /** Hold: nothing is sent before this time (absent when not held). */
  heldUntil: number | undefined;
  /** Why it is held: the consumer's Retry-After, or a consumer that does not answer at all (absent when not held). */
  heldBy: HoldReason | undefined;
  /** Requests per second its pacer allows now; undefined when not limited. */
  rate: number | undefined;
  /** Most requests at once its pacer allows now (one while probing). */
  concurrency: number;
  /** An adaptive destination's pace mode and what last moved its pace; undefined for a fixed pace. */
  pace: PaceStatus | undefined;
}
