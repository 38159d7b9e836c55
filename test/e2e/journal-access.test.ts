/**
 * A journal directory this user may not write gets an error naming the directory, the user and
 * the permission problem, not SQLite's "unable to open database file" or a bare EACCES. Tests run
 * as root, whom file modes do not stop: the built CLI then runs as the unprivileged user 65534, so
 * the kernel really refuses; run as another user, the directory is made read-only instead.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalAccessError } from '../../src/errors.js';
import { openSqliteJournal } from '../../src/journal/sqlite/journal.js';
import { runCli } from '../helpers/child.js';
import { tempDir } from '../helpers/gateway.js';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => {
  tmp?.remove();
  tmp = undefined;
});

const asRoot = process.getuid?.() === 0;
const UNPRIVILEGED = 65534;

/** `sluice start` on a config whose journal is at `path`, as an unprivileged user. */
async function start(path: string): Promise<{ code: number | string; output: string }> {
  const config = join(tmp!.dir, 'sluice.yaml');
  writeFileSync(
    config,
    `storage: { path: ${path} }\nadmin: { enabled: false }\nserver: { host: 127.0.0.1, port: 0 }\n` +
      'destinations:\n  crm: { url: "http://127.0.0.1:9/" }\nsources:\n  s: { path: /in, to: crm }\n',
  );
  const { spawn } = await import('node:child_process');
  if (!asRoot) {
    const c = runCli(['start', '-c', config]);
    return { code: await c.exited, output: c.output() };
  }
  const { CLI } = await import('../helpers/child.js');
  const child = spawn(process.execPath, [CLI, 'start', '-c', config], {
    uid: UNPRIVILEGED,
    gid: UNPRIVILEGED,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | string>((resolve) =>
    child.on('exit', (c, signal) => resolve(c ?? signal ?? 'none')),
  );
  return { code, output };
}

describe('journal storage access', () => {
  it('a directory the user may not write: names it, the user, and what to change', async () => {
    tmp = tempDir();
    chmodSync(tmp.dir, 0o755);
    const dir = join(tmp.dir, 'data');
    mkdirSync(dir, { mode: 0o755 });
    if (!asRoot) chmodSync(dir, 0o555);
    const { code, output } = await start(join(dir, 'sluice.db'));
    expect(code).toBe(1);
    expect(output).toContain(`cannot write in the journal's directory ${dir}: permission denied for user`);
    expect(output).toContain('storage.path');
    expect(output).toContain('[JOURNAL_ACCESS]');
    expect(output).not.toContain('unable to open database file');
  });

  it('a directory the user may not create: names the directory', async () => {
    tmp = tempDir();
    chmodSync(tmp.dir, 0o755);
    const parent = join(tmp.dir, 'srv');
    mkdirSync(parent, { mode: 0o755 });
    if (!asRoot) chmodSync(parent, 0o555);
    const { code, output } = await start(join(parent, 'data', 'sluice.db'));
    expect(code).toBe(1);
    expect(output).toContain(`cannot create the journal's directory ${join(parent, 'data')}: permission denied`);
  });

  it('a path under a regular file: says a part of it is a file', () => {
    tmp = tempDir();
    writeFileSync(join(tmp.dir, 'file'), '');
    const path = join(tmp.dir, 'file', 'data', 'sluice.db');
    let error: unknown;
    try {
      openSqliteJournal({ path });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(JournalAccessError);
    expect((error as Error).message).toBe(
      `cannot create the journal's directory ${join(tmp.dir, 'file', 'data')}: part of the path is a file, not a directory; set storage.path to a directory`,
    );
  });
});
