/** An ingest app over a real SQLite journal in a temp dir, for `app.request()` route tests. */

import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { type Config, configSchema } from '../../src/config/schema.js';
import { createGatewayEvents } from '../../src/events.js';
import { createIngest, type IngestOptions } from '../../src/ingest/app.js';
import { openSqliteJournal, type SqliteJournal } from '../../src/journal/sqlite/journal.js';
import { type Logger, silentLogger } from '../../src/log.js';
import { tempDir } from './gateway.js';

export interface IngestFixtureOptions {
  sources?: Record<string, unknown>;
  /** Extra `server:` keys (e.g. trust_proxy), validated by the real schema. */
  server?: Record<string, unknown>;
  maxBody?: string;
  maxSize?: number;
  accepting?: () => boolean;
  clock?: () => number;
  logger?: Logger;
}

export function ingestFixture(options: IngestFixtureOptions = {}) {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'sluice.db');
  const config: Config = configSchema.parse({
    server: { max_body: options.maxBody ?? '1mb', ...options.server },
    destinations: { crm: { url: 'http://127.0.0.1:9/' }, erp: { url: 'http://127.0.0.1:9/' } },
    sources: options.sources ?? { shop: { path: '/in/shop', to: 'crm' } },
  });
  const journal: SqliteJournal = openSqliteJournal({ path: dbPath, maxSize: options.maxSize });
  const accepted: string[] = [];
  const events = createGatewayEvents();
  events.on('ingest:accepted', ({ event }) => accepted.push(event.id));
  const ingestOptions: IngestOptions = {
    sources: config.sources,
    maxBody: config.server.max_body,
    journal,
    logger: options.logger ?? silentLogger(),
    events,
    trustProxy: config.server.trust_proxy,
    trustedProxies: config.server.trusted_proxies,
    maxInflightBody: config.server.max_inflight_body,
    ...(options.accepting && { isAccepting: options.accepting }),
    ...(options.clock && { clock: options.clock }),
  };
  const { app, listener } = createIngest(ingestOptions);
  return {
    app,
    /** The public listener's handler: the sources' paths straight, the rest through `app`. */
    listener,
    config,
    journal,
    dbPath,
    accepted,
    /** Pending deliveries to crm: what would be forwarded. */
    async stored(): Promise<number> {
      const counts = await journal.countDeliveries('crm');
      return counts.pending + counts.in_flight + counts.delivered + counts.dead;
    },
    async close() {
      await journal.close();
      tmp.remove();
    },
  };
}

/**
 * Serves an app on a real 127.0.0.1 listener (ephemeral port): an ingest fixture through its
 * `listener`, as the gateway does, or a Hono app through the Node adapter.
 */
export async function listen(
  app: { listener: RequestListener } | { fetch: Parameters<typeof createAdaptorServer>[0]['fetch'] },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = 'listener' in app ? createServer(app.listener) : (createAdaptorServer({ fetch: app.fetch }) as Server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A request body that arrives as a stream, with no Content-Length (chunked on the wire). */
export function streamOf(bytes: Uint8Array, chunk = 16 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + chunk));
      offset += chunk;
    },
  });
}
