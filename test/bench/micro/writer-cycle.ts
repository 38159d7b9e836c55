/**
 * The writer thread's SQLite work for one event's whole life, alone, in one thread against a real
 * journal file with the gateway's pragmas (WAL, synchronous=FULL): `events` appends in group commits
 * of 50 (1.5 KB JSON bodies, the headers autocannon sends), then, unless the phase is `ingest`, a
 * drain: each group commit claims 32 deliveries and records the outcomes (attempt + verdict) of the
 * 32 claimed in the commit before, as a drain at concurrency 32 does. The ops go through
 * `SqliteStore.apply` and `GroupCommitWriter`, as in the writer thread; the messages to and from the
 * main thread are not counted here (`npm run bench:cpu` counts them).
 *
 * For instruction counts, which do not depend on what else the machine does:
 *
 *   BENCH_CALLGRIND=1 valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file \
 *     --callgrind-out-file=/tmp/cg.out node --import tsx test/bench/micro/writer-cycle.ts 5000
 *   callgrind_annotate --inclusive=yes /tmp/cg.out.1 | head -40   # ingest (.2: delivery)
 *
 * Without valgrind it prints the CPU time per event of each phase (user + system, this thread only).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newEventId } from '../../../src/journal/event-id.js';
import type { Claim } from '../../../src/journal/port.js';
import { migrateJournal, openConnection } from '../../../src/journal/sqlite/connection.js';
import { CLAIM_FIELDS, type ClaimBatch } from '../../../src/journal/sqlite/delivery-claims.js';
import { GroupCommitWriter } from '../../../src/journal/sqlite/group-commit.js';
import type { AppendItem, CompleteItem } from '../../../src/journal/sqlite/multi-row-writes.js';
import { SqliteStore, type WriteOp } from '../../../src/journal/sqlite/store.js';
import { webhookBody } from '../load.js';
import { benchEvent } from './bench-event.js';

const total = Number(process.argv[2] ?? 5_000);
const phase = process.argv[3] ?? 'cycle';
const APPEND_BATCH = 50;
type ClaimRef = Pick<Claim, 'deliveryId' | 'attempt'>;
/** BENCH_GROUPED=0: each append and outcome its own op, as before the writer thread grouped them. */
const grouped = process.env.BENCH_GROUPED !== '0';
const CLAIM_BATCH = 32;
const dir = mkdtempSync(join(tmpdir(), 'sluice-writer-cycle-'));
/**
 * Under `valgrind --tool=callgrind --instr-atstart=no`, with BENCH_CALLGRIND=1: counting starts
 * after the warm-up and each phase is dumped apart (`<out>.1` ingest, `<out>.2` delivery), so that
 * start-up and warm-up, whose counts vary from run to run, stay out.
 */
const callgrind = (...args: string[]) => {
  if (process.env.BENCH_CALLGRIND === '1') execFileSync('callgrind_control', [...args, String(process.pid)]);
};
const cpu = (label: string, since: NodeJS.CpuUsage, n: number) => {
  const used = process.cpuUsage(since);
  if (n > 0)
    process.stdout.write(
      `${label}: ${n} events, ${((used.user + used.system) / n).toFixed(1)} µs/event ` +
        `(user ${(used.user / n).toFixed(1)}, system ${(used.system / n).toFixed(1)})\n`,
    );
};
try {
  const sqlite = openConnection(join(dir, 'sluice.db'), { cacheKiB: 4096 });
  migrateJournal(sqlite, dir);
  // Pragmas to try on top of the gateway's, e.g. BENCH_PRAGMA='mmap_size = 268435456;cache_size = -16384'.
  for (const pragma of (process.env.BENCH_PRAGMA ?? '').split(';').filter((p) => p.trim())) sqlite.pragma(pragma);
  const store = new SqliteStore(sqlite);
  const writer = new GroupCommitWriter(sqlite);
  const body = Buffer.from(webhookBody());
  const response = new Uint8Array(Buffer.from('ok'));
  /** One group commit of `ops`; resolves with their results. */
  const commit = async (ops: WriteOp[]): Promise<unknown[]> => {
    const done = ops.map((op) => writer.run(() => store.apply(op), op.kind === 'append'));
    writer.flush();
    return Promise.all(done);
  };
  const appendOp = (): WriteOp => {
    const event = benchEvent(body);
    return { kind: 'append', id: newEventId(), event };
  };
  const ingest = async (n: number) => {
    for (let done = 0; done < n; done += APPEND_BATCH) {
      const ops = Array.from({ length: Math.min(APPEND_BATCH, n - done) }, appendOp);
      // As the writer thread does with the appends of one message (writer-thread.ts).
      if (grouped) await writer.run(() => store.appendMany(ops as AppendItem[]), true);
      else await commit(ops);
    }
  };
  const outcome = (c: ClaimRef): WriteOp => {
    const startedAt = Date.now();
    return {
      kind: 'complete',
      claim: { deliveryId: c.deliveryId, attempt: c.attempt },
      attempt: { attempt: c.attempt, startedAt, durationMs: 1.3, status: 200, response },
      verdict: { kind: 'delivered' },
    };
  };
  /** Claims and completes until nothing is due; returns how many were delivered. */
  const drain = async () => {
    let delivered = 0;
    let inFlight: ClaimRef[] = [];
    for (;;) {
      const claimOp: WriteOp = {
        kind: 'claim',
        request: {
          destination: 'target',
          limit: CLAIM_BATCH,
          now: Date.now(),
          leaseMs: 30_000,
          fifo: false,
          byKey: false,
          budget: { maxAttempts: 10, maxAgeMs: 86_400_000 },
        },
      };
      let claimed: Promise<unknown>;
      if (grouped && inFlight.length > 1) {
        // As the writer thread does with the outcomes of one message (writer-thread.ts).
        const outcomes = inFlight.map(outcome) as CompleteItem[];
        const recorded = writer.run(() => store.completeMany(outcomes));
        claimed = writer.run(() => store.apply(claimOp));
        writer.flush();
        await recorded;
      } else {
        claimed = commit([...inFlight.map(outcome), claimOp]).then((results) => results.at(-1));
      }
      delivered += inFlight.length;
      // The fencing pair of each claim, which is all an outcome sends back (not decoded: main-thread work).
      const { fields } = (await claimed) as ClaimBatch;
      inFlight = [];
      for (let i = 0; i < fields.length; i += CLAIM_FIELDS)
        inFlight.push({ deliveryId: fields[i] as number, attempt: fields[i + 1] as number });
      if (inFlight.length === 0) return delivered;
    }
  };
  // Warm-up (JIT, page cache), on the same file.
  await ingest(1_000);
  await drain();
  callgrind('-i', 'on');
  let since = process.cpuUsage();
  await ingest(total);
  cpu('ingest', since, total);
  callgrind('-d', 'ingest');
  if (phase !== 'ingest') {
    since = process.cpuUsage();
    const delivered = await drain();
    cpu('delivery', since, delivered);
    callgrind('-d', 'delivery');
    if (delivered !== total) throw new Error(`delivered ${delivered} of ${total}`);
  }
  sqlite.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
