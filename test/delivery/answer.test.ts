/**
 * How the delivery client reads the consumer's answer: what it keeps, when it gives up, and that
 * the connection stays usable. A real node:http consumer on an ephemeral port, scripted at the
 * socket level where the test needs an answer no framework would send.
 */

import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDeliveryClient, type DeliveryClient, RESPONSE_SNIPPET_BYTES } from '../../src/delivery/http-client.js';
import { claimOf } from '../helpers/claim.js';
import { sleep } from '../helpers/wait.js';

type Handler = (res: ServerResponse, index: number) => void;

let close: (() => Promise<void>) | undefined;
let client: DeliveryClient | undefined;
afterEach(async () => {
  await client?.close();
  await close?.();
  client = close = undefined;
});

/** A consumer whose every answer `handle` writes; returns its URL and the connections it saw. */
async function consumer(handle: Handler) {
  let index = 0;
  const sockets = new Set<unknown>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(res, index++));
  });
  server.on('connection', (socket) => sockets.add(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, connections: () => sockets.size };
}

const claim = () =>
  claimOf({ source: 'shop', receivedAt: Date.now(), headers: [['content-type', 'application/json']], body: '{"a":1}' });

describe('delivery client: the answer', () => {
  it('keeps the status, Retry-After and only the first KiB of the body', async () => {
    const { url } = await consumer((res) => {
      res.writeHead(503, { 'retry-after': '7' });
      res.end('x'.repeat(10_000));
    });
    client = createDeliveryClient({ url, concurrency: 1, timeout: 5_000 });
    const result = await client.send(claim());
    expect(result.status).toBe(503);
    expect(result.retryAfter).toBe('7');
    expect(Buffer.from(result.response!).toString()).toBe('x'.repeat(RESPONSE_SNIPPET_BYTES));
    expect(result.error).toBeUndefined();
  });

  it('drains a moderate answer and reuses the connection for the next attempt', async () => {
    const { url, connections } = await consumer((res) => res.end('y'.repeat(200_000)));
    client = createDeliveryClient({ url, concurrency: 1, timeout: 5_000 });
    for (let i = 0; i < 3; i++) expect((await client.send(claim())).status).toBe(200);
    expect(connections()).toBe(1);
  });

  it('stops reading an endless answer: the status counts, the connection is dropped, the next attempt works', async () => {
    let writing = true;
    const { url } = await consumer((res, index) => {
      if (index > 0) return res.end('second');
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'z');
      const pump = () => {
        while (writing && res.write(chunk));
        if (writing) res.once('drain', pump);
      };
      res.on('close', () => (writing = false));
      pump();
    });
    client = createDeliveryClient({ url, concurrency: 1, timeout: 10_000 });
    const first = await client.send(claim());
    expect(first.status).toBe(200);
    expect(first.response!.byteLength).toBe(RESPONSE_SNIPPET_BYTES);
    expect(first.durationMs).toBeLessThan(5_000);
    const second = await client.send(claim());
    expect(second.status).toBe(200);
    expect(Buffer.from(second.response!).toString()).toBe('second');
  });

  it('gives up on a body that trickles past the deadline, even though each chunk comes in time', async () => {
    const { url } = await consumer((res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(timer));
    });
    client = createDeliveryClient({ url, concurrency: 1, timeout: 400 });
    const result = await client.send(claim());
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/^timeout: no complete answer within 400 ms/);
    expect(result.durationMs).toBeGreaterThanOrEqual(350);
    expect(result.durationMs).toBeLessThan(3_000);
  });

  it('gives each attempt its own deadline, counted from its own start, while others come and go', async () => {
    // The first two never get an answer; the third is answered at once.
    const { url } = await consumer((res, index) => {
      if (index === 2) res.end('ok');
    });
    client = createDeliveryClient({ url, concurrency: 3, timeout: 400 });
    const first = client.send(claim());
    await sleep(250);
    const second = client.send(claim());
    expect((await client.send(claim())).status).toBe(200);
    const [a, b] = await Promise.all([first, second]);
    for (const result of [a, b]) {
      expect(result.error).toMatch(/^timeout: no complete answer within 400 ms/);
      expect(result.durationMs).toBeGreaterThanOrEqual(390);
      expect(result.durationMs).toBeLessThan(3_000);
    }
    // The second ended after the first, by about the time it was sent after it.
    expect(b.startedAt + b.durationMs - (a.startedAt + a.durationMs)).toBeGreaterThanOrEqual(150);
  });

  it('waits for the answer under a timeout longer than setTimeout can take (24.8 days)', async () => {
    const { url } = await consumer((res) => {
      setTimeout(() => res.end('ok'), 100);
    });
    client = createDeliveryClient({ url, concurrency: 1, timeout: 30 * 86_400_000 });
    const result = await client.send(claim());
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(200);
  });

  it('ends an attempt in flight when the shutdown signal aborts, with that as its error', async () => {
    const { url } = await consumer(() => {
      // never answers
    });
    client = createDeliveryClient({ url, concurrency: 2, timeout: 30_000 });
    const shutdown = new AbortController();
    const sending = [client.send(claim(), shutdown.signal), client.send(claim(), shutdown.signal)];
    await sleep(200);
    shutdown.abort();
    for (const result of await Promise.all(sending)) {
      expect(result.status).toBeUndefined();
      expect(result.error).toMatch(/shut down/);
    }
    // An already-aborted signal ends the attempt at once.
    const late = await client.send(claim(), shutdown.signal);
    expect(late.error).toMatch(/shut down/);
  });
});
