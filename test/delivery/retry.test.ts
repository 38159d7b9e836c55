import { describe, expect, it } from 'vitest';
import type { DeliveryRecord } from '../../src/journal/port.js';
import { gatewayTest, startTestGateway } from '../helpers/gateway.js';
import { post, postMany } from '../helpers/post.js';
import { type Receiver, type Reply, startReceiver } from '../helpers/receiver.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const t = gatewayTest();

const fastRetry = { initial: '50ms', max: '200ms' };

async function setup(reply: (n: number, body: string) => Reply, destination: Record<string, unknown> = {}) {
  const receiver = (t.receiver = await startReceiver((r) => reply(r.index, r.body.toString())));
  const gateway = (t.gateway = await startTestGateway({
    destinations: {
      crm: { url: receiver.url, ...destination, retry: { ...fastRetry, ...(destination.retry as object) } },
    },
    sources: { shop: { path: '/in/shop', to: 'crm' } },
  }));
  return { receiver, gateway };
}

/** Waits until the event's delivery leaves pending/in_flight; returns it. */
async function settled(id: string, timeoutMs = 10_000) {
  let d: DeliveryRecord | undefined;
  await waitUntil(
    async () => {
      d = (await t.gateway!.journal.getEvent(id))!.deliveries[0]!;
      return d.status === 'delivered' || d.status === 'dead';
    },
    timeoutMs,
    () => `the delivery to settle (still ${d?.status})`,
  );
  return d!;
}

function attemptHeader(r: Receiver, i: number) {
  return r.received[i]!.headers['sluice-attempt'];
}

describe('retries', () => {
  it('retries 5xx with backoff until a 2xx, recording every attempt', async () => {
    const { receiver, gateway } = await setup((n) => (n < 2 ? { status: 500, body: `boom ${n}` } : { status: 204 }));
    const { id } = await post(`${gateway.url}/in/shop`, '{}');
    const d = await settled(id!);
    expect(d.status).toBe('delivered');
    expect(d.attempts).toBe(3);
    expect(d.attemptLog.map((a) => [a.attempt, a.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 204],
    ]);
    expect(Buffer.from(d.attemptLog[0]!.response!).toString()).toBe('boom 0');
    expect(d.attemptLog[0]!.error).toMatch(/500/);
    expect(d.attemptLog[2]!.error).toBeUndefined();
    expect([0, 1, 2].map((i) => attemptHeader(receiver, i))).toEqual(['1', '2', '3']);
    // Backoff is at least `initial` between attempts.
    expect(receiver.received[1]!.at - receiver.received[0]!.at).toBeGreaterThanOrEqual(45);
    expect(receiver.received[2]!.at - receiver.received[1]!.at).toBeGreaterThanOrEqual(45);
  });

  it('retries 408 and 429, network errors and timeouts', async () => {
    const { receiver, gateway } = await setup(
      (n) => [{ status: 408 }, { status: 429 }, { delayMs: 1_000 }, { status: 200 }][n] ?? {},
      { timeout: '300ms' },
    );
    const { id } = await post(`${gateway.url}/in/shop`, '{}');
    const d = await settled(id!);
    expect(d.status).toBe('delivered');
    expect(d.attemptLog.map((a) => a.status ?? 'none')).toEqual([408, 429, 'none', 200]);
    expect(d.attemptLog[2]!.error).toMatch(/timeout/i);
    expect(receiver.received).toHaveLength(4);
  });

  it('records a connection failure and retries it', async () => {
    const closed = await startReceiver();
    const closedPort = new URL(closed.url).port;
    await closed.close();
    const gateway = (t.gateway = await startTestGateway({
      destinations: { crm: { url: `http://127.0.0.1:${closedPort}/`, retry: { ...fastRetry, max_attempts: 2 } } },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    }));
    const { id } = await post(`${gateway.url}/in/shop`, '{}');
    const d = await settled(id!);
    expect(d.status).toBe('dead');
    expect(d.attemptLog).toHaveLength(2);
    expect(d.attemptLog[0]!.error).toMatch(/ECONNREFUSED/);
  });

  it('is dead after max_attempts', async () => {
    const { receiver, gateway } = await setup(() => ({ status: 503 }), { retry: { max_attempts: 3 } });
    const { id } = await post(`${gateway.url}/in/shop`, '{}');
    const d = await settled(id!);
    expect(d.status).toBe('dead');
    expect(d.attempts).toBe(3);
    expect(d.attemptLog).toHaveLength(3);
    expect(d.lastError).toMatch(/gave up after 3 attempts/);
    await sleep(300);
    expect(receiver.received).toHaveLength(3);
  });

  it('is dead at once on a 4xx other than 408 and 429', async () => {
    const { receiver, gateway } = await setup(() => ({ status: 422, body: 'bad payload' }));
    const { id } = await post(`${gateway.url}/in/shop`, '{}');
    const d = await settled(id!);
    expect(d.status).toBe('dead');
    expect(d.attemptLog).toHaveLength(1);
    expect(Buffer.from(d.attemptLog[0]!.response!).toString()).toBe('bad payload');
    await sleep(300);
    expect(receiver.received).toHaveLength(1);
  });

  it('is dead once the next attempt would pass max_age', async () => {
    const { gateway } = await setup(() => ({ status: 500 }), { retry: { initial: '1s', max: '1s', max_age: '500ms' } });
    const { id } = await post(`${gateway.url}/in/shop`, '{}');
    const d = await settled(id!);
    expect(d.status).toBe('dead');
    expect(d.attempts).toBe(1);
    expect(d.lastError).toMatch(/max_age/);
  });
});

