/**
 * The SQLite journal's appends alone, without HTTP: `events` appends of a 1500 B webhook with five
 * header pairs, `batch` of them per event-loop turn (what one turn of ingest hands the journal
 * under load), after as many for warm-up. Prints the CPU per append of the main thread (what the
 * journal's main-thread side and its messages cost) and of the writer thread (decoding, inserts
 * and commits), read from /proc per thread, so that the machine's load moves them little.
 *
 *   npx tsx test/bench/micro/journal-append.ts [events] [batch] [checkout]
 *
 * `checkout`: another built checkout whose dist/ journal to run instead of this one's (for an A/B,
 * alternate runs of both). Linux only.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { IncomingEvent, Journal } from '../../../src/journal/port.js';
import { webhookBody } from '../load.js';

const events = Number(process.argv[2] ?? 100_000);
const batch = Number(process.argv[3] ?? 16);
const checkout = resolve(process.argv[4] ?? '.');
const { openSqliteJournal } = (await import(pathToFileURL(join(checkout, 'dist/journal/sqlite/journal.js')).href)) as {
  openSqliteJournal: (options: { path: string }) => Journal;
};

/** utime + stime of one thread of this process, in clock ticks. */
function threadTicks(tid: string): number {
  const text = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
const writerTid = () =>
  readdirSync('/proc/self/task').find(
    (t) => readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'sluice-writer',
  );

const dir = mkdtempSync(join(tmpdir(), 'sluice-journal-append-'));
const journal = openSqliteJournal({ path: join(dir, 'journal.db') });
const body = new TextEncoder().encode(webhookBody());
const event = (): IncomingEvent => ({
  source: 'github',
  method: 'POST',
  path: '/in/github',
  query: '',
  headers: [
    ['host', 'localhost:3000'],
    ['content-type', 'application/json'],
    ['content-length', String(body.byteLength)],
    ['x-hub-signature-256', 'sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
    ['user-agent', 'GitHub-Hookshot/044aadd'],
  ],
  body: body.slice(),
  remoteAddr: '127.0.0.1',
  receivedAt: Date.now(),
  destinations: ['crm'],
});
const run = async (n: number) => {
  for (let i = 0; i < n; i += batch) {
    const turn: Promise<unknown>[] = [];
    for (let k = 0; k < batch; k++) turn.push(journal.append(event()));
    await Promise.all(turn);
  }
};
try {
  await run(events);
  const writer = writerTid();
  const main0 = threadTicks(String(process.pid));
  const writer0 = writer ? threadTicks(writer) : Number.NaN;
  await run(events);
  const perEvent = (ticks: number) => ((ticks * 10_000) / events).toFixed(2);
  process.stdout.write(
    `${checkout}: batch ${batch}, µs per append: main ${perEvent(threadTicks(String(process.pid)) - main0)}, writer ${
      writer ? perEvent(threadTicks(writer) - writer0) : '?'
    }\n`,
  );
} finally {
  await journal.close();
  rmSync(dir, { recursive: true, force: true });
}
