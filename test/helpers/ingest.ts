/** An ingest app over a real SQLite journal in a temp dir, for `app.request()` route tests. */
import { join } from 'node:path';
import { configSchema } from '../../src/config.js';
import { createIngestApp, type IngestOptions } from '../../src/ingest.js';
import { openSqliteJournal, type SqliteJournal } from '../../src/journal-sqlite.js';
import { silentLogger } from '../../src/log.js';
import { tempDir } from './gateway.js';

export function ingestFixture(options: { sources?: Record<string, unknown>; maxBody?: string; maxSize?: number; accepting?: () => boolean } = {}) {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'sluice.db');
  const config = configSchema.parse({
    server: { max_body: options.maxBody ?? '1mb' },
    destinations: { crm: { url: 'http://127.0.0.1:9/' }, erp: { url: 'http://127.0.0.1:9/' } },
    sources: options.sources ?? { shop: { path: '/in/shop', to: 'crm' } },
  });
  const journal: SqliteJournal = openSqliteJournal({ path: dbPath, maxSize: options.maxSize });
  const accepted: string[] = [];
  const ingestOptions: IngestOptions = {
    sources: config.sources,
    maxBody: config.server.max_body,
    journal,
    logger: silentLogger(),
    onAccepted: (event) => accepted.push(event.id),
    ...(options.accepting && { isAccepting: options.accepting }),
  };
  const app = createIngestApp(ingestOptions);
  return {
    app,
    journal,
    dbPath,
    accepted,
    async close() {
      await journal.close();
      tmp.remove();
    },
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
