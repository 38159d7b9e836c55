/**
 * The gateway: journal + ingest listener + scheduler + retention, started and stopped together.
 *
 * Start-up order: open (and migrate) the journal, start delivering what it already holds, then
 * listen (public ingest listener, then the admin listener). Shutdown order: refuse new requests
 * (503), stop listening, stop claiming and let in-flight deliveries finish within the grace
 * period, stop retention, close the journal.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { createAdminApp, healthRoutes } from './admin/app.js';
import { createMetrics, type Metrics } from './admin/metrics.js';
import type { Config } from './config/schema.js';
import { createDeliveryClient } from './delivery/http-client.js';
import { type Scheduler, type SchedulerOptions, startScheduler } from './delivery/scheduler.js';
import { createIngestApp } from './ingest/app.js';
import type { Journal } from './journal/port.js';
import { runRetention } from './journal/retention.js';
import { openSqliteJournal } from './journal/sqlite/journal.js';
import type { Logger } from './log.js';
import { createResigner } from './senders/resign.js';

/** What a running gateway exposes. */
export interface Gateway {
  /** Base URL of the ingest listener, e.g. http://127.0.0.1:8080. */
  url: string;
  port: number;
  /** Base URL of the admin listener, when enabled. */
  adminUrl: string | undefined;
  journal: Journal;
  scheduler: Scheduler;
  metrics: Metrics;
  /** Graceful shutdown (see the module comment); safe to call more than once. */
  close(): Promise<void>;
}

/** Everything the gateway needs, injected. */
export interface GatewayOptions {
  config: Config;
  logger: Logger;
  /** Defaults to the SQLite journal at `config.storage.path`. */
  journal?: Journal;
  clock?: () => number;
  random?: () => number;
  createClient?: SchedulerOptions['createClient'];
}

/** Starts the gateway; resolves once the ingest listener is bound. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, logger } = options;
  const metrics = createMetrics({ sources: Object.keys(config.sources), destinations: config.destinations });
  const journal =
    options.journal ??
    openSqliteJournal({
      path: config.storage.path,
      maxSize: config.storage.max_size,
      reserve: config.storage.reserve,
      onCommit: (size, ms) => metrics.commit(size, ms),
    });
  metrics.bindJournal(journal, config.destinations, options.clock);
  const stopRetention = new AbortController();
  let accepting = true;
  let listening = false;

  // Pauses and Retry-After holds outlive restarts: a paused or held destination must not send on start-up.
  const paused = (await journal.pausedDestinations()).filter((name) => name in config.destinations);
  const held = await journal.heldDestinations((options.clock ?? Date.now)());
  const scheduler = startScheduler({
    destinations: config.destinations,
    journal,
    paused,
    held,
    logger,
    onAttempt: (attempt) => metrics.attempt(attempt),
    ...(options.clock && { clock: options.clock }),
    ...(options.random && { random: options.random }),
    // Each attempt re-signs events of `resign: true` sources with the current time (and adds the
    // destination's own `sign:` signature); the real clock, since it is the consumer's clock that judges.
    createClient:
      options.createClient ??
      ((destination) => createDeliveryClient(destination, { sign: createResigner(config.sources) })),
  });
  const retention = runRetention({
    journal,
    retention: config.retention,
    logger,
    signal: stopRetention.signal,
    ...(options.clock && { clock: options.clock }),
  });

  // Ready: listeners bound, not shutting down, and the journal takes a write (migrations ran on open).
  const isReady = async () =>
    listening &&
    accepting &&
    (await journal.probe().then(
      () => true,
      () => false,
    ));
  const app = createIngestApp({
    sources: config.sources,
    maxBody: config.server.max_body,
    journal,
    logger,
    onAccepted: (_event, destinations) => scheduler.notify(destinations),
    onReceived: (source, outcome) => metrics.received(source, outcome),
    before: healthRoutes(() => isReady()),
    isAccepting: () => accepting,
    trustProxy: config.server.trust_proxy,
    ...(options.clock && { clock: options.clock }),
  });
  const server = createAdaptorServer({
    fetch: app.fetch,
    // Slow or stalled senders are cut off; Node checks these timeouts every connectionsCheckingInterval.
    serverOptions: {
      headersTimeout: config.server.headers_timeout,
      requestTimeout: config.server.request_timeout,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(config.server.headers_timeout / 4))),
    },
  }) as Server;

  const adminServer = config.admin.enabled
    ? (createAdaptorServer({
        fetch: createAdminApp({
          journal,
          scheduler,
          destinations: config.destinations,
          token: config.admin.token,
          metrics,
          isReady,
          logger,
          ...(options.clock && { clock: options.clock }),
        }).fetch,
      }) as Server)
    : undefined;

  try {
    await listen(server, config.server.port, config.server.host);
    if (adminServer) await listen(adminServer, config.admin.port, config.admin.host);
  } catch (error) {
    server.close();
    stopRetention.abort();
    await scheduler.stop(0);
    await retention;
    await journal.close();
    throw error;
  }
  listening = true;
  const { port } = server.address() as AddressInfo;
  const url = baseUrl(config.server.host, port);
  const adminUrl = adminServer ? baseUrl(config.admin.host, (adminServer.address() as AddressInfo).port) : undefined;
  logger.info(
    { host: config.server.host, port, journal: config.storage.path },
    `listening on ${config.server.host}:${port}`,
  );
  if (adminUrl)
    logger.info(
      { url: adminUrl, token: config.admin.token ? 'required' : 'none (loopback only)' },
      `admin API on ${adminUrl}`,
    );
  for (const [name, source] of Object.entries(config.sources)) {
    logger.info(
      { source: name, methods: source.methods, path: source.path, to: source.to },
      `route ${source.methods.join(',')} ${source.path} → ${source.to.join(', ')}`,
    );
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info('shutting down: refusing new events, finishing in-flight deliveries');
      accepting = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const adminClosed = new Promise<void>((resolve) =>
        adminServer ? adminServer.close(() => resolve()) : resolve(),
      );
      adminServer?.closeAllConnections();
      await scheduler.stop(config.server.shutdown_grace);
      stopRetention.abort();
      await retention;
      // Connections still open past the grace period are cut; their senders retry.
      server.closeAllConnections();
      await Promise.all([closed, adminClosed]);
      await journal.close();
      logger.info('stopped');
    })());

  return { url, port, adminUrl, journal, scheduler, metrics, close };
}

/** A URL a client on this machine can use for a listener bound to `host`. */
function baseUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
