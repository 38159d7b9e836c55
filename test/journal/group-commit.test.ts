/**
 * When the SQLite writer commits, on a real journal file: background writes (claims, outcomes) may
 * wait for more, a new event never does, and nothing waits past a full batch or a close.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openConnection } from '../../src/journal/sqlite/connection.js';
import { GroupCommitWriter } from '../../src/journal/sqlite/group-commit.js';

let dir: string;
let sqlite: Database.Database;
let commits: number[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-group-commit-'));
  sqlite = openConnection(join(dir, 'journal.db'));
  sqlite.exec('CREATE TABLE t (n INTEGER)');
  commits = [];
});

afterEach(() => {
  sqlite.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A writer whose background writes would wait `delayMs`. */
const writerWaiting = (delayMs: number) => new GroupCommitWriter(sqlite, (size) => commits.push(size), delayMs);
const insert = (n: number) => () => sqlite.prepare('INSERT INTO t (n) VALUES (?)').run(n).changes;
const rows = () => (sqlite.prepare('SELECT count(*) AS c FROM t').get() as { c: number }).c;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

it('keeps background writes for later, and commits them with the next new event, in its turn', async () => {
  const writer = writerWaiting(60_000);
  const outcome = writer.run(insert(1));
  await nextTurn();
  await nextTurn();
  expect(commits).toEqual([]);
  expect(rows()).toBe(0);

  const event = writer.run(insert(2), true);
  await nextTurn();
  expect(commits).toEqual([2]);
  await expect(Promise.all([outcome, event])).resolves.toEqual([1, 1]);
  expect(rows()).toBe(2);
  writer.close();
});

it('commits background writes once the delay has passed', async () => {
  const writer = writerWaiting(20);
  await expect(writer.run(insert(1))).resolves.toBe(1);
  expect(commits).toEqual([1]);
  writer.close();
});

it('commits a full batch of background writes without waiting', async () => {
  const writer = writerWaiting(60_000);
  const done = Array.from({ length: 64 }, (_, i) => writer.run(insert(i)));
  await nextTurn();
  expect(commits).toEqual([64]);
  await Promise.all(done);
  writer.close();
});

it('commits waiting background writes on close', async () => {
  const writer = writerWaiting(60_000);
  const outcome = writer.run(insert(1));
  writer.close();
  await expect(outcome).resolves.toBe(1);
  expect(rows()).toBe(1);
});

it('without a delay, commits every write in its turn', async () => {
  const writer = writerWaiting(0);
  const outcome = writer.run(insert(1));
  await nextTurn();
  expect(commits).toEqual([1]);
  await outcome;
  writer.close();
});
