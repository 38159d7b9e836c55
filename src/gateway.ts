/**
 * The gateway: journal + scheduler + retention + node heartbeat (a journal shared by several nodes
 * only) + ingest and admin listeners, started and stopped together. This module is where the parts
 * are wired: `createGateway` builds them all, around one event bus, without listening; `startGateway`
 * builds them and listens.
 *
 * Start-up order: open (and migrate) the journal, start delivering what it already holds, start
 * retention and the heartbeat, then listen (public ingest listener, then the admin listener).
 * Shutdown order (`close`): refuse new events (503 with Retry-After, still listening, the admin API
 * still answering), stop the dashboard's sampling and live streams, stop claiming and let in-flight
 * deliveries finish within the grace period, stop retention and the heartbeat (all `parts.stop()`);
 * then stop listening, cutting connections still open, and close the journal (`parts.close()`).
 */

import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { logAdminActions } from './admin/audit-log.js';
import { healthRoutes, type ReadinessCheck } from './admin/health.js';
import { createAdminListenerApps } from './admin/listener-apps.js';
import { createMetrics, type Metrics, type MetricsOptions } from './admin/metrics.js';
import { followOtherNodes } from './cluster/follow-nodes.js';
import { runNodeHeartbeat } from './cluster/heartbeat.js';
import { createNodeReporter, type NodeReporter } from './cluster/node-report.js';
import { listenUrl } from './config/listen-url.js';
import type { Config } from './config/schema.js';
import { formatDuration } from './config/units.js';
import { createDeliveryClient } from './delivery/http-client.js';
import { sharedPacerFactory } from './delivery/pacing/shared-pacer.js';
import { type Scheduler, type SchedulerOptions, startScheduler } from './delivery/scheduler.js';
import { createGatewayEvents, type GatewayEvents } from './events.js';
import { createIngest, type Ingest } from './ingest/app.js';
import { openJournal } from './journal/open.js';
import type { Journal } from './journal/port.js';
import { runRetention } from './journal/retention.js';
import { listen } from './listen.js';
import { type Logger, logGatewayEvents } from './log.js';
import { createResigner } from './senders/resign.js';
import { logStartupSummary } from './startup-summary.js';

/** What a running gateway exposes. */
export interface Gateway {
  /** Base URL of the ingest listener, e.g. http://127.0.0.1:8080. */
  url: string;
  port: number;
  /** Base URL of the admin listener, when enabled. */
  adminUrl: string | undefined;
  events: GatewayEvents;
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
  /** Dashboard settings: the time between chart samples (default 10 s; the screenshot script shortens it). */
  dashboard?: { historyIntervalMs?: number };
}

/** What `createGateway` takes beyond the gateway's options. */
export interface GatewayPartsOptions extends GatewayOptions {
  /**
   * A further condition of readiness, on top of "not shutting down, and the journal takes a write"
   * (`startGateway`: the listeners are bound).
   */
  isReady?: ReadinessCheck;
  /** Metrics settings beyond the configured sources and destinations. */
  metrics?: Pick<MetricsOptions, 'defaultMetrics' | 'statsTtlMs'>;
}

/** Every part of a gateway, wired and running (delivery, retention), but not listening. */
export interface GatewayParts {
  events: GatewayEvents;
  journal: Journal;
  metrics: Metrics;
  scheduler: Scheduler;
  /** What this node is doing (GET /nodes; written to a shared journal every second). */
  reporter: NodeReporter;
  /** The public app: /healthz and /readyz, then the sources. */
  ingest: Ingest['app'];
  /** The public listener's request handler: the sources' paths straight, the rest through `ingest`. */
  ingestListener: RequestListener;
  /** The admin app; undefined when `admin.enabled` is false. */
  admin: OpenAPIHono | undefined;
  /**
   * Refuses new requests (503, and not ready), stops claiming and lets in-flight deliveries
   * finish within `graceMs` (default `server.shutdown_grace`), stops retention and the node report. Only the first
   * call's `graceMs` counts.
   */
  stop(graceMs?: number): Promise<void>;
  /** `stop`, then closes the journal. Safe to call more than once. */
  close(graceMs?: number): Promise<void>;
}

