/**
 * `storage.url`: a PostgreSQL journal instead of the SQLite file, with `${VAR}` like any value;
 * options that only mean something for a SQLite file are refused beside it, naming file, line and key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError, type ConfigIssue } from '../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function write(storage: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));
  dirs.push(dir);
  const file = join(dir, 'sluice.yaml');
  const lines = ['storage:', ...storage, 'destinations:', '  crm: { url: http://127.0.0.1:9/hooks }'];
  writeFileSync(file, `${[...lines, 'sources:', '  shop: { path: /in/shop, to: crm }'].join('\n')}\n`);
  return file;
}

function issues(file: string): ConfigIssue[] {
  try {
    loadConfig(file, {});
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('storage.url', () => {
  it('names a PostgreSQL journal; path keeps its default (where the admin token is kept)', () => {
    const config = loadConfig(write(['  url: postgres://sluice@db.internal:5432/sluice']), {});
    expect(config.storage.url).toBe('postgres://sluice@db.internal:5432/sluice');
    // Relative to the config file's directory, as always.
    expect(config.storage.path).toMatch(/^\/.*\/data\/sluice\.db$/);
  });

  it('takes ${VAR} from the environment, password included', () => {
    const file = write(['  url: postgres://sluice:${PGPASSWORD}@${PGHOST:-db}:5432/sluice']);
    expect(loadConfig(file, { PGPASSWORD: 's3cret' }).storage.url).toBe('postgres://sluice:s3cret@db:5432/sluice');
  });

  it('is absent by default: the SQLite journal', () => {
    expect(loadConfig(write(['  path: ./j.db']), {}).storage.url).toBeUndefined();
  });

  it('refuses another scheme, and max_size or reserve beside it, at their line', () => {
    const bad = issues(write(['  url: mysql://db/sluice']));
    expect(bad).toEqual([expect.objectContaining({ path: 'storage.url', line: 2 })]);
    expect(bad[0]!.message).toMatch(/postgres/);
    const mixed = issues(write(['  url: postgres://db/sluice', '  max_size: 1gb']));
    expect(mixed).toEqual([expect.objectContaining({ path: 'storage.max_size', line: 3 })]);
    expect(mixed[0]!.message).toMatch(/SQLite/);
  });
});
