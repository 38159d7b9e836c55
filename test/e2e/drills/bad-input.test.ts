/**
 * Drill: bad input from the network. A real gateway process takes garbage, oversized and
 * malformed requests and slow senders, and must stay up, keep memory bounded, answer each with
 * the right 4xx (or close it), and still deliver every good event.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processTest, startGatewayProcess } from '../../helpers/child.js';
import { tempDir } from '../../helpers/gateway.js';
import { post } from '../../helpers/post.js';
import { startReceiver } from '../../helpers/receiver.js';
import { sleep } from '../../helpers/wait.js';

const t = processTest();

/** Writes `data` (in pieces, `gapMs` apart) on a raw socket; resolves what came back once the server closes or `waitMs` passes. */
function raw(
  port: number,
  pieces: (string | Buffer)[],
  { gapMs = 0, waitMs = 3_000, end = false } = {},
): Promise<{ answer: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let answer = '';
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ answer, closedByServer });
    };
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    setTimeout(() => finish(false), waitMs);
    void (async () => {
      for (const piece of pieces) {
        if (done || socket.destroyed) return;
        socket.write(piece);
        if (gapMs) await sleep(gapMs);
      }
      if (end) socket.end();
    })();
  });
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

describe('drill: bad input', () => {
  it('stays up, answers each bad request with a 4xx or closes it, and still delivers good events byte-exact', async () => {
    t.receiver = await startReceiver();
    t.tmp = tempDir();
    const config = join(t.tmp.dir, 'sluice.yaml');
    writeFileSync(
      config,
      `server: { host: 127.0.0.1, port: 0, max_body: 64kb, headers_timeout: 500ms, request_timeout: 1s }
admin: { port: 0 }
storage: { path: ${join(t.tmp.dir, 'sluice.db')} }
destinations:
  crm: { url: ${t.receiver.url}/hooks, concurrency: 4 }
sources:
  shop: { path: /in/shop, to: crm }
`,
    );
    t.child = await startGatewayProcess(config);
    const port = t.child.port;
    const rssBefore = rssKb(t.child.process.pid!);

    const head = (extra = '') => `POST /in/shop HTTP/1.1\r\nHost: x\r\n${extra}`;
    const results = await Promise.all([
      // Random bytes instead of HTTP.
      ...Array.from({ length: 10 }, () => raw(port, [randomBytes(2048)])),
      // One 64 KiB header, and thousands of small ones: 431.
      raw(port, [head(`X-Big: ${'a'.repeat(64 * 1024)}\r\nContent-Length: 0\r\n\r\n`)]),
      raw(port, [
        head(`${Array.from({ length: 5_000 }, (_, i) => `X-H-${i}: v\r\n`).join('')}Content-Length: 0\r\n\r\n`),
      ]),
      // A sender that trickles its headers, one byte at a time: cut off.
      raw(port, head().split('').concat(Array(100).fill('X')), { gapMs: 50, waitMs: 4_000 }),
      // A truncated chunked body: the sender goes away mid-body.
      raw(port, [head('Transfer-Encoding: chunked\r\n\r\n'), '10\r\n0123456789abcdef\r\n', '400\r\npartial'], {
        end: true,
        waitMs: 1_500,
      }),
      // Malformed chunk framing.
      raw(port, [head('Transfer-Encoding: chunked\r\n\r\n'), 'zz\r\nnot hex\r\n0\r\n\r\n']),
    ]);

    const [bigHeader, manyHeaders, slow, truncated, badChunks] = results.slice(10);
    for (const r of results.slice(0, 10)) expect(r.answer === '' || r.answer.startsWith('HTTP/1.1 400')).toBe(true);
    expect(bigHeader!.answer).toMatch(/^HTTP\/1\.1 431/);
    expect(manyHeaders!.answer).toMatch(/^HTTP\/1\.1 431/);
    expect(slow!.closedByServer).toBe(true);
    expect(slow!.answer === '' || /^HTTP\/1\.1 408/.test(slow!.answer)).toBe(true);
    expect(truncated!.answer).not.toMatch(/^HTTP\/1\.1 2/);
    expect(badChunks!.answer).toMatch(/^HTTP\/1\.1 400/);

    // Good events, among them bodies and header values that are not valid UTF-8.
    const bodies = Array.from({ length: 20 }, (_, i) =>
      i % 2 ? Buffer.from([0xff, 0xfe, 0x80, i]) : Buffer.from(`{"n":${i}}`),
    );
    for (const body of bodies)
      expect((await post(`http://127.0.0.1:${port}/in/shop`, body, { 'x-latin1': 'caf\u00e9' })).status).toBe(202);
    await t.receiver.waitFor(20, 15_000);
    const got = t.receiver.received.map((r) => r.body.toString('hex')).sort();
    expect(got).toEqual(bodies.map((b) => b.toString('hex')).sort());

    expect(t.child.process.exitCode).toBeNull();
    expect(rssKb(t.child.process.pid!) - rssBefore).toBeLessThan(100 * 1024);
    // Nothing from the bad requests was journaled: exactly the 20 good events were delivered.
    await sleep(300);
    expect(t.receiver.received).toHaveLength(20);
  });
});
