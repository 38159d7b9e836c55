/**
 * `allow_ips` per source, with `server.trust_proxy` deciding whether X-Forwarded-For is believed.
 * The end-to-end cases run on a real listener, where the peer is 127.0.0.1.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { clientAddress, createAllowList, createProxyTrust } from '../../src/ingest/allow-ips.js';
import { ingestFixture, listen } from '../helpers/ingest.js';

describe('clientAddress', () => {
  it('is the peer unless proxies are trusted', () => {
    expect(clientAddress('127.0.0.1', '10.9.9.9', createProxyTrust(false))).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', '10.9.9.9', createProxyTrust(0))).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', null, createProxyTrust(true))).toBe('127.0.0.1');
  });

  it('counts trusted hops back from the peer', () => {
    // client 203.0.113.5 → (spoofed entry 10.0.0.1 sent by the client) → proxy A 198.51.100.2 → proxy B (peer) 127.0.0.1
    const xff = '10.0.0.1, 203.0.113.5,198.51.100.2';
    expect(clientAddress('127.0.0.1', xff, createProxyTrust(1))).toBe('198.51.100.2');
    expect(clientAddress('127.0.0.1', xff, createProxyTrust(2, ['127.0.0.1', '198.51.100.2']))).toBe('203.0.113.5');
    const everyone = ['127.0.0.1', '198.51.100.0/24', '203.0.113.0/24'];
    expect(clientAddress('127.0.0.1', xff, createProxyTrust(true, everyone))).toBe('10.0.0.1');
    expect(clientAddress('127.0.0.1', '203.0.113.5', createProxyTrust(5))).toBe('203.0.113.5');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const trust = createProxyTrust(1, ['10.0.0.0/8']);
    expect(clientAddress('203.0.113.9', '10.1.2.3', trust)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.2', '10.1.2.3, 203.0.113.9', trust)).toBe('203.0.113.9');
  });

  it('walks from the right past trusted proxies only, whatever the hop count says', () => {
    // One proxy (10.0.0.2) appended the real client; the client wrote 10.1.1.1 itself.
    const xff = '10.1.1.1, 203.0.113.9';
    expect(clientAddress('10.0.0.2', xff, createProxyTrust(3, ['10.0.0.0/8']))).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.2', xff, createProxyTrust(false, ['10.0.0.0/8']))).toBe('203.0.113.9');
    // Proxies of ours in the chain are skipped; the first address that is not one is the client.
    expect(clientAddress('10.0.0.2', '198.51.100.4, 10.0.0.7', createProxyTrust(false, ['10.0.0.0/8']))).toBe(
      '198.51.100.4',
    );
  });
});

describe('createAllowList', () => {
  const list = createAllowList(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
  it.each([
    ['10.200.1.1', true],
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['11.0.0.1', false],
    ['2001:db8:1::5', true],
    ['2001:db9::1', false],
    ['::ffff:10.1.2.3', true],
    ['not-an-ip', false],
    [undefined, false],
  ] as const)('%s → %s', (address, allowed) => {
    expect(list.allows(address)).toBe(allowed);
  });
});

describe('allow_ips on a real listener', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
  });

  async function setup(
    allowIps: string[],
    trustProxy: boolean | number = false,
    extra: Record<string, unknown> = {},
    serverKeys: Record<string, unknown> = {},
  ) {
    const fixture = ingestFixture({
      server: { trust_proxy: trustProxy, ...serverKeys },
      sources: { s: { path: '/in/s', to: 'crm', allow_ips: allowIps, ...extra } },
    });
    const server = await listen(fixture);
    cleanup.push(
      () => fixture.close(),
      () => server.close(),
    );
    const send = async (headers: Record<string, string> = {}, method: 'GET' | 'POST' = 'POST', query = '') => {
      const res = await request(`${server.url}/in/s${query}`, {
        method,
        headers,
        ...(method === 'POST' && { body: '{}' }),
      });
      return { status: res.statusCode, body: await res.body.text() };
    };
    return { fixture, send };
  }

  it('accepts an allowed peer and answers 403 to others, storing nothing', async () => {
    const allowed = await setup(['127.0.0.0/8']);
    expect((await allowed.send()).status).toBe(202);
    const denied = await setup(['10.0.0.0/8', '::1']);
    const res = await denied.send();
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({
      error: { code: 'ip_not_allowed', message: '127.0.0.1 may not send to /in/s' },
    });
    expect(denied.fixture.accepted).toEqual([]);
  });

  it('ignores X-Forwarded-For unless trust_proxy says otherwise', async () => {
    const { send } = await setup(['10.0.0.0/8']);
    expect((await send({ 'X-Forwarded-For': '10.1.2.3' })).status).toBe(403);
  });

  it('with trust_proxy: 1, believes only the address our proxy appended', async () => {
    const { send } = await setup(['10.0.0.0/8'], 1);
    expect((await send({ 'X-Forwarded-For': '10.1.2.3' })).status).toBe(202);
    // A client that writes an allowed address itself, in front of what the proxy appended.
    expect((await send({ 'X-Forwarded-For': '10.1.2.3, 198.51.100.9' })).status).toBe(403);
  });

  it('with trust_proxy: true, takes the leftmost address', async () => {
    // Every hop is trusted when every proxy in the chain is one of ours.
    const { send } = await setup(['10.0.0.0/8'], true, {}, { trusted_proxies: ['127.0.0.1', '198.51.100.0/24'] });
    expect((await send({ 'X-Forwarded-For': '10.1.2.3, 198.51.100.9' })).status).toBe(202);
  });

  it('ignores a forged X-Forwarded-For from a client that is not a trusted proxy', async () => {
    // The listener's peer is 127.0.0.1, here a client that sends directly, not one of the proxies.
    const { send } = await setup(['10.0.0.0/8'], 1, {}, { trusted_proxies: ['10.0.0.0/8'] });
    expect((await send({ 'X-Forwarded-For': '10.1.2.3' })).status).toBe(403);
    const direct = await setup(['10.0.0.0/8'], false, {}, { trusted_proxies: ['10.0.0.0/8'] });
    expect((await direct.send({ 'X-Forwarded-For': '10.1.2.3' })).status).toBe(403);
  });

  it('with trusted_proxies, takes the first address from the right that is not a trusted proxy', async () => {
    const { send } = await setup(['10.0.0.0/8'], false, {}, { trusted_proxies: ['127.0.0.1', '192.0.2.0/24'] });
    expect((await send({ 'X-Forwarded-For': '198.51.100.9, 10.1.2.3, 192.0.2.1' })).status).toBe(202);
    expect((await send({ 'X-Forwarded-For': '10.1.2.3, 198.51.100.9, 192.0.2.1' })).status).toBe(403);
  });

  it('checks before answering a handshake', async () => {
    const { send } = await setup(['10.0.0.0/8'], false, { handshake: 'dropbox' });
    expect((await send({}, 'GET', '?challenge=abc')).status).toBe(403);
  });
});
