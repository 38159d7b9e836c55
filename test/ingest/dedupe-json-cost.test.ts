/**
 * A `json:` dedupe key must not let one sender's body hold up everyone else's acknowledgement:
 * finding the key may not cost more than a scan of the body, whatever its shape.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gateway: TestGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

/** Posts `body` over a real socket; resolves with the status and the milliseconds until the answer. */
function post(url: string, body: Buffer): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `[[[…]]]`, `size` bytes: valid JSON that is costly to build as values. */
function nestedArrays(size: number): Buffer {
  const depth = size / 2;
  return Buffer.concat([Buffer.alloc(depth, '['), Buffer.alloc(depth, ']')]);
}

describe('json: dedupe key under hostile bodies', () => {
  // Timing on a shared machine: a retry absorbs a descheduled run, not a parse in the way (that costs every run).
  it('acknowledges a small request on another source while 1 MB nested-array bodies arrive', { retry: 2 }, async () => {
    gateway = await startTestGateway({
      server: { max_body: '2mb' },
      destinations: { crm: { url: 'http://127.0.0.1:9/' } },
      sources: {
        keyed: { path: '/in/keyed', to: 'crm', dedupe: { key: 'json:/data/id' } },
        plain: { path: '/in/plain', to: 'crm' },
      },
    });
    // Warm up both routes and the journal.
    expect((await post(`${gateway.url}/in/plain`, Buffer.from('{}'))).status).toBe(202);
    expect((await post(`${gateway.url}/in/keyed`, Buffer.from('{"data":{"id":"w"}}'))).status).toBe(202);

    const heavy = nestedArrays(1024 * 1024);
    // The longest the event loop (the HTTP thread: the gateway runs in this process) went without a turn.
    let longestStall = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestStall = Math.max(longestStall, now - last);
      last = now;
    }, 5);
    const big = [1, 2].map(() => post(`${gateway!.url}/in/keyed`, heavy));
    const small = post(`${gateway.url}/in/plain`, Buffer.from('{"n":1}'));
    const answers = await Promise.all([...big, small]).finally(() => clearInterval(ticker));
    const smallMs = answers[2]!.ms;
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    // Journaling 2 MB takes its time too; the bound is wide, the point is that no parse stands in front.
    console.log(
      `small request acknowledged in ${Math.round(smallMs)} ms; longest stall ${Math.round(longestStall)} ms`,
    );
    expect(longestStall).toBeLessThan(150);
    expect(smallMs).toBeLessThan(250);
  });
});
