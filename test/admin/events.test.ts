/**
 * GET /events (keyset pagination, newest first, filters), GET /events/:id (the stored request and
 * every attempt) and DELETE /events/:id, against a real journal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminFixture, startAdminFixture } from '../helpers/admin.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/wait.js';

type Summary = {
  id: string;
  seq: number;
  source: string;
  received_at: string;
  body_size: number;
  deliveries: { destination: string; status: string }[];
};
type Page = { events: Summary[]; next_cursor: string | null };

let fx: AdminFixture;
let receiver: Receiver;
const ids = { a: [] as string[], b: [] as string[] };

beforeAll(async () => {
  receiver = await startReceiver(() => ({ status: 400, body: 'nope: missing field' }));
  fx = await startAdminFixture({
    destinations: { crm: { url: `${receiver.url}/crm` }, erp: { url: `${receiver.url}/erp`, concurrency: 8 } },
    sources: { a: { path: '/in/a', to: 'crm' }, b: { path: '/in/b', to: ['crm', 'erp'] } },
  });
  // crm holds everything (pending); erp answers 400, so b's deliveries to it die.
  await fx.adminJson('/destinations/crm/pause', { method: 'POST' });
  for (let round = 0; round < 6; round++) {
    const batch = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const source = i % 2 === 0 ? 'a' : 'b';
        return [source, await fx.post(`/in/${source}`, JSON.stringify({ round, i }))] as const;
      }),
    );
    for (const [source, id] of batch) ids[source].push(id);
  }
  await waitUntil(
    async () =>
      (await fx.adminJson<{ destinations: { name: string; dead: number }[] }>('/destinations')).destinations[1]!
        .dead === 60,
    30_000,
    '60 dead',
  );
});
afterAll(async () => {
  await fx.close();
  await receiver.close();
});

/** Walks every page of a listing. */
async function walk(
  query: string,
  limit: number,
  start: string | null = null,
): Promise<{ events: Summary[]; pages: number }> {
  const events: Summary[] = [];
  let cursor = start;
  let pages = 0;
  do {
    const page: Page = await fx.adminJson<Page>(`/events?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.events.length).toBeLessThanOrEqual(limit);
    events.push(...page.events);
    cursor = page.next_cursor;
    pages++;
  } while (cursor !== null && pages < 1000);
  return { events, pages };
}

describe('GET /events', () => {
  it('returns every event exactly once across pages, newest first', async () => {
    const { events, pages } = await walk('', 7);
    expect(pages).toBe(Math.ceil(120 / 7));
    expect(events.map((e) => e.id).sort()).toEqual([...ids.a, ...ids.b].sort());
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => y - x));
    expect(new Set(seqs).size).toBe(120);
  });

  it('does not repeat or skip events when new ones arrive between pages', async () => {
    const first = await fx.adminJson<Page>('/events?limit=10');
    const fresh = await fx.post('/in/a', '{"late":true}');
    const rest = await walk('', 25, first.next_cursor);
    const seen = [...first.events, ...rest.events].map((e) => e.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual([...ids.a, ...ids.b].sort());
    expect((await fx.adminJson<Page>('/events?limit=1')).events[0]!.id).toBe(fresh);
    await fx.adminJson(`/events/${fresh}`, { method: 'DELETE' });
  });

  it('filters by source, status and destination, and by receive time', async () => {
    expect((await walk('source=b', 9)).events.map((e) => e.id).sort()).toEqual([...ids.b].sort());
    expect((await walk('status=dead&destination=erp', 11)).events.map((e) => e.id).sort()).toEqual([...ids.b].sort());
    expect((await walk('status=pending&destination=crm', 50)).events).toHaveLength(120);
    expect((await walk('status=delivered', 50)).events).toHaveLength(0);
    expect((await walk('source=a&status=dead', 50)).events).toHaveLength(0);

    const all = (await walk('', 1000)).events;
    const times = [...new Set(all.map((e) => Date.parse(e.received_at)))].sort((x, y) => x - y);
    const since = times[Math.floor(times.length / 4)]!;
    const untilMs = times[Math.floor((times.length * 3) / 4)]!;
    const expected = all
      .filter((e) => Date.parse(e.received_at) >= since && Date.parse(e.received_at) < untilMs)
      .map((e) => e.id);
    expect(expected.length).toBeGreaterThan(0);
    const got = (
      await walk(`since=${encodeURIComponent(new Date(since).toISOString())}&until=${untilMs}`, 13)
    ).events.map((e) => e.id);
    expect(got.sort()).toEqual(expected.sort());
  });

  it('answers 404 not_found for a destination not in the config, as pause does', async () => {
    const res = await fx.admin('/events?destination=nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no destination "nope" in the config' } });
  });

  it('answers 400 invalid_request for a bad query', async () => {
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=ten',
      'status=lost',
      'since=yesterday',
      'until=2024-13-45T99:00:00Z',
      'cursor=..%2Fx',
    ]) {
      const res = await fx.admin(`/events?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code, query).toBe('invalid_request');
    }
    expect((await fx.adminJson<Page>('/events')).events).toHaveLength(50);
  });
});

