/**
 * One gateway per journal file. Two processes draining one SQLite journal would each keep their
 * own rate budget, so the consumer would see twice the configured pace; the second one to start
 * is refused, with the file and the process that holds it named.
 *
 * The lock is a small SQLite file beside the journal (`<path>.lock`) on which the holder keeps a
 * write transaction open (a RESERVED lock). The operating system drops it when the process ends,
 * however it ends (kill -9 included), so a crash never leaves a stale lock behind, and the lock
 * works between processes that cannot see each other's PIDs (containers sharing a volume). The
 * holder's PID, host and start time are committed in the file first, so that a refused process
 * can say who holds it. Journals opened on the same file within one process share the lock: it
 * guards against a second process, and goes when the last of them closes.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { JournalLockedError, JournalUnavailableError } from '../../errors.js';

interface Holder {
  pid: number;
  host: string;
  started_at: number;
}

/** A held lock; `release()` lets the next process take the journal. */
export interface ProcessLock {
  release(): void;
}

/** Locks this process holds, by lock file, with how many journals share each. */
const held = new Map<string, { db: Database.Database; users: number }>();

/** Takes the lock of the journal at `path`, or throws `JournalLockedError` naming its holder. */
export function lockJournal(path: string): ProcessLock {
  const file = `${resolve(path)}.lock`;
  const shared = held.get(file);
  if (shared) {
    shared.users += 1;
    return releaser(file);
  }
  held.set(file, { db: takeLock(file), users: 1 });
  return releaser(file);
}

/** A handle on the lock of `file`; the lock goes with the last handle released. */
function releaser(file: string): ProcessLock {
  let released = false;
  return {
    release() {
      const entry = held.get(file);
      if (released || !entry) return;
      released = true;
      entry.users -= 1;
      if (entry.users > 0) return;
      held.delete(file);
      entry.db.exec('ROLLBACK');
      entry.db.close();
    },
  };
}

function takeLock(file: string): Database.Database {
  const path = file.slice(0, -'.lock'.length);
  mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 0 });
  } catch (cause) {
    throw new JournalUnavailableError(`cannot open journal lock ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    db.pragma('journal_mode = DELETE');
    db.exec(
      'CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, host TEXT NOT NULL, started_at INTEGER NOT NULL)',
    );
    take(db, file);
    db.exec('DELETE FROM holder');
    db.prepare('INSERT INTO holder (pid, host, started_at) VALUES (?, ?, ?)').run(process.pid, hostname(), Date.now());
    // A process refused at this moment may be reading the holder: let the commit wait for it.
    db.pragma('busy_timeout = 2000');
    db.exec('COMMIT');
    db.pragma('busy_timeout = 0');
    // Held from here until release or exit: the open write transaction keeps others out.
    take(db, file);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Opens the write transaction that is the lock; refuses when another connection holds it. */
function take(db: Database.Database, file: string): void {
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    const holder = readHolder(db);
    const who = holder
      ? `process ${holder.pid} on ${holder.host}, running since ${new Date(holder.started_at).toISOString()}`
      : 'another process';
    throw new JournalLockedError(
      `journal ${file.slice(0, -'.lock'.length)} is in use by ${who}: one gateway per journal ` +
        '(stop the other one, or give this one its own storage.path)',
      { cause: error },
    );
  }
}

function readHolder(db: Database.Database): Holder | undefined {
  try {
    return db.prepare('SELECT pid, host, started_at FROM holder').get() as Holder | undefined;
  } catch {
    return undefined;
  }
}
