/**
 * The hold gauges, read from the scheduler's live state when Prometheus scrapes: a hold lives in
 * the delivery loop (the journal keeps only a Retry-After's end, not the breaker's), so the journal
 * cannot answer them.
 */
import { Gauge, type Registry } from 'prom-client';
import { type DestinationState, HOLD_REASONS } from '../delivery/types.js';

/** The hold gauges of one registry, reading nothing until bound to a scheduler. */
export interface HoldGauges {
  bind(state: (destination: string) => DestinationState | undefined, names: string[]): void;
}

/** Registers the hold gauges on `registry`. */
export function registerHoldGauges(registry: Registry): HoldGauges {
  let live: { state: (destination: string) => DestinationState | undefined; names: string[] } | undefined;
  new Gauge({
    name: 'sluice_destination_held',
    help: "1 while nothing is sent to the destination because of a hold, by reason: retry_after (the consumer's 429/503 Retry-After) or unreachable (attempts got no answer; probed one at a time after the hold).",
    labelNames: ['destination', 'reason'] as const,
    registers: [registry],
    collect() {
      for (const destination of live?.names ?? []) {
        const state = live!.state(destination);
        for (const reason of HOLD_REASONS) this.set({ destination, reason }, state?.heldBy === reason ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'sluice_destination_held_until_seconds',
    help: 'Unix time (seconds) at which the hold of the destination ends; 0 when not held.',
    labelNames: ['destination'] as const,
    registers: [registry],
    collect() {
      for (const destination of live?.names ?? []) {
        const until = live!.state(destination)?.heldUntil;
        this.set({ destination }, until === undefined ? 0 : until / 1000);
      }
    },
  });
  return {
    bind(state, names) {
      live = { state, names };
    },
  };
}
