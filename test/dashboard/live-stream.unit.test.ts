/**
 * The live stream's listeners: a stream's tick must not add a listener that outlives it, and a
 * closed stream must leave none on the gateway's signal (which lives as long as the gateway).
 */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actions } from '../../src/dashboard/actions.js';
import { createDashboardApp } from '../../src/dashboard/app.js';
import { createAssets } from '../../src/dashboard/assets.js';
import { createHistory } from '../../src/dashboard/history.js';
import type { LiveSnapshot } from '../../src/dashboard/live.js';
import { createSignIns } from '../../src/dashboard/sign-ins.js';
import { waitUntil } from '../helpers/wait.js';

const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);
afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

function liveApp(signal: AbortSignal) {
  const signIns = createSignIns();
  const snapshot: LiveSnapshot = { at: 0, destinations: [], activity: [], replays: [] };
  const app = createDashboardApp({
    token: 't'.repeat(32),
    signIns,
    assets: createAssets(),
    actions: {} as Actions, // not reached: the stream takes no action
    history: createHistory({ destinations: [] }),
    live: { snapshot: async () => snapshot },
    config: { sources: {}, destinations: {} },
    api: async () => new Response('{}'),
    liveIntervalMs: 5,
    signal,
  });
  return { app, cookie: `sluice_signin=${signIns.create().id}` };
}

/** Reads until `count` live messages came, then cancels the stream. */
async function readTicks(res: Response, count: number): Promise<number> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  const deadline = Date.now() + 10_000;
  while (seen.split('event: live').length - 1 < count && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decoder.decode(value);
  }
  await reader.cancel();
  return seen.split('event: live').length - 1;
}

describe('live stream listeners', () => {
  it('keeps one listener on the gateway signal while open, none after, and adds none per tick', async () => {
    process.on('warning', onWarning);
    const gateway = new AbortController();
    const { app, cookie } = liveApp(gateway.signal);
    for (let stream = 0; stream < 12; stream++) {
      const res = await app.request('/api/live', { headers: { cookie } });
      expect(res.status).toBe(200);
      expect(await readTicks(res, 15)).toBeGreaterThanOrEqual(15);
      await waitUntil(() => getEventListeners(gateway.signal, 'abort').length === 0, 5000, 'the stream to let go');
    }
    expect(getEventListeners(gateway.signal, 'abort')).toHaveLength(0);
    // Node warns past 10 listeners on one signal: per tick (the stream's own) or per stream (the gateway's).
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('ends an open stream at shutdown and lets go of the gateway signal', async () => {
    const gateway = new AbortController();
    const { app, cookie } = liveApp(gateway.signal);
    const res = await app.request('/api/live', { headers: { cookie } });
    const reader = res.body!.getReader();
    await reader.read();
    expect(getEventListeners(gateway.signal, 'abort')).toHaveLength(1);
    gateway.abort();
    const deadline = Date.now() + 10_000;
    let done = false;
    while (!done && Date.now() < deadline) done = (await reader.read()).done;
    expect(done).toBe(true);
  });
});
