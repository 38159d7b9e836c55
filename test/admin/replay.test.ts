/**
 * POST /events/:id/replay and POST /destinations/:name/replay deliver finished events again
 * (dead by default, delivered on request, by time range), with every attempt kept on record.
 */
import { describe, expect, it } from 'vitest';
import { type AdminFixture, adminTest, startAdminFixture } from '../helpers/admin.js';
import { startReceiver } from '../helpers/receiver.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const t = adminTest();

/** A consumer that answers 400 (dead at once) until it is fixed. */
async function brokenConsumer() {
  const state = { fixed: false };
  t.receiver = await startReceiver(() => ({
    status: state.fixed ? 200 : 400,
    body: state.fixed ? 'thanks' : 'bad field',
  }));
  return state;
}

type Detail = {
  deliveries: {
    destination: string;
    status: string;
    attempts: number;
    attempt_log: { status: number | null; response: string | null }[];
  }[];
  received_at: string;
};
const statusOf = async (f: AdminFixture, id: string) =>
  (await f.adminJson<Detail>(`/events/${id}`)).deliveries.map((d) => d.status);

describe('replay one event', () => {
  it('delivers a dead event again once the consumer is fixed, keeping every attempt', async () => {
    const consumer = await brokenConsumer();
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: t.receiver!.url } } }));
    const id = await fx.post('/in/shop', '{"order":1}');
    await waitUntil(async () => (await statusOf(fx!, id))[0] === 'dead', 10_000, 'dead');

    consumer.fixed = true;
    expect(await fx.adminJson(`/events/${id}/replay`, { method: 'POST' })).toEqual({ replayed: 1 });
    await t.receiver!.waitFor(2);
    await waitUntil(async () => (await statusOf(fx!, id))[0] === 'delivered', 10_000, 'delivered');
    expect(t.receiver!.received.map((r) => r.headers['sluice-event-id'])).toEqual([id, id]);
    expect(t.receiver!.received[1]!.body.toString()).toBe('{"order":1}');
    const detail = await fx.adminJson<Detail>(`/events/${id}`);
    expect(detail.deliveries[0]).toMatchObject({ destination: 'crm', status: 'delivered', attempts: 2 });
    expect(detail.deliveries[0]!.attempt_log.map((a) => [a.status, a.response])).toEqual([
      [400, 'bad field'],
      [200, 'thanks'],
    ]);

    // A delivered event can be sent again on purpose.
    expect(await fx.adminJson(`/events/${id}/replay`, { method: 'POST', body: { destination: 'crm' } })).toEqual({
      replayed: 1,
    });
    await t.receiver!.waitFor(3);
  });

  it('answers 404 for an unknown event or destination, 409 while the event is not finished, 400 for a bad body', async () => {
    const receiver = (t.receiver = await startReceiver());
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: receiver.url } } }));
    await fx.adminJson('/destinations/crm/pause', { method: 'POST' });
    const id = await fx.post('/in/shop', '{}');
    const code = async (path: string, body?: unknown) => {
      const res = await fx!.admin(path, { method: 'POST', body });
      return [res.status, ((await res.json()) as { error?: { code: string } }).error?.code];
    };
    expect(await code('/events/no-such-event/replay')).toEqual([404, 'not_found']);
    expect(await code(`/events/${id}/replay`, { destination: 'erp' })).toEqual([404, 'not_found']);
    expect(await code(`/events/${id}/replay`)).toEqual([409, 'not_finished']);
    expect(await code(`/events/${id}/replay`, { destination: 7 })).toEqual([400, 'invalid_request']);
    expect(await code('/destinations/crm/replay', { status: 'pending' })).toEqual([400, 'invalid_request']);
    expect(await code('/destinations/crm/replay', { since: 'yesterday' })).toEqual([400, 'invalid_request']);
    const raw = await fx.app.request('/destinations/crm/replay', {
      method: 'POST',
      body: '{"status":',
      headers: { authorization: 'Bearer admin-token-for-tests', 'content-type': 'application/json' },
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });
});

describe('replay a destination', () => {
  it('replays dead events by time range, then all, then delivered ones on request', async () => {
    const consumer = await brokenConsumer();
    const fx = (t.fx = await startAdminFixture({ destinations: { crm: { url: t.receiver!.url, concurrency: 4 } } }));
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push(await fx.post('/in/shop', JSON.stringify({ n: i })));
      await sleep(5); // distinct receive times
    }
    await waitUntil(
      async () =>
        (await fx!.adminJson<{ destinations: { dead: number }[] }>('/destinations')).destinations[0]!.dead === 6,
      10_000,
      '6 dead',
    );
    consumer.fixed = true;
    const receivedAt = await Promise.all(
      ids.map(async (id) => (await fx!.adminJson<Detail>(`/events/${id}`)).received_at),
    );

    // [event 2, event 4): ISO since, epoch-ms until.
    const range = { since: receivedAt[2], until: Date.parse(receivedAt[4]!) };
    expect(await fx.adminJson('/destinations/crm/replay', { method: 'POST', body: range })).toEqual({ replayed: 2 });
    await t.receiver!.waitFor(8);
    expect(
      t
        .receiver!.received.slice(6)
        .map((r) => r.headers['sluice-event-id'])
        .sort(),
    ).toEqual([ids[2], ids[3]].sort());
    await waitUntil(
      async () =>
        (await fx!.adminJson<{ destinations: { dead: number }[] }>('/destinations')).destinations[0]!.dead === 4,
      10_000,
      '2 delivered',
    );

    expect(await fx.adminJson('/destinations/crm/replay', { method: 'POST' })).toEqual({ replayed: 4 });
    await t.receiver!.waitFor(12);
    await waitUntil(
      async () =>
        (await fx!.adminJson<{ destinations: { delivered_last_hour: number }[] }>('/destinations')).destinations[0]!
          .delivered_last_hour === 6,
      10_000,
      'all delivered',
    );
    // Nothing dead is left to replay.
    expect(await fx.adminJson('/destinations/crm/replay', { method: 'POST', body: {} })).toEqual({ replayed: 0 });

    expect(await fx.adminJson('/destinations/crm/replay', { method: 'POST', body: { status: 'delivered' } })).toEqual({
      replayed: 6,
    });
    await t.receiver!.waitFor(18);
    expect(new Set(t.receiver!.received.slice(12).map((r) => r.headers['sluice-event-id']))).toEqual(new Set(ids));
  });
});
