/**
 * A bulk replay of many dead events does not starve live traffic: events posted after the replay
 * reach the consumer long before the replayed backlog is through, and the backlog is still
 * delivered in full, within the destination's rate.
 */
import { describe, expect, it } from 'vitest';
import { adminTest, startAdminFixture } from '../helpers/admin.js';
import { startReceiver } from '../helpers/receiver.js';

const DEAD = 2_000;
const LIVE = 10;

const t = adminTest();

describe('bulk replay and live events', () => {
  it(`gives live events their share during a replay of ${DEAD} dead events`, { timeout: 180_000 }, async () => {
    const receiver = (t.receiver = await startReceiver());
    // 300/s: the replay takes at least ~6.7 s to go through.
    const fx = (t.fx = await startAdminFixture({
      destinations: { crm: { url: receiver.url, rate: '300/s', burst: 1, concurrency: 2 } },
    }));
    const { journal } = fx;

    // Make DEAD dead deliveries through the journal port: stored while paused, then claimed and failed for good.
    await fx.adminJson('/destinations/crm/pause', { method: 'POST' });
    const now = Date.now();
    await Promise.all(
      Array.from({ length: DEAD }, (_, i) =>
        journal.append({
          source: 'shop',
          method: 'POST',
          path: '/in/shop',
          query: '',
          headers: [['content-type', 'application/json']],
          body: Buffer.from(JSON.stringify({ old: i })),
          remoteAddr: null,
          receivedAt: now,
          destinations: ['crm'],
        }),
      ),
    );
    const claims = await journal.claim({
      destination: 'crm',
      limit: DEAD,
      now: Date.now(),
      leaseMs: 600_000,
      fifo: false,
    });
    expect(claims).toHaveLength(DEAD);
    await Promise.all(
      claims.map((c) =>
        journal.complete(
          c,
          { attempt: c.attempt, startedAt: Date.now(), durationMs: 1, status: 400, error: 'HTTP 400' },
          { kind: 'dead' },
        ),
      ),
    );
    expect((await fx.adminJson<{ destinations: { dead: number }[] }>('/destinations')).destinations[0]!.dead).toBe(
      DEAD,
    );
    await fx.adminJson('/destinations/crm/resume', { method: 'POST' });

    expect(await fx.adminJson('/destinations/crm/replay', { method: 'POST' })).toEqual({ replayed: DEAD });
    await Promise.all(Array.from({ length: LIVE }, (_, i) => fx!.post('/in/shop', JSON.stringify({ live: i }))));

    await receiver.waitFor(DEAD + LIVE, 150_000);
    const kinds = receiver.received.map((r) => ('live' in (JSON.parse(r.body.toString()) as object) ? 'live' : 'old'));
    const lastLive = kinds.lastIndexOf('live');
    const replayedAfterLastLive = kinds.slice(lastLive + 1).filter((k) => k === 'old').length;
    // Queued behind the replay, the live events would come last; they come while most of it still waits.
    expect(kinds.filter((k) => k === 'live')).toHaveLength(LIVE);
    expect(replayedAfterLastLive).toBeGreaterThan(DEAD / 2);
    // Every replayed event arrives, once.
    const old = new Set(
      receiver.received
        .map((r) => (JSON.parse(r.body.toString()) as { old?: number }).old)
        .filter((n) => n !== undefined),
    );
    expect(old.size).toBe(DEAD);
  });
});
