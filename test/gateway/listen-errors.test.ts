/**
 * A listener that cannot bind says which one it is and which config keys move it: a bare
 * `listen EADDRINUSE 127.0.0.1:8081` does not tell the ingest listener from the admin one.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import { tempDir, testConfig } from '../helpers/gateway.js';

let blocker: Server | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => {
  blocker?.close();
  tmp?.remove();
  blocker = tmp = undefined;
});

async function takenPort(): Promise<number> {
  blocker = createServer();
  await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
  return (blocker.address() as { port: number }).port;
}

const routes = { destinations: { crm: { url: 'http://127.0.0.1:9/' } }, sources: { s: { path: '/in', to: 'crm' } } };

describe('a port in use', () => {
  it('names the admin listener and admin.port', async () => {
    const port = await takenPort();
    tmp = tempDir();
    const config = testConfig({ ...routes, admin: { port } }, tmp.dir);
    const started = startGateway({ config, logger: silentLogger() });
    await expect(started).rejects.toMatchObject({ code: 'LISTEN_FAILED' });
    const message = await started.catch((e: Error) => e.message);
    expect(message).toContain(`the admin listener cannot listen on 127.0.0.1:${port}`);
    expect(message).toContain('already in use');
    expect(message).toContain('admin.port');
  });

  it('names the ingest listener and server.port', async () => {
    const port = await takenPort();
    tmp = tempDir();
    const config = testConfig({ ...routes, server: { port } }, tmp.dir);
    const message = await startGateway({ config, logger: silentLogger() }).then(
      () => 'started',
      (e: Error) => e.message,
    );
    expect(message).toContain(`the ingest listener cannot listen on 127.0.0.1:${port}`);
    expect(message).toContain('server.port');
  });
});
