/**
 * What senders can make Sluice hold in memory is bounded: connections (`server.max_connections`)
 * and body bytes being received at once (`server.max_inflight_body`). Real sockets, small sizes.
 */
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sleep, waitUntil } from '../helpers/wait.js';

let gateway: TestGateway | undefined;
let sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets = [];
  await gateway?.stop();
  gateway = undefined;
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

function post(url: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-length': String(body.length) }, agent: false });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode!, headers: res.headers });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Opens a raw connection that announces `declared` body bytes, sends `sent` of them, and stalls;
 * `closed` settles when the server cuts it off.
 */
async function stall(port: number, declared: number, sent: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  // Flowing, so that the server's answer and end of stream are read and `close` follows.
  socket.resume();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(`POST /in/shop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${declared}\r\n\r\n${'x'.repeat(sent)}`);
  return { socket, closed };
}

describe('in-flight body budget', () => {
  it('answers 503 with Retry-After once stalled senders hold the budget, and takes requests again after they are cut off', async () => {
    gateway = await startTestGateway({
      server: { max_body: '4kb', max_inflight_body: '64kb', headers_timeout: '1s', request_timeout: '1500ms' },
      destinations: { crm: { url: 'http://127.0.0.1:9/' } },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    });
    const stalled = await Promise.all(Array.from({ length: 20 }, () => stall(gateway!.port, 4096, 1024)));
    // Let the server see all their headers and start reading.
    await sleep(200);

    const refused = await post(`${gateway.url}/in/shop`, Buffer.alloc(1024, 1));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.headers.connection).toBe('close');

    // request_timeout cuts the stalled senders off; their share of the budget comes back.
    await Promise.all(stalled.map((s) => s.closed));
    await waitUntil(
      async () => (await post(`${gateway!.url}/in/shop`, Buffer.alloc(1024, 2))).status === 202,
      5_000,
      'a request to be taken again',
    );
  });
});

describe('connection limit', () => {
  it('drops connections past server.max_connections', async () => {
    gateway = await startTestGateway({
      server: { max_connections: 4 },
      destinations: { crm: { url: 'http://127.0.0.1:9/' } },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    });
    await Promise.all(Array.from({ length: 4 }, () => stall(gateway!.port, 100, 10)));
    await sleep(100);
    const extra = await stall(gateway.port, 100, 10);
    const dropped = await Promise.race([extra.closed.then(() => true), sleep(2_000).then(() => false)]);
    expect(dropped).toBe(true);
  });
});
