/**
 * The writer thread's SQLite work for ingest, alone: `COMMITS` group commits of `BATCH` appends
 * (1.5 KB JSON bodies, the headers autocannon sends) through `SqliteStore.append` and
 * `GroupCommitWriter`, on a fresh journal file with the gateway's pragmas (WAL, synchronous=FULL).
 * Meant to be run under callgrind, whose instruction counts do not depend on what else the
 * machine does:
 *
 *   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/tmp/cg.out \
 *     node --import tsx test/bench/micro/writer-insert.ts [commits] [batch]
 *   callgrind_annotate /tmp/cg.out | head -40
 *
 * Without valgrind it prints the CPU time per event (user + system, this thread only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newEventId } from '../../../src/journal/event-id.js';
import { migrateJournal, openConnection } from '../../../src/journal/sqlite/connection.js';
import { GroupCommitWriter } from '../../../src/journal/sqlite/group-commit.js';
import { SqliteStore } from '../../../src/journal/sqlite/store.js';
import { webhookBody } from '../load.js';
import { benchEvent } from './bench-event.js';

const commits = Number(process.argv[2] ?? 200);
const batch = Number(process.argv[3] ?? 64);
const dir = mkdtempSync(join(tmpdir(), 'sluice-writer-insert-'));
try {
  const sqlite = openConnection(join(dir, 'sluice.db'), { cacheKiB: 4096 });
  migrateJournal(sqlite, dir);
  const store = new SqliteStore(sqlite);
  const writer = new GroupCommitWriter(sqlite);
  const body = Buffer.from(webhookBody());
  const event = () => benchEvent(body);
  const round = async () => {
    const done: Promise<unknown>[] = [];
    for (let i = 0; i < batch; i++) {
      const id = newEventId();
      const e = event();
      done.push(writer.run(() => store.apply({ kind: 'append', id, event: e }), true));
    }
    writer.flush();
    await Promise.all(done);
  };
  for (let i = 0; i < 20; i++) await round(); // warm-up: JIT, page cache
  const before = process.cpuUsage();
  for (let i = 0; i < commits; i++) await round();
  const used = process.cpuUsage(before);
  process.stdout.write(
    `${commits} commits × ${batch}: ${((used.user + used.system) / (commits * batch)).toFixed(1)} µs/event ` +
      `(user ${(used.user / (commits * batch)).toFixed(1)}, system ${(used.system / (commits * batch)).toFixed(1)})\n`,
  );
  sqlite.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
