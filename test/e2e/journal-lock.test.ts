/**
 * One gateway per journal: a second opener is refused with the file and the holder named, in the
 * same process and from another process; the lock goes with its holder, however it ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteJournal } from '../../src/journal/sqlite/journal.js';
import { runCli, startGatewayProcess } from '../helpers/child.js';
import { writeDrillConfig } from '../helpers/drill.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the journal lock', () => {
  it('is shared by the journals of one process and goes with the last of them', async () => {
    const path = join(dir, 'journal.db');
    const first = openSqliteJournal({ path });
    const second = openSqliteJournal({ path });
    await first.close();
    // Still held by `second`: another process would be refused (the lock file's own connection says so).
    const other = new Database(`${path}.lock`, { timeout: 0 });
    expect(() => other.exec('BEGIN IMMEDIATE')).toThrow(/locked|busy/i);
    await second.close();
    other.exec('BEGIN IMMEDIATE');
    other.exec('ROLLBACK');
    other.close();
  });

  it('refuses a second gateway process at start-up, and takes the journal once the holder was killed', async () => {
    const config = writeDrillConfig(dir, { receiverUrl: 'http://127.0.0.1:9', dbPath: join(dir, 'data', 'sluice.db') });
    const holder = await startGatewayProcess(config);
    try {
      const second = runCli(['start', '-c', config]);
      expect(await second.exited).toBe(1);
      expect(second.output()).toContain(join(dir, 'data', 'sluice.db'));
      expect(second.output()).toContain(`process ${holder.process.pid}`);
    } finally {
      holder.process.kill('SIGKILL');
      await holder.exited;
    }
    // kill -9 leaves no stale lock: the operating system dropped it with the process.
    const next = await startGatewayProcess(config);
    next.process.kill('SIGKILL');
    await next.exited;
  });
});
