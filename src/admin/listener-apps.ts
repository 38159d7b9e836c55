/**
 * What the admin listener serves: the admin API and, at /ui, the dashboard, both behind the admin
 * token; neither when `admin.enabled` is false.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { NodeReporter } from '../cluster/node-report.js';
import type { Config } from '../config/schema.js';
import { createDashboard, type Dashboard } from '../dashboard/dashboard.js';
import type { Scheduler } from '../delivery/scheduler.js';
import type { GatewayEvents } from '../events.js';
import type { Journal } from '../journal/port.js';
import type { Logger } from '../log.js';
import { createAdminApp } from './app.js';
import type { ReadinessCheck } from './health.js';
import type { Metrics } from './metrics.js';
import { listenerHostNames } from './request-guard.js';
import { adminTokenPath, ensureAdminToken } from './token.js';

export function createAdminListenerApps(o: {
  config: Config;
  events: GatewayEvents;
  journal: Journal;
  scheduler: Scheduler;
  metrics: Metrics;
  reporter: NodeReporter;
  isReady: ReadinessCheck;
  logger: Logger;
  clock?: () => number;
  /** The dashboard's history interval (tests shorten it). */
  historyIntervalMs?: number;
}): { admin: OpenAPIHono | undefined; dashboard: Dashboard | undefined } {
  const { config } = o;
  if (!config.admin.enabled) return { admin: undefined, dashboard: undefined };
  // Never open: without a configured token, the one made at first start beside storage.path.
  const token = config.admin.token ?? ensureAdminToken(adminTokenPath(config.storage.path)).token;
  let admin: OpenAPIHono | undefined;
  const dashboard = createDashboard({
    config,
    events: o.events,
    journal: o.journal,
    scheduler: o.scheduler,
    metrics: o.metrics,
    reporter: o.reporter,
    token,
    // The event list and detail go through the API itself: its filters, validation and redaction.
    api: async (path) => admin!.request(path, { headers: { authorization: `Bearer ${token}` } }),
    ...(o.clock && { clock: o.clock }),
    ...(o.historyIntervalMs && { history: { intervalMs: o.historyIntervalMs } }),
  });
  admin = createAdminApp({
    journal: o.journal,
    scheduler: o.scheduler,
    destinations: config.destinations,
    token,
    dashboard: dashboard.app,
    allowedHosts: listenerHostNames(config.admin.host, config.admin.allowed_hosts),
    metrics: o.metrics,
    reporter: o.reporter,
    isReady: o.isReady,
    logger: o.logger,
    events: o.events,
    ...(o.clock && { clock: o.clock }),
  });
  return { admin, dashboard };
}
