/**
 * `sluice status` against a gateway older than GET /nodes (it answers 404 there): the destinations
 * alone, no error. Any other failure of /nodes is an error.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminClient } from '../../src/cli/admin-client.js';
import { readStatus } from '../../src/cli/status-command.js';

let server: Server | undefined;
afterEach(() => server?.close());

async function api(nodesStatus: number): Promise<string> {
  server = createServer((req, res) => {
    if (req.url === '/nodes') {
      res.writeHead(nodesStatus, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'x', message: `no route GET ${req.url}` } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"destinations":[]}');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('sluice status against an older gateway', () => {
  it('shows the destinations alone when GET /nodes is 404', async () => {
    const url = await api(404);
    expect(await readStatus(createAdminClient({ url, token: 't' }))).toEqual({ destinations: [] });
  });

  it('fails on any other error of GET /nodes', async () => {
    const url = await api(500);
    await expect(readStatus(createAdminClient({ url, token: 't' }))).rejects.toThrow();
  });
});
