/**
 * The admin token when the config sets none: made once, on first start, and kept in a file beside
 * the journal, readable by its owner only. The CLI reads the same file, so that `sluice status` on
 * the gateway's machine needs no flag. Routes that answer without a token would be open to any web
 * page the operator's browser visits (a form posted cross-site, DNS rebinding).
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Where the generated token of a gateway whose journal is at `storagePath` lives. */
export function adminTokenPath(storagePath: string): string {
  return join(dirname(resolve(storagePath)), 'admin-token');
}

/** The token in `path`; undefined when there is no such file. Throws when it is there but unreadable or empty. */
export function readAdminToken(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the admin token ${path}: ${(error as Error).message}`, { cause: error });
  }
  const token = text.trim();
  if (token === '') throw new Error(`the admin token file ${path} is empty: delete it to have a new one made`);
  return token;
}

/**
 * The token in `path`, made there first when there is none: 32 random bytes, base64url, in a file
 * of mode 0600. Written to a private temp file then linked into place, so that a reader never sees
 * it half-written and two processes starting at once agree on one token (the second link fails).
 */
export function ensureAdminToken(path: string): { token: string; created: boolean } {
  const existing = readAdminToken(path);
  if (existing !== undefined) return { token: existing, created: false };
  mkdirSync(dirname(path), { recursive: true });
  const token = randomBytes(32).toString('base64url');
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { token: readAdminToken(path)!, created: false };
  } finally {
    unlinkSync(temp);
  }
  return { token, created: true };
}