describe('GET /events/:id', () => {
  it('shows the stored request: headers, text body, query, and every attempt with its response', async () => {
    const id = await fx.post('/in/b?order=7&x=%C3%A9', '{"name":"Zoë ✓"}', { 'x-request-tag': 'abc' });
    await waitUntil(
      async () =>
        (await fx.adminJson<{ deliveries: { status: string }[] }>(`/events/${id}`)).deliveries[1]!.status === 'dead',
      10_000,
      'dead',
    );
    const event = await fx.adminJson(`/events/${id}`);
    expect(event).toMatchObject({
      id,
      source: 'b',
      method: 'POST',
      path: '/in/b',
      query: 'order=7&x=%C3%A9',
      body: '{"name":"Zoë ✓"}',
      body_encoding: 'utf8',
      body_size: Buffer.byteLength('{"name":"Zoë ✓"}'),
    });
    expect(event.headers).toContainEqual(['x-request-tag', 'abc']);
    expect(Date.parse(event.received_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(event.deliveries).toEqual([
      {
        destination: 'crm',
        status: 'pending',
        attempts: 0,
        due_at: expect.any(String),
        finished_at: null,
        last_error: null,
        attempt_log: [],
      },
      {
        destination: 'erp',
        status: 'dead',
        attempts: 1,
        due_at: null,
        finished_at: expect.any(String),
        last_error: expect.stringContaining('400'),
        attempt_log: [
          {
            attempt: 1,
            started_at: expect.any(String),
            duration_ms: expect.any(Number),
            status: 400,
            error: expect.stringContaining('400'),
            response: 'nope: missing field',
            response_encoding: 'utf8',
          },
        ],
      },
    ]);
  });

  it('gives a body that is not UTF-8 in base64', async () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const id = await fx.post('/in/a', bytes, { 'content-type': 'application/octet-stream' });
    const event = await fx.adminJson<{ body: string; body_encoding: string; body_size: number }>(`/events/${id}`);
    expect(event.body_encoding).toBe('base64');
    expect(Buffer.from(event.body, 'base64')).toEqual(Buffer.from(bytes));
    expect(event.body_size).toBe(5);
    await fx.adminJson(`/events/${id}`, { method: 'DELETE' });
  });

  it('takes a unique start of an id, and answers 409 ambiguous listing candidates for a shared one', async () => {
    const all = [...ids.a, ...ids.b].sort();
    const [x, y] = [all[0]!, all[1]!];
    let common = 0;
    while (x[common] === y[common]) common++;
    const unique = x.slice(0, common + 1);
    const others = all.filter((id) => id !== x && id.startsWith(unique));
    if (others.length === 0) {
      expect((await fx.adminJson<{ id: string }>(`/events/${unique}`)).id).toBe(x);
    }
    const res = await fx.admin(`/events/${x.slice(0, common)}`);
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('ambiguous');
    expect(body.error.message).toContain(x);
    expect(body.error.message).toContain(y);
    expect(body.error.message).toContain('give more of the id');
    expect((await fx.adminJson<{ id: string }>(`/events/${x}`)).id).toBe(x);
  });

  it('answers 404 not_found for an unknown id', async () => {
    const res = await fx.admin('/events/does-not-exist');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no event "does-not-exist"' } });
  });
});

describe('DELETE /events/:id', () => {
  it('purges the event with its deliveries; a second delete is 404', async () => {
    const id = await fx.post('/in/a', '{"purge":"me"}');
    expect(await fx.adminJson(`/events/${id}`, { method: 'DELETE' })).toEqual({ id, deleted: true });
    expect((await fx.admin(`/events/${id}`)).status).toBe(404);
    expect((await fx.admin(`/events/${id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await walk('source=a', 1000)).events.map((e) => e.id)).not.toContain(id);
  });
});
