/**
 * Checks, before SQLite is asked, that this process may create and write the journal where
 * `storage.path` puts it. SQLite's own words for the same problem are "unable to open database
 * file" or "attempt to write a readonly database", and node's a bare EACCES: neither names the
 * directory, the user, or what to change.
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { JournalAccessError } from '../../errors.js';

/** Throws `JournalAccessError` unless the journal's directory and files can be created, read and written. */
export function checkStorageAccess(path: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw accessError(cause, `cannot create the journal's directory ${dir}`);
  }
  try {
    // Write and search: SQLite creates the journal, its -wal and -shm files and the lock file there.
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (cause) {
    throw accessError(cause, `cannot write in the journal's directory ${dir}`);
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}.lock`]) {
    if (!existsSync(file)) continue;
    try {
      accessSync(file, constants.R_OK | constants.W_OK);
    } catch (cause) {
      throw accessError(cause, `cannot read and write ${file}`);
    }
  }
}

function accessError(cause: unknown, what: string): JournalAccessError {
  const code = (cause as NodeJS.ErrnoException).code;
  const fix = 'give that user write access (chown or chmod), or set storage.path to a directory it owns';
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? `permission denied for ${who()}; ${fix}`
      : code === 'EROFS'
        ? 'the filesystem is read-only; set storage.path to a writable one'
        : code === 'ENOTDIR' || code === 'EEXIST'
          ? 'part of the path is a file, not a directory; set storage.path to a directory'
          : (cause as Error).message;
  return new JournalAccessError(`${what}: ${why}`, { cause });
}

/** The user this process runs as, for the message: `nobody (uid 65534)`. */
function who(): string {
  const uid = process.getuid?.();
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = undefined; // a uid without a passwd entry (containers)
  }
  return uid === undefined ? `user ${name ?? 'unknown'}` : `user ${name ?? '?'} (uid ${uid})`;
}
