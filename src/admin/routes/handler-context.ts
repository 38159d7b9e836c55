/**
 * What the admin API's handlers share: the gateway parts they act on, the JSON error answer every
 * route gives (`{"error": {"code", "message"}}`) and times as the API writes them.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { NodeReporter } from '../../cluster/node-report.js';
import type { Config } from '../../config/schema.js';
import type { Scheduler } from '../../delivery/scheduler.js';
import type { AdminActionEvent } from '../../events.js';
import type { Journal } from '../../journal/port.js';
import type { Metrics } from '../metrics.js';

/** The gateway parts the handlers act on. */
export interface HandlerContext {
  journal: Journal;
  scheduler: Scheduler;
  destinations: Config['destinations'];
  metrics: Metrics;
  /** This node's live report (GET /nodes, and the cluster's figures in GET /destinations). */
  reporter: NodeReporter;
  clock: () => number;
  /** Tells an operator action to the audit log (`admin:action`). */
  audit: (action: AdminActionEvent['action'], target: string, count?: number) => void;
}

export function error<S extends ContentfulStatusCode>(c: Context, status: S, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

export function unknownDestination(c: Context, name: string) {
  return error(c, 404, 'not_found', `no destination "${name}" in the config`);
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
