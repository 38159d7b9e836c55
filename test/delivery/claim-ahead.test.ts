/**
 * A destination claims more deliveries than it has free slots (so that a freed slot is refilled
 * without waiting for a commit). What it claimed but did not send must go back to the journal
 * untouched when a pause or shutdown comes: pending, no attempt counted, nothing recorded.
 */
import { describe, expect, it } from 'vitest';
import { openSqliteJournal } from '../../src/journal/sqlite/journal.js';
import { gatewayTest, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postMany } from '../helpers/post.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const t = gatewayTest();

/** Starts a gateway draining to a receiver that takes 50 ms per request, two at a time, and posts `n` events. */
async function draining(n: number): Promise<{ gateway: TestGateway; receiver: Receiver; ids: string[] }> {
  const receiver = (t.receiver = await startReceiver(() => ({ delayMs: 50 })));
  const gateway = (t.gateway = await startTestGateway({
    destinations: { crm: { url: receiver.url, concurrency: 2 } },
    sources: { shop: { path: '/in/shop', to: 'crm' } },
  }));
  const ids = await postMany(`${gateway.url}/in/shop`, n);
  return { gateway, receiver, ids };
}

/** Resolves once the journal shows more deliveries leased than the concurrency cap allows at the consumer. */
async function claimedAhead(g: TestGateway, r: Receiver): Promise<number> {
  let inFlight = 0;
  await waitUntil(
    async () => (inFlight = (await g.journal.countDeliveries('crm')).in_flight) > 2,
    5_000,
    'the destination to claim ahead of its free slots',
  );
  expect(r.maxInFlight).toBeLessThanOrEqual(2);
  return inFlight;
}

/** Every delivery is either delivered once per request the consumer saw, or untouched: pending, 0 attempts, no record. */
async function expectUntouchedOrDelivered(journal: TestGateway['journal'], ids: string[], requests: number) {
  let delivered = 0;
  for (const id of ids) {
    const d = (await journal.getEvent(id))!.deliveries[0]!;
    if (d.status === 'delivered') {
      delivered += 1;
      expect(d.attempts).toBe(1);
      expect(d.attemptLog).toHaveLength(1);
    } else {
      expect(d).toMatchObject({ status: 'pending', attempts: 0, attemptLog: [] });
    }
  }
  expect(delivered).toBe(requests);
  expect(delivered).toBeGreaterThan(0);
  expect(delivered).toBeLessThan(ids.length);
}

describe('claiming ahead', () => {
  it('a pause gives back what was claimed and not sent; resume delivers it', async () => {
    const { gateway, receiver, ids } = await draining(300);
    expect(await claimedAhead(gateway, receiver)).toBeGreaterThan(2);
    await gateway.scheduler.pause('crm');
    // The two requests at the consumer finish; everything else claimed goes back.
    await waitUntil(
      async () => (await gateway.journal.countDeliveries('crm')).in_flight === 0,
      2_000,
      'the claims to come back',
    );
    expect((await gateway.journal.countDeliveries('crm')).in_flight).toBe(0);
    await expectUntouchedOrDelivered(gateway.journal, ids, receiver.received.length);

    await gateway.scheduler.resume('crm');
    await receiver.waitFor(ids.length, 30_000);
    expect(new Set(receiver.received.map((r) => r.headers['sluice-event-id'])).size).toBe(ids.length);
  });

  it('a Retry-After hold gives back what was claimed; every recorded attempt is a request the consumer saw', async () => {
    let held = false;
    const receiver = (t.receiver = await startReceiver((r) => {
      if (r.index === 20) {
        held = true;
        return { status: 429, headers: { 'retry-after': '2' } };
      }
      return { delayMs: 50 };
    }));
    const gateway = (t.gateway = await startTestGateway({
      destinations: {
        crm: { url: receiver.url, concurrency: 2, retry: { initial: '50ms', max: '200ms', max_hold: '5s' } },
      },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    }));
    const ids = await postMany(`${gateway.url}/in/shop`, 120);
    await waitUntil(() => held, 30_000, 'the 429');
    // During the hold nothing stays leased but what was at the consumer when the 429 came.
    await sleep(500);
    expect((await gateway.journal.countDeliveries('crm')).in_flight).toBe(0);
    await receiver.waitFor(ids.length + 1, 30_000);
    await waitUntil(
      async () => (await gateway.journal.countDeliveries('crm')).delivered >= ids.length,
      6_000,
      'every delivery recorded',
    );

    const requests = new Map<string, number>();
    for (const r of receiver.received) {
      const id = String(r.headers['sluice-event-id']);
      requests.set(id, (requests.get(id) ?? 0) + 1);
    }
    for (const id of ids) {
      const d = (await gateway.journal.getEvent(id))!.deliveries[0]!;
      expect(d.status).toBe('delivered');
      expect(d.attempts).toBe(requests.get(id));
      expect(d.attemptLog).toHaveLength(d.attempts);
    }
  });

  it('shutdown gives back what was claimed and not sent', async () => {
    const { gateway, receiver, ids } = await draining(300);
    await claimedAhead(gateway, receiver);
    await gateway.close();
    const journal = openSqliteJournal({ path: gateway.config.storage.path });
    try {
      expect((await journal.countDeliveries('crm')).in_flight).toBe(0);
      await expectUntouchedOrDelivered(journal, ids, receiver.received.length);
    } finally {
      await journal.close();
    }
  });
});
