/**
 * What this node tells the others sharing its journal (`Journal.recordNode`), and what `GET /nodes`
 * shows of it: built from the delivery loops' live state, never stale for this node itself.
 */
import { hostname } from 'node:os';
import type { Metrics } from '../admin/metrics.js';
import type { Scheduler } from '../delivery/scheduler.js';
import type { NodeDraining, NodeReport } from '../journal/port.js';
import { packageVersion } from '../version.js';

/** Builds this node's report on demand; `listening` sets the URLs once the listeners are bound. */
export interface NodeReporter {
  report(now: number): NodeReport;
  listening(listeners: NodeReport['listeners']): void;
}

export function createNodeReporter(options: {
  scheduler: Scheduler;
  metrics: Metrics;
  destinations: readonly string[];
  startedAt: number;
}): NodeReporter {
  const { scheduler, metrics, destinations, startedAt } = options;
  let listeners: NodeReport['listeners'] = {};
  const host = hostname();
  return {
    report(now) {
      const draining: Record<string, NodeDraining> = {};
      for (const name of destinations) {
        const state = scheduler.state(name);
        if (!state) continue;
        draining[name] = {
          sending: state.inFlight,
          claimed: state.claimedAhead,
          // The pace since its first delivery of the last minute: right after a start, a minute's average understates it.
          deliveredPerSecond: round(metrics.sendingRate(name, now) ?? 0),
          rate: state.rate === undefined ? undefined : round(state.rate),
          concurrency: state.concurrency,
        };
      }
      return { host, pid: process.pid, version: packageVersion().version, listeners, startedAt, draining };
    },
    listening(bound) {
      listeners = bound;
    },
  };
}

/** Three significant digits: a rate of 1/h stays readable, 12.345/s needs no more. */
function round(n: number): number {
  return Number(n.toPrecision(3));
}
