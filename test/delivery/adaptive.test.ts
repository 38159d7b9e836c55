/**
 * Adaptive pacing against real HTTP consumers with a capacity of their own: a worker pool with a
 * queue (503 beyond) and a rate limiter (plain 429 beyond). The gateway learns each one's pace
 * with few refusals, never passes its ceilings, reports the pace, and starts from it after a restart.
 */
import { describe, expect, it } from 'vitest';
import type { PaceEvent } from '../../src/events.js';
import { startGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import { perTest, tempDir, testConfig } from '../helpers/gateway.js';
import { type PacedConsumer, startLimiter, startPool } from '../helpers/paced-consumers.js';
import { postMany } from '../helpers/post.js';
import { waitUntil } from '../helpers/wait.js';

type Started = Awaited<ReturnType<typeof startGateway>>;
const t = perTest<{ gateways: Started[]; consumer?: PacedConsumer; dir?: ReturnType<typeof tempDir> }>(async (s) => {
  for (const g of s.gateways ?? []) await g.close();
  await s.consumer?.close();
  s.dir?.remove();
});

/** A gateway with one adaptive destination `crm` to `url`, journal in `dir`. */
async function gateway(url: string, dir: string, ceilings: { rate: string; concurrency: number }): Promise<Started> {
  const config = testConfig(
    {
      destinations: { crm: { url, ...ceilings, adaptive: true, retry: { initial: '200ms', max: '2s' } } },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    },
    dir,
  );
  const started = await startGateway({ config, logger: silentLogger() });
  t.gateways = [...(t.gateways ?? []), started];
  return started;
}

describe('adaptive pacing', () => {
  it('a pool of 4 workers with a queue of 4: all delivered with few refusals, concurrency learned below its ceiling', async () => {
    const consumer = (t.consumer = await startPool({ workers: () => 4, serviceMs: 50, queue: 4 }));
    t.dir = tempDir();
    const g = await gateway(consumer.url, t.dir.dir, { rate: '500/s', concurrency: 32 });
    const paces: PaceEvent[] = [];
    g.events.on('destination:pace', (p) => paces.push(p));
    await postMany(`${g.url}/in/shop`, 150);
    await waitUntil(() => consumer.accepted.length >= 150, 30_000, 'the pool to take 150 events');
    // A fixed pace at these ceilings gets hundreds of 503s (test/bench: adaptive-pool).
    expect(consumer.refused).toBeLessThanOrEqual(60);
    const state = g.scheduler.state('crm')!;
    expect(state.pace).toBeDefined();
    // It starts at a quarter of the ceiling (8): it must have learned the pool's 8 (4 + a queue of 4), not grown past.
    expect(state.concurrency).toBeLessThanOrEqual(16);
    expect(paces.every((p) => p.concurrency <= 32 && (p.rate ?? 0) <= 500)).toBe(true);
  });

  it('a limiter at 20/s: all delivered with few refusals, the rate learned, refusals counted in the metrics', async () => {
    const consumer = (t.consumer = await startLimiter({ rate: () => 20, burst: 5 }));
    t.dir = tempDir();
    const g = await gateway(consumer.url, t.dir.dir, { rate: '100/s', concurrency: 8 });
    await postMany(`${g.url}/in/shop`, 120);
    await waitUntil(() => consumer.accepted.length >= 120, 30_000, 'the limiter to take 120 events');
    expect(consumer.refused).toBeLessThanOrEqual(45);
    // 120 at 20/s is 6 s at best; the posting itself takes a share of that.
    const span = consumer.accepted.at(-1)! - consumer.accepted[0]!;
    expect(span).toBeLessThanOrEqual(15_000);
    const state = g.scheduler.state('crm')!;
    // Well under the 100/s ceiling: it starts at 25/s and oscillates around the limiter's 20/s (cut by
    // 0.7 on a refusal, then grown back along the cubic curve), so 3× the limit is the wide bound.
    expect(state.rate!).toBeLessThan(60);
    const metrics = await g.metrics.registry.getSingleMetricAsString('sluice_consumer_refusals_total');
    if (consumer.refused > 0) expect(metrics).toMatch(/status="429"\} [1-9]/);
    const rate = await g.metrics.registry.getSingleMetricAsString('sluice_destination_rate');
    expect(rate).toMatch(/sluice_destination_rate\{destination="crm"\} \d/);
  });

  it('the learned pace survives a restart: the next start begins from it, not from the ceilings', async () => {
    const consumer = (t.consumer = await startLimiter({ rate: () => 10, burst: 2 }));
    t.dir = tempDir();
    const first = await gateway(consumer.url, t.dir.dir, { rate: '200/s', concurrency: 8 });
    await postMany(`${first.url}/in/shop`, 60);
    // All of them: with a backlog left, the second start would grow its pace before it is read here.
    await waitUntil(() => consumer.accepted.length >= 60, 30_000, 'the limiter to take the 60 events');
    const learned = first.scheduler.state('crm')!.rate!;
    // Within 2.5 times the limiter's 10/s (it starts at 50/s, a quarter of the ceiling).
    expect(learned).toBeLessThanOrEqual(25);
    await first.close();
    const stored = (
      await (await gateway(consumer.url, t.dir.dir, { rate: '200/s', concurrency: 8 })).journal.destinationPaces()
    ).crm;
    expect(stored).toBeDefined();
    expect(stored!.rate!).toBeLessThanOrEqual(25);
    const second = t.gateways!.at(-1)!;
    const state = second.scheduler.state('crm')!;
    expect(state.pace).toMatchObject({ signal: 'restored', mode: 'slow_start' });
    expect(state.rate!).toBeLessThanOrEqual(stored!.rate!);
  });
});
