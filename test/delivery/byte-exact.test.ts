import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { gatewayTest, startTestGateway } from '../helpers/gateway.js';
import { startReceiver } from '../helpers/receiver.js';

const t = gatewayTest();

async function setup() {
  const receiver = (t.receiver = await startReceiver());
  const gateway = (t.gateway = await startTestGateway({
    destinations: { crm: { url: `${receiver.url}/hooks?k=1` } },
    sources: { shop: { path: '/in/shop', methods: ['POST', 'PUT'], to: 'crm' } },
  }));
  return { receiver, gateway };
}

/** Value of the first header named `name` in a raw header list. */
function header(raw: string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}

describe('byte-exact forwarding', () => {
  const cases: { name: string; contentType: string; body: Buffer }[] = [
    {
      name: 'JSON with unicode and odd spacing',
      contentType: 'application/json; charset=utf-8',
      body: Buffer.from('{ "a":1,\n\t"emoji":"🦆", "nested":{"x":[1,2 ,3]} }  '),
    },
    {
      name: 'form-encoded',
      contentType: 'application/x-www-form-urlencoded',
      body: Buffer.from('a=1&b=hello+world&c=%F0%9F%A6%86&a=2'),
    },
    {
      name: 'binary, not valid UTF-8',
      contentType: 'application/octet-stream',
      body: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37 + 11) % 256)),
    },
    { name: 'XML', contentType: 'text/xml', body: Buffer.from('<?xml version="1.0"?>\r\n<a b="c">\u00e9</a>') },
  ];

  for (const c of cases) {
    it(`delivers ${c.name} unchanged, with the original headers`, async () => {
      const { receiver, gateway } = await setup();
      const res = await request(`${gateway.url}/in/shop?ref=abc&x=1`, {
        method: 'POST',
        headers: [
          'Content-Type',
          c.contentType,
          'X-Custom',
          'one',
          'X-Custom',
          'two',
          'X-Signature',
          'sha256=deadbeef',
          'Connection',
          'keep-alive',
        ],
        body: c.body,
      });
      expect(res.statusCode).toBe(202);
      const { id } = (await res.body.json()) as { id: string };
      expect(id).toMatch(/^[0-9a-f-]{36}$/);

      await receiver.waitFor(1);
      const got = receiver.received[0]!;
      expect(got.method).toBe('POST');
      expect(got.url).toBe('/hooks?k=1&ref=abc&x=1');
      expect(Buffer.compare(got.body, c.body)).toBe(0);
      expect(header(got.rawHeaders, 'content-type')).toBe(c.contentType);
      expect(header(got.rawHeaders, 'x-signature')).toBe('sha256=deadbeef');
      // Repeated headers arrive repeated, in order, not folded.
      const custom = got.rawHeaders.filter(
        (_, i) => i % 2 === 1 && got.rawHeaders[i - 1]!.toLowerCase() === 'x-custom',
      );
      expect(custom).toEqual(['one', 'two']);
      expect(header(got.rawHeaders, 'sluice-event-id')).toBe(id);
      expect(header(got.rawHeaders, 'sluice-attempt')).toBe('1');
      expect(new Date(header(got.rawHeaders, 'sluice-received-at')!).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(header(got.rawHeaders, 'content-length')).toBe(String(c.body.length));
    });
  }

  it('keeps the method and forwards a chunked body as the same bytes', async () => {
    const { receiver, gateway } = await setup();
    const body = Buffer.from(`{"chunked":true,"pad":"${'x'.repeat(70_000)}"}`);
    async function* chunks() {
      for (let i = 0; i < body.length; i += 8192) yield body.subarray(i, i + 8192);
    }
    const res = await request(`${gateway.url}/in/shop`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: Readable.from(chunks()),
    });
    expect(res.statusCode).toBe(202);
    await res.body.dump();
    await receiver.waitFor(1);
    expect(receiver.received[0]!.method).toBe('PUT');
    expect(Buffer.compare(receiver.received[0]!.body, body)).toBe(0);
  });

  it('drops hop-by-hop headers and host, and the sender cannot forge sluice headers', async () => {
    const { receiver, gateway } = await setup();
    // node:http, because undici refuses to send some of these headers itself.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${gateway.url}/in/shop`, {
        method: 'POST',
        headers: {
          connection: 'keep-alive, x-hop',
          'x-hop': 'secret',
          'keep-alive': 'timeout=5',
          te: 'trailers',
          'sluice-event-id': 'forged',
          'x-kept': 'yes',
        },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end('x');
    });
    expect(status).toBe(202);
    await receiver.waitFor(1);
    const names = receiver.received[0]!.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names).not.toContain('x-hop');
    expect(names).not.toContain('te');
    expect(names.filter((n) => n === 'sluice-event-id')).toHaveLength(1);
    expect(header(receiver.received[0]!.rawHeaders, 'sluice-event-id')).not.toBe('forged');
    expect(header(receiver.received[0]!.rawHeaders, 'x-kept')).toBe('yes');
    expect(header(receiver.received[0]!.rawHeaders, 'host')).toBe(new URL(receiver.url).host);
  });
});
