import { describe, expect, it } from 'vitest';
import { createHistory, runHistorySampler } from '../../src/dashboard/history.js';
import { createGatewayEvents } from '../../src/events.js';
import type { StoredEvent } from '../../src/journal/port.js';

describe('dashboard history', () => {
  it('turns the typed events of an interval into per-second rates in a sample', () => {
    let now = 1_000_000;
    const history = createHistory({ destinations: ['crm', 'erp'], clock: () => now });
    const events = createGatewayEvents();
    const unsubscribe = history.subscribe(events);
    for (let i = 0; i < 30; i++)
      events.emit('ingest:accepted', { event: {} as StoredEvent, destinations: ['crm', 'erp'] });
    for (let i = 0; i < 20; i++)
      events.emit('delivery:attempt', { destination: 'crm', outcome: 'delivered', status: 200, durationMs: 1 });
    events.emit('delivery:attempt', { destination: 'crm', outcome: 'retry', status: 503, durationMs: 1 });
    events.emit('delivery:attempt', { destination: 'crm', outcome: 'dead', status: undefined, durationMs: 1 });
    now += 10_000;
    expect(history.sample('crm', 10)).toEqual({ at: now, backlog: 10, ingested: 3, delivered: 2, refused: 0.2 });
    expect(history.sample('erp', 30)).toMatchObject({ ingested: 3, delivered: 0, refused: 0 });
    // The next interval starts from zero.
    now += 10_000;
    expect(history.sample('crm', 10)).toMatchObject({ ingested: 0, delivered: 0, refused: 0 });
    unsubscribe();
    events.emit('ingest:accepted', { event: {} as StoredEvent, destinations: ['crm'] });
    now += 10_000;
    expect(history.sample('crm', 10)?.ingested).toBe(0);
    expect(history.samples('crm')).toHaveLength(3);
    expect(history.sample('nope', 1)).toBeUndefined();
  });

  it('keeps one hour of samples and drops the oldest', () => {
    let now = 0;
    const history = createHistory({ destinations: ['crm'], clock: () => now });
    for (let i = 1; i <= 400; i++) history.sample('crm', i, (now = i * 10_000));
    const samples = history.samples('crm');
    expect(samples).toHaveLength(360);
    expect(samples[0]!.backlog).toBe(41);
    expect(samples.at(-1)!.backlog).toBe(400);
  });

  it('answers live rates over the last full seconds', () => {
    let now = 100_000;
    const history = createHistory({ destinations: ['crm'], clock: () => now });
    for (let s = 0; s < 20; s++) {
      now = 100_000 + s * 1000 + 500;
      history.ingested(['crm']);
      history.ingested(['crm']);
      history.attempted('crm', true);
    }
    now = 120_000;
    expect(history.liveRates('crm')).toEqual({ in: 2, out: 1 });
    now = 200_000; // nothing for a while
    expect(history.liveRates('crm')).toEqual({ in: 0, out: 0 });
  });

  it('samples every destination on each tick until aborted, and survives a failed read', async () => {
    const history = createHistory({ destinations: ['crm', 'erp'], intervalMs: 20 });
    const stop = new AbortController();
    let reads = 0;
    const loop = runHistorySampler({
      history,
      destinations: ['crm', 'erp'],
      signal: stop.signal,
      backlogOf: async (name) => {
        reads += 1;
        if (name === 'erp' && reads === 2) throw new Error('journal busy');
        return 7;
      },
    });
    while (history.samples('crm').length < 3) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await loop;
    expect(history.samples('crm').every((s) => s.backlog === 7)).toBe(true);
    expect(history.samples('erp').length).toBeGreaterThanOrEqual(history.samples('crm').length - 2);
  });
});
