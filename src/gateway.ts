/**
 * The gateway: journal + ingest listener + scheduler + retention, started and stopped together.
 * This module is where the parts are wired: `createGateway` builds them all, around one event bus,
 * without listening; `startGateway` builds them and listens.
 *
 * Start-up order: open (and migrate) the journal, start delivering what it already holds, then
 * listen (public ingest listener, then the admin listener). Shutdown order: refuse new requests
 * (503), stop listening, stop claiming and let in-flight deliveries finish within the grace
 * period, stop retention, close the journal.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createAdminApp } from './admin/app.js';
import { healthRoutes, type ReadinessCheck } from './admin/health.js';
import { createMetrics, type Metrics, type MetricsOptions } from './admin/metrics.js';
import { listenerHostNames } from './admin/request-guard.js';
import { adminTokenPath, ensureAdminToken } from './admin/token.js';
import { listenUrl } from './config/listen-url.js';
import type { Config } from './config/schema.js';
import { createDeliveryClient } from './delivery/http-client.js';
import { type Scheduler, type SchedulerOptions, startScheduler } from './delivery/scheduler.js';
import { createGatewayEvents, type GatewayEvents } from './events.js';
import { createIngestApp } from './ingest/app.js';
import { openJournal } from './journal/open.js';
import type { Journal } from './journal/port.js';
import { runRetention } from './journal/retention.js';
import { type Logger, logGatewayEvents } from './log.js';
import { createResigner } from './senders/resign.js';

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
  /** The public app: /healthz and /readyz, then the sources. */
  ingest: ReturnType<typeof createIngestApp>;
  /** The admin app; undefined when `admin.enabled` is false. */
  admin: OpenAPIHono | undefined;
  /**
   * Refuses new requests (503, and not ready), stops claiming and lets in-flight deliveries
   * finish within `graceMs` (default `server.shutdown_grace`), stops retention. Only the first
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
  logGatewayEvents(events, logger);
  // The writer's queue needs no bound of its own: each waiting append is a request on an open
  // connection (server.max_connections), holding its body within server.max_inflight_body until
  // the journal answers.
  const journal = options.journal ?? openJournal(config.storage, { events });
  metrics.bindJournal(journal, config.destinations, options.clock);
  const stopRetention = new AbortController();
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
    // Each attempt re-signs events of `resign: true` sources with the current time (and adds the
    // destination's own `sign:` signature); the real clock, since it is the consumer's clock that judges.
    createClient:
      options.createClient ??
      ((destination) => createDeliveryClient(destination, { sign: createResigner(config.sources) })),
  });
  events.on('ingest:accepted', ({ destinations }) => scheduler.notify(destinations));
  const retention = runRetention({
    journal,
    retention: config.retention,
    logger,
    events,
    signal: stopRetention.signal,
    ...(options.clock && { clock: options.clock }),
  });

  // Ready: not shutting down, the caller's condition holds, and the journal takes a write (migrations ran on open).
  const isReady = async () =>
    accepting &&
    (await (options.isReady?.() ?? true)) &&
    (await journal.probe().then(
      () => true,
      () => false,
    ));
  const ingest = createIngestApp({
    sources: config.sources,
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
  const admin = config.admin.enabled
    ? createAdminApp({
        journal,
        scheduler,
        destinations: config.destinations,
        // Never open: without a configured token, the one made at first start beside the journal.
        token: config.admin.token ?? ensureAdminToken(adminTokenPath(config.storage.path)).token,
        allowedHosts: listenerHostNames(config.admin.host, config.admin.allowed_hosts),
        metrics,
        isReady,
        logger,
        ...(options.clock && { clock: options.clock }),
      })
    : undefined;

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = config.server.shutdown_grace) =>
    (stopping ??= (async () => {
      accepting = false;
      await scheduler.stop(graceMs);
      stopRetention.abort();
      await retention;
    })());
  let closing: Promise<void> | undefined;
  const close = (graceMs?: number) =>
    (closing ??= (async () => {
      await stop(graceMs);
      await journal.close();
    })());

  return { events, journal, metrics, scheduler, ingest, admin, stop, close };
}

/** Starts the gateway; resolves once the ingest listener is bound. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, logger } = options;
  let listening = false;
  const parts = await createGateway({ ...options, isReady: () => listening });
  const { events, journal, scheduler, metrics } = parts;

  const server = createAdaptorServer({
    fetch: parts.ingest.fetch,
    // Slow or stalled senders are cut off; Node checks these timeouts every connectionsCheckingInterval.
    serverOptions: {
      headersTimeout: config.server.headers_timeout,
      requestTimeout: config.server.request_timeout,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(config.server.headers_timeout / 4))),
    },
  }) as Server;
  // Past it Node drops new connections at once: each open one holds buffers, whatever it sends.
  server.maxConnections = config.server.max_connections;
  const adminServer = parts.admin ? (createAdaptorServer({ fetch: parts.admin.fetch }) as Server) : undefined;

  try {
    await listen(server, config.server.port, config.server.host);
    if (adminServer) await listen(adminServer, config.admin.port, config.admin.host);
  } catch (error) {
    server.close();
    await parts.close(0);
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
      { url: adminUrl, token: config.admin.token ? 'admin.token' : adminTokenPath(config.storage.path) },
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
      // Refuses new requests at once; in-flight deliveries get the grace period.
      const stopped = parts.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const adminClosed = new Promise<void>((resolve) =>
        adminServer ? adminServer.close(() => resolve()) : resolve(),
      );
      adminServer?.closeAllConnections();
      await stopped;
      // Connections still open past the grace period are cut; their senders retry.
      server.closeAllConnections();
      await Promise.all([closed, adminClosed]);
      await parts.close();
      logger.info('stopped');
    })());

  return { url, port, adminUrl, events, journal, scheduler, metrics, close };
}

/** A URL a client on this machine can use for a listener bound to `host`. */
function baseUrl(host: string, port: number): string {
  return listenUrl(host, port);
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
