/**
 * The dashboard, composed: its history and activity subscribe to the gateway's event bus, a
 * sampler reads each destination's backlog every 10 s, and the routes (app.tsx) are mounted at
 * /ui by the admin app. `stop` (the gateway's shutdown) ends the sampler, the live streams and the
 * subscriptions.
 */
import type { Hono } from 'hono';
import type { Metrics } from '../admin/metrics.js';
import type { NodeReporter } from '../cluster/node-report.js';
import type { Config } from '../config/schema.js';
import type { Scheduler } from '../delivery/scheduler.js';
import type { GatewayEvents } from '../events.js';
import type { Journal } from '../journal/port.js';
import { createActions } from './actions.js';
import { createActivity, createReplayTracker } from './activity.js';
import { createDashboardApp } from './app.js';
import { createAssets } from './assets.js';
import { createHistory, type History, runHistorySampler } from './history.js';
import { createLiveView } from './live.js';
import { createSignInLimit } from './sign-in-limit.js';
import { createSignIns } from './sign-ins.js';

export interface DashboardOptions {
  config: Pick<Config, 'sources' | 'destinations'>;
  events: GatewayEvents;
  journal: Journal;
  scheduler: Scheduler;
  metrics: Metrics;
  /** This node's live report, the one the admin API's GET /nodes shows. */
  reporter: NodeReporter;
  token: string;
  /** A GET on the admin API with the token; called only after the admin app exists. */
  api: (pathAndQuery: string) => Promise<Response>;
  clock?: () => number;
  /** History settings (tests shorten the interval). */
  history?: { intervalMs?: number };
  liveIntervalMs?: number;
}

export interface Dashboard {
  app: Hono;
  history: History;
  stop(): Promise<void>;
}

export function createDashboard(options: DashboardOptions): Dashboard {
  const clock = options.clock ?? Date.now;
  const names = Object.keys(options.config.destinations);
  const { events, journal, scheduler } = options;
  const history = createHistory({ destinations: names, clock, ...options.history });
  const activity = createActivity();
  const replays = createReplayTracker();
  const unsubscribe = [history.subscribe(events), activity.subscribe(events)];
  const stopping = new AbortController();
  const sampler = runHistorySampler({
    history,
    destinations: names,
    signal: stopping.signal,
    clock,
    backlogOf: async (name, now) => {
      const s = await journal.destinationStats(name, now);
      return s.pending + s.retrying + s.inFlight;
    },
  });
  const live = createLiveView({
    journal,
    scheduler,
    destinations: options.config.destinations,
    metrics: options.metrics,
    reporter: options.reporter,
    history,
    activity,
    replays,
    clock,
  });
  const invalidateLive = () => live.invalidate();
  events.on('admin:action', invalidateLive);
  unsubscribe.push(() => events.off('admin:action', invalidateLive));
  const app = createDashboardApp({
    token: options.token,
    signIns: createSignIns({ clock }),
    signInLimit: createSignInLimit({ clock }),
    assets: createAssets(),
    actions: createActions({ journal, scheduler, events, replays, clock }),
    history,
    live,
    config: options.config,
    api: options.api,
    signal: stopping.signal,
    ...(options.liveIntervalMs !== undefined && { liveIntervalMs: options.liveIntervalMs }),
  });
  return {
    app,
    history,
    async stop() {
      stopping.abort();
      for (const off of unsubscribe) off();
      await sampler;
    },
  };
}
