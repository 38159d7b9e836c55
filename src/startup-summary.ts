/**
 * What a starting gateway tells its operator: where each listener is and which config key moves it,
 * where the journal and the admin token are, each route, and each destination's backlog, with a
 * warning for a destination that sends nothing (paused by an operator, or held by a consumer's
 * Retry-After or by a consumer that stopped answering), since both outlive a restart and are easy
 * to forget.
 */

import { adminTokenPath } from './admin/token.js';
import { type Config, isLoopback } from './config/schema.js';
import { formatRate } from './config/units.js';
import type { Scheduler } from './delivery/scheduler.js';
import { redactStorageUrl } from './journal/pg/url.js';
import type { Journal } from './journal/port.js';
import type { Logger } from './log.js';

export interface StartupFacts {
  config: Config;
  /** Ingest listener, e.g. http://127.0.0.1:8080. */
  url: string;
  port: number;
  adminUrl: string | undefined;
  journal: Journal;
  scheduler: Scheduler;
  logger: Logger;
  clock?: () => number;
}

/** Logs the summary; a journal that cannot be read now only leaves the backlog out. */
export async function logStartupSummary(f: StartupFacts): Promise<void> {
  const { config, logger } = f;
  const now = (f.clock ?? Date.now)();
  logger.info(
    { host: config.server.host, port: f.port, url: f.url },
    `listening on ${config.server.host}:${f.port} for webhooks (${f.url}; server.host, server.port)`,
  );
  if (f.adminUrl) {
    const token = config.admin.token ? undefined : adminTokenPath(config.storage.path);
    logger.info(
      { url: f.adminUrl, token: token ?? 'admin.token' },
      `admin API on ${f.adminUrl} (admin.host, admin.port); token ${token ? `in ${token}` : 'from admin.token in the config'}`,
    );
    if (!isLoopback(config.admin.host)) {
      // The admin token crosses the network in plain HTTP, and the dashboard's sign-in cookie cannot be
      // Secure on a plain-HTTP listener (a browser would never send it back).
      logger.warn(
        { host: config.admin.host },
        `admin API listens on ${config.admin.host}, beyond this machine, over plain HTTP: the token and the ` +
          "dashboard's sign-in cookie cross the network in clear; put a TLS proxy in front (or use 127.0.0.1)",
      );
    }
  } else {
    logger.info('admin API off (admin.enabled: false)');
  }
  if (config.storage.url !== undefined) {
    const url = redactStorageUrl(config.storage.url);
    logger.info({ journal: url }, `journal ${url} (PostgreSQL, shared with the other nodes on it; storage.url)`);
  } else logger.info({ journal: config.storage.path }, `journal ${config.storage.path}`);
  for (const [name, source] of Object.entries(config.sources)) {
    logger.info(
      { source: name, methods: source.methods, path: source.path, to: source.to },
      `route ${source.methods.join(',')} ${source.path} → ${source.to.join(', ')}`,
    );
  }
  for (const [name, destination] of Object.entries(config.destinations)) {
    const pace = `${destination.rate === undefined ? 'no rate limit' : formatRate(destination.rate)}, concurrency ${destination.concurrency}`;
    const stats = await f.journal.destinationStats(name, now).catch(() => undefined);
    const backlog = stats
      ? `: ${stats.pending + stats.inFlight} pending, ${stats.retrying} retrying, ${stats.dead} dead`
      : '';
    logger.info(
      {
        destination: name,
        url: withoutSecrets(destination.url),
        ...(stats && { pending: stats.pending + stats.inFlight, retrying: stats.retrying, dead: stats.dead }),
      },
      `destination ${name} → ${withoutSecrets(destination.url)} (${pace})${backlog}`,
    );
    const state = f.scheduler.state(name);
    if (state?.paused) {
      logger.warn(
        { destination: name, paused: true },
        `destination ${name} is paused: nothing is sent to it until \`sluice resume ${name}\``,
      );
    } else if (state?.heldUntil !== undefined) {
      const why =
        state.heldBy === 'unreachable' ? 'its consumer stopped answering' : "its consumer's Retry-After asked to wait";
      const until = new Date(state.heldUntil).toISOString();
      logger.warn(
        { destination: name, heldUntil: until, heldBy: state.heldBy },
        `destination ${name} is held until ${until} (${why}): \`sluice resume ${name}\` sends now`,
      );
    }
  }
}

/** The URL without user, password or query, any of which may hold a credential. */
function withoutSecrets(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
}
