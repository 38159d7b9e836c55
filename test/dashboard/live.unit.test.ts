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
import type { DestinationStats, Journal } from '../../src/journal/port.js';
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
    const scheduler = {
      state: () => ({
        mode: 'running',
        paused: false,
        inFlight: 1,
        claimedAhead: 0,
        heldUntil: undefined,
        heldBy: undefined,
        rate: 5,
        concurrency: 4,
        pace: undefined,
      }),
    } as unknown as Scheduler;
    const replays = createReplayTracker();
    replays.start('crm', 20, now);
    const metrics = createMetrics({ defaultMetrics: false });
    const live = createLiveView({
      journal,
      scheduler,
      destinations: config.destinations,
      metrics,
      reporter: createNodeReporter({ scheduler, metrics, destinations: ['crm'], startedAt: now }),
      history: createHistory({ destinations: ['crm'], clock: () => now }),
      activity: createActivity(),
      replays,
      clock: () => now,
    });
    const snapshot = await live.snapshot();
    const crm = snapshot.destinations[0]!;
    expect(crm).toMatchObject({ pending: 3, retrying: 2, in_flight: 1, claimed: 4, backlog: 10 });
    expect(snapshot.replays[0]).toMatchObject({ total: 20, left: 10 });
  });
});