/** Opens the journal and builds every part around one event bus; delivery and retention start. */
export async function createGateway(options: GatewayPartsOptions): Promise<GatewayParts> {
  const { config, logger } = options;
  const events = createGatewayEvents();
  const metrics = createMetrics({
    sources: Object.keys(config.sources),
    destinations: config.destinations,
    ...options.metrics,
  });
  metrics.subscribe(events);
  logAdminActions(events, logger);
  logGatewayEvents(events, logger);
  // The writer's queue needs no bound of its own: each waiting append is a request on an open
  // connection (server.max_connections), holding its body within server.max_inflight_body until
  // the journal answers.
  const journal = options.journal ?? (await openJournal(config.storage, { events, destinations: config.destinations }));
  metrics.bindJournal(journal, config.destinations, options.clock);
  const stopHousekeeping = new AbortController();
  let accepting = true;

  // Pauses and Retry-After holds outlive restarts: a paused or held destination must not send on start-up
  // (a hold no longer than `retry.max_hold` from now: the delivery loop cuts one stored by an older version).
  const paused = (await journal.pausedDestinations()).filter((name) => name in config.destinations);
  const held = await journal.heldDestinations((options.clock ?? Date.now)());
  // So is an adaptive destination's learned pace: a restart does not burst into a consumer that still struggles.
  const paces = await journal.destinationPaces();
  const scheduler = startScheduler({
    destinations: config.destinations,
    journal,
    paused,
    held,
    paces,
    logger,
    events,
    ...(options.clock && { clock: options.clock }),
    ...(options.random && { random: options.random }),
    // A journal shared by several nodes holds each destination's token bucket: the pace is the cluster's.
    ...(journal.reserveSendTokens && {
      createPacer: sharedPacerFactory(
        journal.reserveSendTokens.bind(journal),
        undefined,
        options.clock,
        (error, name) =>
          logger.warn({ err: error, destination: name }, 'could not reserve send tokens; retrying shortly'),
      ),
    }),
    // Each attempt re-signs events of `resign: true` sources with the current time (and adds the
    // destination's own `sign:` signature); the real clock, since it is the consumer's clock that judges.
    createClient:
      options.createClient ??
      ((destination) => createDeliveryClient(destination, { sign: createResigner(config.sources) })),
  });
  metrics.bindScheduler((name) => scheduler.state(name), config.destinations);
  events.on('ingest:accepted', ({ destinations }) => scheduler.notifySoon(destinations));
  if (journal.capabilities.crossProcessWakeups)
    followOtherNodes(journal, scheduler, events, logger, config, options.clock);
  const retention = runRetention({
    journal,
    retention: config.retention,
    logger,
    events,
    signal: stopHousekeeping.signal,
    ...(options.clock && { clock: options.clock }),
  });

  // What this node is doing, for GET /nodes; with a shared journal, written there every second too.
  const reporter = createNodeReporter({
    scheduler,
    metrics,
    destinations: Object.keys(config.destinations),
    startedAt: (options.clock ?? Date.now)(),
  });
  const heartbeat = journal.recordNode
    ? runNodeHeartbeat({
        record: journal.recordNode.bind(journal),
        reporter,
        logger,
        signal: stopHousekeeping.signal,
        ...(options.clock && { clock: options.clock }),
      })
    : undefined;

  // Ready: not shutting down, the caller's condition holds, and the journal takes a write (migrations ran on open).
  const isReady = async () =>
    accepting &&
    (await (options.isReady?.() ?? true)) &&
    (await journal.probe().then(
      () => true,
      () => false,
    ));
  const { app: ingest, listener: ingestListener } = createIngest({
    sources: config.sources,
    destinations: config.destinations,
    maxBody: config.server.max_body,
    journal,
    logger,
    events,
    before: healthRoutes(isReady),
    isAccepting: () => accepting,
    trustProxy: config.server.trust_proxy,
    trustedProxies: config.server.trusted_proxies,
    maxInflightBody: config.server.max_inflight_body,
    ...(options.clock && { clock: options.clock }),
  });
  const { admin, dashboard } = createAdminListenerApps({
    config,
    events,
    journal,
    scheduler,
    metrics,
    reporter,
    isReady,
    logger,
    ...(options.clock && { clock: options.clock }),
    ...(options.dashboard?.historyIntervalMs && { historyIntervalMs: options.dashboard.historyIntervalMs }),
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = config.server.shutdown_grace) =>
    (stopping ??= (async () => {
      accepting = false;
      await dashboard?.stop();
      await scheduler.stop(graceMs);
      stopHousekeeping.abort();
      await retention;
      await heartbeat;
    })());
  let closing: Promise<void> | undefined;
  const close = (graceMs?: number) =>
    (closing ??= (async () => {
      await stop(graceMs);
      await journal.close();
    })());

  return { events, journal, metrics, scheduler, reporter, ingest, ingestListener, admin, stop, close };
}

/** Starts the gateway; resolves once the ingest listener is bound. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, logger } = options;
  let listening = false;
  const parts = await createGateway({ ...options, isReady: () => listening });
  const { events, journal, scheduler, metrics } = parts;

  const server = createServer(
    // Slow or stalled senders are cut off; Node checks these timeouts every connectionsCheckingInterval.
    {
      headersTimeout: config.server.headers_timeout,
      requestTimeout: config.server.request_timeout,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(config.server.headers_timeout / 4))),
    },
    parts.ingestListener,
  );
  // Past it Node drops new connections at once: each open one holds buffers, whatever it sends.
  server.maxConnections = config.server.max_connections;
  const adminServer = parts.admin ? (createAdaptorServer({ fetch: parts.admin.fetch }) as Server) : undefined;

  try {
    await listen(server, config.server.port, config.server.host, 'server');
    if (adminServer) await listen(adminServer, config.admin.port, config.admin.host, 'admin');
  } catch (error) {
    server.close();
    await parts.close(0);
    throw error;
  }
  listening = true;
  const { port } = server.address() as AddressInfo;
  const url = listenUrl(config.server.host, port);
  const adminUrl = adminServer ? listenUrl(config.admin.host, (adminServer.address() as AddressInfo).port) : undefined;
  parts.reporter.listening({ ingest: url, admin: adminUrl });
  await logStartupSummary({
    config,
    url,
    port,
    adminUrl,
    journal,
    scheduler,
    logger,
    ...(options.clock && { clock: options.clock }),
  });
  if (adminUrl) logger.info({ url: `${adminUrl}/ui` }, `dashboard on ${adminUrl}/ui (sign in with the admin token)`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const inFlight = Object.keys(config.destinations).reduce((n, d) => n + (scheduler.state(d)?.inFlight ?? 0), 0);
      logger.info(
        { inFlight, graceMs: config.server.shutdown_grace },
        `shutting down: new events get 503, waiting up to ${formatDuration(config.server.shutdown_grace)} for ${inFlight} in-flight ${inFlight === 1 ? 'delivery' : 'deliveries'}`,
      );
      // Both listeners stay open while in-flight deliveries finish: a sender gets 503 with Retry-After
      // (not a refused connection, which some senders count as a failure), /readyz says not ready, and
      // the admin API answers, so `sluice status` can watch the drain.
      await parts.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const adminClosed = new Promise<void>((resolve) =>
        adminServer ? adminServer.close(() => resolve()) : resolve(),
      );
      // Connections still open are cut; their senders retry.
      server.closeAllConnections();
      adminServer?.closeAllConnections();
      await Promise.all([closed, adminClosed]);
      await parts.close();
      logger.info('stopped');
    })());

  return { url, port, adminUrl, events, journal, scheduler, metrics, close };
}
