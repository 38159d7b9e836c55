/**
 * Drill: the consumer is down for a while (3 s here, 30 s under `npm run drill`), then back.
 * Everything is delivered, the backoff stays capped, and Sluice does not spin while it waits.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGatewayProcess, type Child } from '../helpers/child.js';
import { FULL, cpuMs, eventNumbers, postN, waitUntil, writeDrillConfig } from '../helpers/drill.js';
import { tempDir } from '../helpers/gateway.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

let receiver: Receiver | undefined;
let child: (Child & { port: number }) | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  child?.process.kill('SIGKILL');
  await receiver?.close();
  tmp?.remove();
  receiver = child = tmp = undefined;
});

describe('drill: consumer outage', () => {
  it('delivers everything once the consumer is back, without spinning while it is down', { timeout: 120_000 }, async () => {
    const outageMs = FULL ? 30_000 : 3_000;
    // Reserve a port, then close it: the consumer is "down" (connection refused) at a known address.
    const placeholder = await startReceiver();
    const url = placeholder.url;
    await placeholder.close();
    tmp = tempDir();
    const config = writeDrillConfig(tmp.dir, { receiverUrl: url, dbPath: join(tmp.dir, 'sluice.db'), destination: 'concurrency: 8, retry: { initial: 500ms, max: 2s, max_attempts: 1000 }' });
    child = await startGatewayProcess(config);

    const N = 100;
    for (let n = 0; n < N; n++) expect((await postN(child.port, n)).status).toBe(202);
    const cpuBefore = cpuMs(child.process.pid!);
    const downSince = Date.now();
    await new Promise((r) => setTimeout(r, outageMs));
    const cpuWhileDown = cpuMs(child.process.pid!) - cpuBefore;
    const downFor = Date.now() - downSince;

    // The consumer comes back on the same port the destination names.
    receiver = await startReceiver(undefined, Number(new URL(url).port));
    await waitUntil(() => eventNumbers(receiver!.received).size === N, 30_000, 'every event after the outage');
    // While down, the attempts follow the backoff schedule (each event at most once per `initial`),
    // and the CPU they cost stays under most of a core: a hot loop would use all of it. (Each attempt
    // costs two fsynced writes, claim and outcome: ~150 attempts/s measured ~30% of a core here.)
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(tmp.dir, 'sluice.db'), { readonly: true });
    const attempts = (db.prepare('SELECT count(*) AS n FROM attempts').get() as { n: number }).n;
    db.close();
    expect(attempts).toBeLessThanOrEqual(N * (2 + Math.ceil((Date.now() - downSince) / 500)));
    expect(cpuWhileDown / downFor).toBeLessThan(0.8);
    console.log(`consumer outage ${downFor} ms: gateway CPU ${((cpuWhileDown / downFor) * 100).toFixed(1)}% of a core while down; ${attempts} attempts in all; ${N} events delivered after`);
  });
});
