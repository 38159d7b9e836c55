/**
 * What of the sender's request reaches the consumer besides the body: not the source's own
 * credential nor its cookies (and the journal never holds them), client headers set by Sluice
 * rather than claimed by the sender, and a query that cannot shadow the destination URL's own
 * parameters. Each has its `forward:` option for those who need the sender's version.
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { header, names } from '../helpers/claim.js';
import { gatewayTest, startTestGateway } from '../helpers/gateway.js';
import { startReceiver } from '../helpers/receiver.js';

const t = gatewayTest();

const BASIC = `Basic ${Buffer.from('hooks:pw-1').toString('base64')}`;

async function setup(options: { source?: Record<string, unknown>; destination?: Record<string, unknown> } = {}) {
  const receiver = (t.receiver = await startReceiver());
  const gateway = (t.gateway = await startTestGateway({
    destinations: { crm: { url: `${receiver.url}/hooks?api_key=SECRET`, ...options.destination } },
    sources: {
      shop: {
        path: '/in/shop',
        to: 'crm',
        verify: { type: 'basic', username: 'hooks', password: 'pw-1' },
        ...options.source,
      },
    },
  }));
  return { receiver, gateway };
}

/** Posts through node:http, which sends exactly the headers given (undici adds and refuses some). */
function post(url: string, headers: Record<string, string>, body = '{"a":1}'): Promise<{ status: number; id: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, id: (JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const SENDER_HEADERS = {
  authorization: BASIC,
  cookie: 'sid=abc123',
  'x-signature': 'sha256=deadbeef',
  'x-forwarded-for': '6.6.6.6',
  'x-forwarded-host': 'forged.example',
  'x-forwarded-proto': 'https',
  forwarded: 'for=6.6.6.6;proto=https',
  'x-real-ip': '6.6.6.6',
  'x-kept': 'yes',
};

describe('credentials', () => {
  it("does not forward nor store the source's Authorization nor Cookie; signatures stay", async () => {
    const { receiver, gateway } = await setup();
    const { status, id } = await post(`${gateway.url}/in/shop`, SENDER_HEADERS);
    expect(status).toBe(202);
    await receiver.waitFor(1);
    const got = receiver.received[0]!.rawHeaders;
    expect(names(got).map((n) => n.toLowerCase())).not.toContain('authorization');
    expect(names(got).map((n) => n.toLowerCase())).not.toContain('cookie');
    expect(header(got, 'x-signature')).toBe('sha256=deadbeef');
    expect(header(got, 'x-kept')).toBe('yes');
    const stored = await gateway.journal.getEvent(id);
    expect(stored!.headers.map(([n]) => n.toLowerCase())).not.toContain('authorization');
    expect(JSON.stringify(stored!.headers)).not.toContain('sid=abc123');
  });

  it('forwards them as sent with forward.credentials', async () => {
    const { receiver, gateway } = await setup({ source: { forward: { credentials: true } } });
    expect((await post(`${gateway.url}/in/shop`, SENDER_HEADERS)).status).toBe(202);
    await receiver.waitFor(1);
    const got = receiver.received[0]!.rawHeaders;
    expect(header(got, 'authorization')).toBe(BASIC);
    expect(header(got, 'cookie')).toBe('sid=abc123');
  });
});

describe('client headers', () => {
  it('says what Sluice saw, not what the sender claimed', async () => {
    const { receiver, gateway } = await setup();
    expect((await post(`${gateway.url}/in/shop`, SENDER_HEADERS)).status).toBe(202);
    await receiver.waitFor(1);
    const got = receiver.received[0]!.rawHeaders;
    const lower = names(got).map((n) => n.toLowerCase());
    expect(lower.filter((n) => n === 'x-forwarded-for')).toHaveLength(1);
    expect(header(got, 'x-forwarded-for')).toBe('127.0.0.1');
    expect(header(got, 'x-forwarded-host')).toBe(new URL(gateway.url).host);
    for (const name of ['forwarded', 'x-real-ip', 'x-forwarded-proto']) expect(lower).not.toContain(name);
  });

  it("passes the sender's on as sent with the destination's forward.client_headers", async () => {
    const { receiver, gateway } = await setup({ destination: { forward: { client_headers: true } } });
    expect((await post(`${gateway.url}/in/shop`, SENDER_HEADERS)).status).toBe(202);
    await receiver.waitFor(1);
    const got = receiver.received[0]!.rawHeaders;
    expect(header(got, 'x-forwarded-for')).toBe('6.6.6.6');
    expect(header(got, 'x-forwarded-host')).toBe('forged.example');
    expect(header(got, 'forwarded')).toBe('for=6.6.6.6;proto=https');
    expect(header(got, 'x-real-ip')).toBe('6.6.6.6');
  });
});

describe('query', () => {
  it("never lets a sender's parameter shadow one of the destination URL; the rest is appended as sent", async () => {
    const { receiver, gateway } = await setup();
    const query = 'api_key=attacker&api%5Fkey=again&ref=a%20b&flag';
    expect((await post(`${gateway.url}/in/shop?${query}`, { authorization: BASIC })).status).toBe(202);
    await receiver.waitFor(1);
    expect(receiver.received[0]!.url).toBe('/hooks?api_key=SECRET&ref=a%20b&flag');
  });

  it('sends the destination URL as written with forward.query: false', async () => {
    const { receiver, gateway } = await setup({ destination: { forward: { query: false } } });
    expect((await post(`${gateway.url}/in/shop?ref=1`, { authorization: BASIC })).status).toBe(202);
    await receiver.waitFor(1);
    expect(receiver.received[0]!.url).toBe('/hooks?api_key=SECRET');
  });
});
