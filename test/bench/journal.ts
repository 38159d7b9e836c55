/**
 * Sluice gateways in temporary directories, and their SQLite journal seen from outside: configs,
 * preloading events straight into the file, and a read-only view to follow delivery progress.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { stringify } from 'yaml';
import { type Child, type Server, spawnCli, startServer } from './processes.js';

/** The one source every bench gateway has, and the destination it feeds. */
export const SOURCE_PATH = '/in/bench';
const SOURCE = 'bench';
const DESTINATION = 'target';

/** How the bench destination behaves (config keys as in sluice.yaml). */
export interface DestinationSpec {
  url: string;
  rate?: string;
  burst?: number;
  concurrency?: number;
  timeout?: string;
  ordering?: 'unordered' | 'fifo' | { key: string };
  adaptive?: boolean;
  retry?: { initial?: string; max?: string; max_attempts?: number };
}

/** A temporary directory holding one gateway's config and journal. */
export interface Workspace {
  dir: string;
  dbPath: string;
  configPath: string;
  /** Deletes the directory (journal included). */
  remove(): void;
}

const workspaces = new Set<string>();

/** Creates a temporary workspace with a gateway config for `destination`. */
export function workspace(destination: DestinationSpec): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  workspaces.add(dir);
  const dbPath = join(dir, 'sluice.db');
  const configPath = join(dir, 'sluice.yaml');
  const config = {
    // Port 0: the bench reads the bound port from the "listening on" line.
    server: { host: '127.0.0.1', port: 0, shutdown_grace: '1s' },
    // The admin API's default port is fixed (8081): port 0 keeps gateways from clashing over it.
    admin: { host: '127.0.0.1', port: 0, token: BENCH_ADMIN_TOKEN },
    storage: { path: dbPath },
    // info: the "listening on" line is needed; nothing is logged per event at info.
    log: { level: 'info' },
    destinations: { [DESTINATION]: destination },
    sources: { [SOURCE]: { path: SOURCE_PATH, to: DESTINATION } },
  };
  writeFileSync(configPath, stringify(config));
  return {
    dir,
    dbPath,
    configPath,
    remove() {
      rmSync(dir, { recursive: true, force: true });
      workspaces.delete(dir);
    },
  };
}

/** Deletes every workspace not removed yet (an exit hook: a failed case must not leave GBs in /tmp). */
export function removeAllWorkspaces(): void {
  for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
  workspaces.clear();
}

/**
 * Starts `sluice start -c <workspace config>` and waits until it listens; `from`: another checkout
 * whose build to run instead (bench:cpu's BENCH_CPU_COMPARE).
 */
export function startSluice(ws: Workspace, timeoutMs = 30_000, from?: string): Promise<Server> {
  return startServer(() => spawnCli('sluice', ['start', '-c', ws.configPath], {}, from), timeoutMs);
}

/** The admin API's bearer token in every bench config. */
export const BENCH_ADMIN_TOKEN = 'bench-admin-token';

/** Headers of an admin API request. */
export const ADMIN_HEADERS = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };

/** The admin API's URL, from its start-up line (logged right after the "listening on" one). */
export async function adminUrl(gateway: Child): Promise<string> {
  const isAdminLine = (line: string) => line.includes('"admin API on');
  const line = gateway.tail().split('\n').find(isAdminLine) ?? (await gateway.waitForLine(isAdminLine, 5_000));
  return (JSON.parse(line) as { url: string }).url;
}

/** One destination's row of the admin API's GET /destinations (the fields the bench reads). */
export interface DestinationStatus {
  pending: number;
  in_flight: number;
  /** Claimed from the journal, not sent yet (counted in in_flight before the API showed them apart). */
  claimed: number;
  retrying: number;
  rate_per_second: number;
  eta_seconds: number | null;
}

