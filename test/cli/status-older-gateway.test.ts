/**
 * `sluice status` against a gateway older than GET /nodes (it answers 404 there): the destinations
 * alone, no error. Any other failure of /nodes is an error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminClient } from '../../src/cli/admin-client.js';
import { readStatus } from '../../src/cli/status-command.js';
import { type FakeAdminApi, startFakeAdminApi } from '../helpers/fake-admin-api.js';

let api: FakeAdminApi | undefined;
afterEach(() => api?.close());

/** An admin API whose GET /nodes answers `nodesStatus`, and every other route 200 with no destinations. */
async function apiUrl(nodesStatus: number): Promise<string> {
  api = await startFakeAdminApi((path) =>
    path === '/nodes'
      ? { status: nodesStatus, body: { error: { code: 'x', message: `no route GET ${path}` } } }
      : { status: 200, body: { destinations: [] } },
  );
  return api.url;
}

describe('sluice status against an older gateway', () => {
  it('shows the destinations alone when GET /nodes is 404', async () => {
    const url = await apiUrl(404);
    expect(await readStatus(createAdminClient({ url, token: 't' }))).toEqual({ destinations: [] });
  });

  it('fails on any other error of GET /nodes', async () => {
    const url = await apiUrl(500);
    await expect(readStatus(createAdminClient({ url, token: 't' }))).rejects.toThrow();
  });
});
