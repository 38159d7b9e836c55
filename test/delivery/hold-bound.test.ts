/**
 * A hold is never longer than `retry.max_hold` (default `retry.max`), also one restored from the
 * journal at start (an older version stored a consumer's Retry-After as given, e.g. a day); the
 * stored hold is cut to that bound too, so that each restart does not cut it afresh.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../src/gateway.js';
import { openJournal } from '../../src/journal/open.js';
import { silentLogger } from '../../src/log.js';
import { tempDir, testConfig } from '../helpers/gateway.js';
import { post } from '../helpers/post.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';

let gateway: Gateway | undefined;
let receiver: Receiver | undefined;
const tmp = tempDir();
afterEach(async () => {
  await gateway?.close();
  await receiver?.close();
  gateway = receiver = undefined;
  tmp.remove();
});

describe('a hold restored at start', () => {
  it('is cut to retry.max: a day-long hold stored earlier ends within seconds', async () => {
    receiver = await startReceiver();
    const config = testConfig(
      {
        destinations: { crm: { url: receiver.url, retry: { initial: '100ms', max: '2s' } } },
        sources: { shop: { path: '/in/shop', to: 'crm' } },
      },
      tmp.dir,
    );
    const old = await openJournal(config.storage);
    await old.setHold('crm', Date.now() + 86_400_000, Date.now());
    await old.close();

    const startedAt = Date.now();
    gateway = await startGateway({ config, logger: silentLogger() });
    const state = gateway.scheduler.state('crm')!;
    expect(state.mode).toBe('held');
    expect(state.heldUntil).toBeLessThanOrEqual(Date.now() + 2_000);
    await post(`${gateway.url}/in/shop`, '{}');
    await receiver.waitFor(1, 10_000);
    expect(Date.now() - startedAt).toBeLessThan(10_000);

    // The journal keeps the cut hold, not the day.
    await gateway.close();
    gateway = undefined;
    const reopened = await openJournal(config.storage);
    const held = await reopened.heldDestinations(startedAt - 1);
    await reopened.close();
    expect(held.crm ?? 0).toBeLessThanOrEqual(startedAt + 5_000);
  });
});
