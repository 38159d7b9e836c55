/**
 * The live view's backlog is the same figure as `sluice status`: pending, retrying, at the consumer
 * and claimed (ahead of a free slot, or leases of a stopped process), and a bulk replay's progress
 * is bounded by it.
 */

import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/admin/metrics.js';
import { createNodeReporter } from '../../src/cluster/node-report.js';
import { createActivity, createReplayTracker } from '../../src/dashboard/activity.js';
import { createHistory } from '../../src/dashboard/history.js';
import { createLiveView } from '../../src/dashboard/live.js';
import type { Scheduler } from '../../src/delivery/scheduler.js';
import type { DestinationState } from '../../src/delivery/types.js';
import type { DestinationStats, Journal, NodeRecord } from '../../src/journal/port.js';
import { testConfig } from '../helpers/gateway.js';

describe('live view', () => {
  it('counts claimed deliveries in the backlog and in replay progress', async () => {
    const now = 1_000_000;
    const config = testConfig(
      { sources: {}, destinations: { crm: { url: 'http://127.0.0.1:9/', rate: '5/s' } } },
      '/nowhere',
    );
    // The journal counts 5 claimed; the loop has 1 of them at the consumer.
    const stats: DestinationStats = {
      pending: 3,
      inFlight: 5,
      retrying: 2,
      dead: 0,
      deliveredLastHour: 0,
      deliveredLastMinute: 0,
      oldestUnfinishedAt: now - 5000,
    };
    const journal = { destinationStats: async () => stats } as unknown as Journal;
    const replays = createReplayTracker();
    replays.start('crm', 20, now);
    const live = liveView(journal, runningScheduler(5), config, now, replays);
    const snapshot = await live.snapshot();
    const crm = snapshot.destinations[0]!;
    expect(crm).toMatchObject({ pending: 3, retrying: 2, in_flight: 1, claimed: 4, backlog: 10 });
    expect(snapshot.replays[0]).toMatchObject({ total: 20, left: 10 });
  });

  it('with several nodes on one journal: lists them, and counts their requests in flight and pace', async () => {
    const now = 1_000_000;
    const config = testConfig(
      { sources: {}, destinations: { crm: { url: 'http://127.0.0.1:9/', rate: '50/s', concurrency: 8 } } },
      '/nowhere',
    );
    const stats: DestinationStats = {
      pending: 10,
      inFlight: 4,
      retrying: 0,
      dead: 0,
      deliveredLastHour: 0,
      deliveredLastMinute: 0,
      oldestUnfinishedAt: now - 5000,
    };
    const other: NodeRecord = {
      id: 'other',
      host: 'web-2',
      pid: 7,
      version: '0.1.0',
      listeners: {},
      startedAt: now - 60_000,
      seenAt: now - 500,
      draining: { crm: { sending: 3, claimed: 0, deliveredPerSecond: 20, rate: 25, concurrency: 4 } },
    };
    // The journal as several nodes share it: it lists the other node's last report.
    const journal = {
      destinationStats: async () => stats,
      nodes: async () => [other],
      nodeId: 'me',
    } as unknown as Journal;
    const live = liveView(journal, runningScheduler(25), config, now);
    const snapshot = await live.snapshot();
    expect(snapshot.destinations[0]).toMatchObject({
      in_flight: 4, // 1 here, 3 on web-2
      claimed: 0,
      pace: { rate_per_second: 50, concurrency: 8, nodes: 2 },
    });
    expect(snapshot.nodes?.map((n) => [n.label.split(':')[1], n.self])).toEqual([
      ['7', false],
      [String(process.pid), true],
    ]);
    expect(snapshot.nodes?.[0]?.draining).toEqual([{ destination: 'crm', in_flight: 3, per_second: 20 }]);
  });
});

/** A scheduler whose one loop runs with one request at the consumer, at `rate`, 4 at once. */
function runningScheduler(rate: number): Scheduler {
  const state: DestinationState = {
    mode: 'running',
    paused: false,
    inFlight: 1,
    claimedAhead: 0,
    heldUntil: undefined,
    heldBy: undefined,
    rate,
    concurrency: 4,
    pace: undefined,
  };
  return { state: () => state } as unknown as Scheduler;
}

/** The live view of `crm` on this journal and scheduler, at `now`. */
function liveView(
  journal: Journal,
  scheduler: Scheduler,
  config: ReturnType<typeof testConfig>,
  now: number,
  replays = createReplayTracker(),
) {
  const metrics = createMetrics({ defaultMetrics: false });
  return createLiveView({
    journal,
    scheduler,
    destinations: config.destinations,
    metrics,
    reporter: createNodeReporter({ scheduler, metrics, destinations: ['crm'], startedAt: now - 1_000 }),
    history: createHistory({ destinations: ['crm'], clock: () => now }),
    activity: createActivity(),
    replays,
    clock: () => now,
  });
}
