/**
 * Without `admin.token`, the gateway makes a token at first start, beside the journal, readable by
 * its owner only, and keeps it across restarts.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminTokenPath, ensureAdminToken, readAdminToken } from '../../src/admin/token.js';
import { adminTest, startAdminFixture } from '../helpers/admin.js';
import { tempDir } from '../helpers/gateway.js';

const t = adminTest();

describe('the admin token made at first start', () => {
  it('is written beside the journal with mode 0600, and the same token serves after a restart', async () => {
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: 'http://127.0.0.1:9/' } }, token: null }));
    const file = join(dirname(fx.dbPath), 'admin-token');
    expect(adminTokenPath(fx.dbPath)).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readAdminToken(file)).toBe(fx.token);
    // No temp file left behind.
    expect(readdirSync(dirname(file)).filter((f) => f.startsWith('admin-token'))).toEqual(['admin-token']);

    await fx.restart();
    expect(readAdminToken(file)).toBe(fx.token);
    expect((await fx.admin('/destinations')).status).toBe(200);
    expect((await fx.app.request('/destinations')).status).toBe(401);
  });

  it('is not made when the config sets one', async () => {
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: 'http://127.0.0.1:9/' } } }));
    expect(readAdminToken(adminTokenPath(fx.dbPath))).toBeUndefined();
  });

  it('ensureAdminToken makes one token and then keeps it; an empty file is an error, not an open API', () => {
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, 'nested', 'admin-token');
      const first = ensureAdminToken(path);
      expect(first.created).toBe(true);
      expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(ensureAdminToken(path)).toEqual({ token: first.token, created: false });
      expect(ensureAdminToken(join(tmp.dir, 'other')).token).not.toBe(first.token);
      writeFileSync(path, '\n');
      expect(() => ensureAdminToken(path)).toThrow(/empty/);
    } finally {
      tmp.remove();
    }
  });
});
