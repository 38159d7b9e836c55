/**
 * The configured pace holds across a restart of the gateway process: the new process counts what
 * the last one sent within one refill of the bucket (and what it had in flight), instead of
 * starting with a full burst, which a crash loop would repeat at every turn.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processTest, startGatewayProcess } from '../helpers/child.js';
import { tempDir } from '../helpers/gateway.js';
import { postMany } from '../helpers/post.js';
import { startReceiver } from '../helpers/receiver.js';

const t = processTest();

// The bucket refills in burst / rate = 10 s: a restart well within that (a few seconds, on a busy
// machine) shows whether the new process starts with a fresh burst.

/** Spans that break `count ≤ burst + rate·T + slack`, T the time between their first and last arrival. */
function overPace(times: number[], burst: number, ratePerSecond: number, slack: number): string[] {
  const sorted = [...times].sort((a, b) => a - b);
  const over: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) {
      const span = sorted[j]! - sorted[i]!;
      const count = j - i + 1;
      if (count > burst + (ratePerSecond * span) / 1000 + slack) over.push(`${count} in ${Math.round(span)} ms`);
    }
  }
  return over;
}

describe('pacing across a restart', () => {
  it('rate 1/s, burst 10: no span across a kill and restart sees more than burst + rate·T', async () => {
    const receiver = (t.receiver = await startReceiver());
    t.tmp = tempDir();
    const config = join(t.tmp.dir, 'sluice.yaml');
    writeFileSync(
      config,
      `server: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: false }\nstorage: { path: ${join(t.tmp.dir, 'sluice.db')} }\n` +
        `destinations:\n  crm: { url: "${receiver.url}", rate: 1/s, burst: 10, concurrency: 10 }\n` +
        'sources:\n  shop: { path: /in/shop, to: crm }\n',
    );
    t.child = await startGatewayProcess(config);
    await postMany(`http://127.0.0.1:${t.child.port}/in/shop`, 30);
    await receiver.waitFor(10);
    // A crash: no shutdown, whatever was claimed stays in flight in the journal.
    t.child.process.kill('SIGKILL');
    await t.child.exited;
    const killedAt = performance.now();
    const beforeRestart = receiver.received.length;
    t.child = await startGatewayProcess(config);
    await receiver.waitFor(beforeRestart + 8, 30_000);

    const times = receiver.received.map((r) => r.at);
    const firstAfter = times[beforeRestart]! - killedAt;
    // One request of slack for timing; a fresh burst after the restart is up to 10 over.
    expect(overPace(times, 10, 1, 1), `first send ${Math.round(firstAfter)} ms after the kill`).toEqual([]);
  }, 90_000);
});