/** The bench destination's status as the gateway reports it (admin API, GET /destinations). */
export async function destinationStatus(gateway: Child): Promise<DestinationStatus> {
  const response = await fetch(`${await adminUrl(gateway)}/destinations`, {
    headers: ADMIN_HEADERS,
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`GET /destinations answered ${response.status}`);
  const { destinations } = (await response.json()) as { destinations: (DestinationStatus & { name: string })[] };
  const row = destinations.find((d) => d.name === DESTINATION);
  if (!row) throw new Error(`GET /destinations has no "${DESTINATION}"`);
  return row;
}

/**
 * Lets the gateway create and migrate the journal file (then stops it), so that preloading writes
 * into exactly the schema this build uses, without the bench applying migrations itself; `from`:
 * another checkout whose build will run on it (an older build refuses a file a newer one migrated).
 */
export async function createJournal(ws: Workspace, from?: string): Promise<void> {
  const gateway = await startSluice(ws, undefined, from);
  await gateway.stop();
}

/** What `preload` writes. */
export interface PreloadSpec {
  count: number;
  body: string;
  /** The body of event `i` (from 0), instead of `body`. */
  bodyOf?: (i: number) => string;
  /** The ordering key ingest would store for event `i` (destinations ordered by key); none by default. */
  orderKeyOf?: (i: number) => string | undefined;
  /** Rows per transaction. */
  batch?: number;
  /** Called after each transaction with the number of events written so far. */
  progress?: (written: number) => void;
}

/**
 * Writes `count` pending events (one delivery each to the bench destination, due now) straight
 * into a journal created by `createJournal`, in large transactions: ingesting a million events
 * through HTTP would take minutes, this takes seconds. The rows are what ingest's `append` writes
 * (src/journal/sqlite/store.ts; columns in src/journal/sqlite/schema.ts, columns not named here keep
 * their defaults): if the schema changes incompatibly, the INSERTs fail loudly rather than
 * measuring a journal Sluice would not write.
 *
 * `synchronous = OFF` only for this connection: the fixture need not survive a power cut. A
 * checkpoint at the end, then an fsync, leave the gateway a plain database file on disk, as after
 * a clean shutdown: without the fsync, the gigabyte of the fixture still in the page cache was
 * written back during the measurement, and the gateway's first fsync (ext4 flushes other files'
 * data with its journal) took 780 ms.
 * Returns the seconds it took.
 */
export function preload(ws: Workspace, spec: PreloadSpec): number {
  const began = performance.now();
  const db = new Database(ws.dbPath, { fileMustExist: true });
  try {
    db.pragma('synchronous = OFF');
    const insertEvent = db.prepare(
      'INSERT INTO events (id, source, method, path, query, headers, body, remote_addr, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertDelivery = db.prepare(
      "INSERT INTO deliveries (event_seq, destination, status, due_at, order_key) VALUES (?, ?, 'pending', ?, ?)",
    );
    // What ingest stores for an autocannon request: raw header pairs, as received.
    const headersOf = (body: Buffer) =>
      JSON.stringify([
        ['host', '127.0.0.1:8080'],
        ['content-type', 'application/json'],
        ['content-length', String(body.length)],
        ['user-agent', 'bench'],
      ]);
    const sameBody = Buffer.from(spec.body);
    const sameHeaders = headersOf(sameBody);
    const batch = spec.batch ?? 10_000;
    // Received in the past, one per ms, in order: due now, oldest first, as a real backlog.
    const firstAt = Date.now() - spec.count;
    const writeBatch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const at = firstAt + i;
        const body = spec.bodyOf ? Buffer.from(spec.bodyOf(i)) : sameBody;
        const { lastInsertRowid } = insertEvent.run(
          uuidv7({ msecs: at }),
          SOURCE,
          'POST',
          SOURCE_PATH,
          '',
          spec.bodyOf ? headersOf(body) : sameHeaders,
          body,
          '127.0.0.1',
          at,
        );
        insertDelivery.run(lastInsertRowid, DESTINATION, at, spec.orderKeyOf?.(i) ?? null);
      }
    });
    for (let from = 0; from < spec.count; from += batch) {
      const to = Math.min(spec.count, from + batch);
      writeBatch(from, to);
      spec.progress?.(to);
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  const fd = openSync(ws.dbPath, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return (performance.now() - began) / 1000;
}

/** Delivery counts of the bench destination. */
export interface Progress {
  events: number;
  delivered: number;
  dead: number;
  /** Not finished yet: pending or in flight. */
  open: number;
}

/**
 * A read-only view of a running gateway's journal (WAL lets it read while the gateway writes).
 * Each query is served by one of the schema's partial indexes, so polling it every 100 ms costs
 * the gateway next to nothing.
 */
export class JournalReader {
  private readonly db: Database.Database;
  private readonly finished: Database.Statement<[string], { n: number }>;
  private readonly unfinished: Database.Statement<[], { n: number }>;
  private readonly eventCount: Database.Statement<[], { n: number }>;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.finished = this.db.prepare(
      'SELECT count(*) AS n FROM deliveries WHERE finished_at IS NOT NULL AND status = ?',
    );
    this.unfinished = this.db.prepare('SELECT count(*) AS n FROM deliveries WHERE due_at IS NOT NULL');
    this.eventCount = this.db.prepare('SELECT count(*) AS n FROM events');
  }

  /** Deliveries finished as delivered. */
  delivered(): number {
    return this.finished.get('delivered')!.n;
  }

  /** Deliveries not finished yet (pending or in flight): the backlog. */
  open(): number {
    return this.unfinished.get()!.n;
  }

  /** Attempts the consumer refused (429 or 503). */
  refusals(): number {
    return this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM attempts WHERE status IN (429, 503)').get()!.n;
  }

  /** When each delivery finished as delivered (epoch ms), oldest first. */
  deliveredTimes(): number[] {
    return this.db
      .prepare<[], { t: number }>(
        "SELECT finished_at AS t FROM deliveries WHERE status = 'delivered' ORDER BY finished_at",
      )
      .all()
      .map((r) => r.t);
  }

  /** Start times (epoch ms) of every recorded delivery attempt, oldest first: when Sluice sent. */
  attemptStarts(): number[] {
    return this.db
      .prepare<[], { t: number }>('SELECT started_at AS t FROM attempts ORDER BY started_at')
      .all()
      .map((r) => r.t);
  }

  /** All counts; `events` scans the table's rowids, so call it once, at the end. */
  progress(): Progress {
    return {
      events: this.eventCount.get()!.n,
      delivered: this.delivered(),
      dead: this.finished.get('dead')!.n,
      open: this.open(),
    };
  }

  close(): void {
    this.db.close();
  }
}
