/**
 * Drill: the consumer is down for a while (3 s here, 30 s under `npm run drill`), then back.
 * Everything is delivered, the backoff stays capped, and Sluice does not spin while it waits: the
 * circuit breaker holds the destination and probes it one request at a time.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processTest, startGatewayProcess } from '../../helpers/child.js';
import { cpuMs, eventNumbers, FULL, portOutsideEphemeralRange, postN, writeDrillConfig } from '../../helpers/drill.js';
import { tempDir } from '../../helpers/gateway.js';
import { startReceiver } from '../../helpers/receiver.js';
import { sleep, waitUntil } from '../../helpers/wait.js';

const t = processTest();

describe('drill: consumer outage', () => {
  it('delivers everything once the consumer is back, without spinning while it is down', {
    timeout: 120_000,
  }, async () => {
    const outageMs = FULL ? 30_000 : 3_000;
    // Nothing listens there: the consumer is "down" (connection refused) at a known address.
    const url = `http://127.0.0.1:${await portOutsideEphemeralRange()}/`;
    t.tmp = tempDir();
    const config = writeDrillConfig(t.tmp.dir, {
      receiverUrl: url,
      dbPath: join(t.tmp.dir, 'sluice.db'),
      destination: 'concurrency: 8, retry: { initial: 500ms, max: 2s, max_attempts: 1000 }',
    });
    t.child = await startGatewayProcess(config);

    const N = 100;
    for (let n = 0; n < N; n++) expect((await postN(t.child.port, n)).status).toBe(202);
    const cpuBefore = cpuMs(t.child.process.pid!);
    const downSince = Date.now();
    await sleep(outageMs);
    const cpuWhileDown = cpuMs(t.child.process.pid!) - cpuBefore;
    const downFor = Date.now() - downSince;

    // The consumer comes back on the same port the destination names.
    t.receiver = await startReceiver(undefined, Number(new URL(url).port));
    await waitUntil(() => eventNumbers(t.receiver!.received).size === N, 30_000, 'every event after the outage');
    // While down, the breaker holds the destination after a few refused connections and probes it
    // one request at a time, at most once per `initial` (500 ms): beyond the N deliveries after the
    // outage, only the attempts that opened the breaker and the probes are made. Without the breaker
    // every event retried on its own schedule: ~450 attempts in 3 s, a quarter to a third of a core.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(t.tmp.dir, 'sluice.db'), { readonly: true });
    const attempts = (db.prepare('SELECT count(*) AS n FROM attempts').get() as { n: number }).n;
    db.close();
    expect(attempts).toBeLessThanOrEqual(N + 10 + Math.ceil((Date.now() - downSince) / 500));
    expect(cpuWhileDown / downFor).toBeLessThan(0.2);
    console.log(
      `consumer outage ${downFor} ms: gateway CPU ${((cpuWhileDown / downFor) * 100).toFixed(1)}% of a core while down; ${attempts} attempts in all; ${N} events delivered after`,
    );
  });
});
