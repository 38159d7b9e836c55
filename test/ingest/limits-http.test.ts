import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

/** Sends a body over a real socket, chunked when `chunked`, and returns the status the server answered. */
function send(url: string, body: Buffer, chunked: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    if (chunked) {
      for (let i = 0; i < body.length; i += 4096) req.write(body.subarray(i, i + 4096));
      req.end();
    } else req.end(body);
  });
}

describe('body limit on the real listener', () => {
  async function setup() {
    gateway = await startTestGateway({
      server: { max_body: '16kb' },
      destinations: { crm: { url: 'http://127.0.0.1:9/' } },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    });
    return `${gateway.url}/in/shop`;
  }

  it('answers 413 from Content-Length, and 413 for a chunked body counted as it streams', async () => {
    const url = await setup();
    expect(await send(url, Buffer.alloc(64 * 1024), false)).toBe(413);
    expect(await send(url, Buffer.alloc(64 * 1024), true)).toBe(413);
    expect(await gateway!.journal.countDeliveries('crm')).toMatchObject({ pending: 0, in_flight: 0 });
  });

  it('takes bodies up to the limit either way, and keeps serving after a 413', async () => {
    const url = await setup();
    expect(await send(url, Buffer.alloc(16 * 1024, 1), false)).toBe(202);
    expect(await send(url, Buffer.alloc(16 * 1024, 2), true)).toBe(202);
    expect(await send(url, Buffer.alloc(17 * 1024), true)).toBe(413);
    expect(await send(url, Buffer.alloc(10, 3), false)).toBe(202);
    const counts = await gateway!.journal.countDeliveries('crm');
    expect(counts.pending + counts.in_flight + counts.dead).toBe(3);
  });
});