describe('Retry-After', () => {
  it('sets the earliest next attempt and holds the whole destination on 429', async () => {
    const { receiver, gateway } = await setup(
      (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : {}),
      // max_hold: Retry-After is bounded by retry.max (200 ms here) unless told otherwise.
      { concurrency: 4, retry: { max_hold: '5s' } },
    );
    const [first] = await postMany(`${gateway.url}/in/shop`, 1);
    await receiver.waitFor(1);
    const others = await postMany(`${gateway.url}/in/shop`, 3);
    await receiver.waitFor(5, 10_000);
    const t0 = receiver.received[0]!.at;
    // Nothing reached the consumer during the second it asked for, neither the retry nor the newer events.
    for (const r of receiver.received.slice(1)) expect(r.at - t0).toBeGreaterThanOrEqual(900);
    expect((await settled(first!)).attempts).toBe(2);
    for (const id of others) expect((await settled(id)).status).toBe('delivered');
  });

  it('accepts an HTTP date on 503', async () => {
    const { receiver, gateway } = await setup(
      (n) => (n === 0 ? { status: 503, headers: { 'retry-after': new Date(Date.now() + 2_000).toUTCString() } } : {}),
      { retry: { max_hold: '5s' } },
    );
    const { id } = await post(`${gateway.url}/in/shop`, '{}');
    const d = await settled(id!);
    expect(d.status).toBe('delivered');
    // HTTP dates have 1 s resolution: at least ~1 s passed.
    expect(receiver.received[1]!.at - receiver.received[0]!.at).toBeGreaterThanOrEqual(900);
  });
});

describe('fifo ordering', () => {
  it('keeps ingest order through a retry: a retrying event holds back the rest', async () => {
    const { receiver, gateway } = await setup((n) => (n < 2 ? { status: 500 } : {}), { ordering: 'fifo' });
    const ids = await postMany(`${gateway.url}/in/shop`, 5);
    await receiver.waitFor(7);
    const order = receiver.received.map((r) => (JSON.parse(r.body.toString()) as { n: number }).n);
    expect(order).toEqual([0, 0, 0, 1, 2, 3, 4]);
    for (const id of ids) expect((await settled(id)).status).toBe('delivered');
    expect(receiver.maxInFlight).toBe(1);
  });

  it('moves past a dead head', async () => {
    const { receiver, gateway } = await setup((_, body) => (body === '{"n":0}' ? { status: 400 } : {}), {
      ordering: 'fifo',
    });
    await postMany(`${gateway.url}/in/shop`, 3);
    await receiver.waitFor(3);
    expect(receiver.received.map((r) => r.body.toString())).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
  });
});
