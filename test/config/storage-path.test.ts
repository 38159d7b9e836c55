/** A relative storage.path is read against the config file's directory, not the working directory. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/gateway.js';

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => {
  tmp?.remove();
  tmp = undefined;
});

const routes = 'destinations:\n  crm: { url: "http://127.0.0.1:9/" }\nsources:\n  s: { path: /in, to: crm }\n';

describe('storage.path', () => {
  it('resolves a relative path against the directory of the config file', () => {
    tmp = tempDir();
    mkdirSync(join(tmp.dir, 'etc'));
    const file = join(tmp.dir, 'etc', 'sluice.yaml');
    writeFileSync(file, `storage: { path: ./data/sluice.db }\n${routes}`);
    expect(process.cwd()).not.toBe(join(tmp.dir, 'etc'));
    expect(loadConfig(file, {}).storage.path).toBe(join(tmp.dir, 'etc', 'data', 'sluice.db'));
  });

  it('keeps an absolute path as written, and resolves the default against the file too', () => {
    tmp = tempDir();
    const file = join(tmp.dir, 'sluice.yaml');
    writeFileSync(file, `storage: { path: /var/lib/sluice/j.db }\n${routes}`);
    expect(loadConfig(file, {}).storage.path).toBe('/var/lib/sluice/j.db');
    writeFileSync(file, routes);
    expect(loadConfig(file, {}).storage.path).toBe(join(tmp.dir, 'data', 'sluice.db'));
  });
});
