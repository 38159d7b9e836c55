/**
 * A consumer's Retry-After hold outlives a restart: the journal keeps it, and a gateway started on
 * the same file sends nothing to that destination before the time the consumer asked for.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/log.js';
import { tempDir, testConfig } from '../helpers/gateway.js';
import { post } from '../helpers/post.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { sleep, waitUntil } from '../helpers/wait.js';

let gateway: Gateway | undefined;
let receiver: Receiver | undefined;
const tmp = tempDir();
afterEach(async () => {
  await gateway?.close();
  await receiver?.close();
  gateway = receiver = undefined;
  tmp.remove();
});

describe('Retry-After hold', () => {
  it('survives a restart: the new process sends nothing before the hold ends', async () => {
    receiver = await startReceiver(() => ({ status: 429, headers: { 'retry-after': '60' } }));
    const config = testConfig(
      { destinations: { crm: { url: receiver.url } }, sources: { shop: { path: '/in/shop', to: 'crm' } } },
      tmp.dir,
    );
    gateway = await startGateway({ config, logger: silentLogger() });
    await post(`${gateway.url}/in/shop`, '{"n":1}');
    await receiver.waitFor(1);
    await waitUntil(() => gateway!.scheduler.state('crm')?.heldUntil !== undefined, 2_000, 'the hold');
    const heldUntil = gateway.scheduler.state('crm')!.heldUntil!;
    expect(heldUntil).toBeGreaterThan(Date.now() + 50_000);
    await gateway.close();

    gateway = await startGateway({ config, logger: silentLogger() });
    expect(gateway.scheduler.state('crm')).toMatchObject({ heldUntil, heldBy: 'retry_after' });
    await post(`${gateway.url}/in/shop`, '{"n":2}');
    await sleep(1_500);
    expect(receiver.received).toHaveLength(1);
  });
});
