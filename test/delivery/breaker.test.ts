/**
 * A consumer that cannot be reached is held and probed one request at a time (circuit-breaker.ts),
 * instead of every waiting event retrying on its own schedule; once it answers, the destination
 * goes back to full concurrency.
 */
import { describe, expect, it } from 'vitest';
import { generatedToken } from '../helpers/admin.js';
import { portOutsideEphemeralRange } from '../helpers/drill.js';
import { gatewayTest, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postMany } from '../helpers/post.js';
import { startReceiver } from '../helpers/receiver.js';
import { sleep, waitUntil } from '../helpers/wait.js';

const t = gatewayTest();

describe('circuit breaker', () => {
  it('probes a consumer that refuses connections one request at a time, then resumes at full concurrency', async () => {
    // Nothing listens there yet: connections are refused until the receiver starts on it below.
    const port = await portOutsideEphemeralRange();
    const gateway = (t.gateway = await startTestGateway({
      destinations: {
        crm: {
          url: `http://127.0.0.1:${port}/`,
          concurrency: 8,
          retry: { initial: '200ms', max: '400ms', max_attempts: 1000 },
        },
      },
      sources: { shop: { path: '/in/shop', to: 'crm' } },
    }));
    const started = Date.now();
    const ids = await postMany(`${gateway.url}/in/shop`, 50);
    await sleep(2_000);
    const attemptsWhileDown = await countAttempts(gateway, ids);
    // Probes are at least 200 ms apart over however long this really took (a loaded machine stretches it).
    const probesAtMost = Math.ceil((Date.now() - started) / 200);
    // Without the breaker each of the 50 events is tried every 200-400 ms: well over 150 attempts.
    // With it: the first few refusals, then one probe per 200-400 ms.
    expect(attemptsWhileDown).toBeGreaterThan(0);
    expect(attemptsWhileDown).toBeLessThanOrEqual(8 + probesAtMost);
    expect(gateway.scheduler.state('crm')!.inFlight).toBeLessThanOrEqual(1);
    // Operators see why: the admin API names the hold (between probes, which is nearly all the time).
    let row: { held_by: string | null; held_until: string | null } | undefined;
    await waitUntil(
      async () => {
        const { destinations } = (await (
          await fetch(`${gateway.adminUrl}/destinations`, {
            headers: { authorization: `Bearer ${generatedToken(gateway.config)}` },
          })
        ).json()) as {
          destinations: (typeof row & { name: string })[];
        };
        row = destinations.find((d) => d.name === 'crm');
        return row?.held_by === 'unreachable';
      },
      1_000,
      'the admin API to name the hold',
    );
    expect(row).toMatchObject({ held_by: 'unreachable', held_until: expect.any(String) });

    const receiver = (t.receiver = await startReceiver(() => ({ delayMs: 30 }), port));
    await receiver.waitFor(ids.length, 15_000);
    expect(receiver.maxInFlight).toBeGreaterThan(1);
  });
});

async function countAttempts(g: TestGateway, ids: string[]): Promise<number> {
  let n = 0;
  for (const id of ids) n += (await g.journal.getEvent(id))!.deliveries[0]!.attemptLog.length;
  return n;
}
