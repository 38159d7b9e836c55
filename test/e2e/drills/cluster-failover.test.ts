/**
 * Drill: three `sluice` processes on one PostgreSQL journal. Events are posted through all three;
 * while the backlog drains at the destination's pace, two nodes are killed with kill -9, one after
 * the other, and the first one killed is started again on the same database while the backlog
 * still drains. Every acknowledged event must arrive, no one-second window at the consumer may hold
 * more than rate + burst requests (the pace is the cluster's, not each node's, and a node that
 * rejoins takes its share of it, not a pace of its own), delivery must go on within seconds of each
 * kill (the longest silence at the consumer after each is reported), and the restarted node must
 * be ready and deliver part of the backlog. Each node's config sends to its own URL on the one
 * consumer (`/hooks?node=<i>`), so the consumer can tell which node sent each request.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { runCli, startGatewayProcess } from '../../helpers/child.js';
import { clusterDrill } from '../../helpers/cluster.js';
import { eventNumbers, FULL, postN } from '../../helpers/drill.js';
import { tempDir } from '../../helpers/gateway.js';
import { requirePostgres } from '../../helpers/postgres.js';
import { startReceiver } from '../../helpers/receiver.js';
import { sleep, waitUntil } from '../../helpers/wait.js';

const available = await requirePostgres('the multi-node drill');

const RATE = 40;
const BURST = 5;
const TOKEN = 'cluster-drill-token';

/** Most requests that arrived within any one second. */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= 1_000) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** Longest gap between arrivals from `from` until the last arrival before `to` (ms). */
function longestSilence(times: number[], from: number, to: number): number {
  const inside = times.filter((t) => t >= from && t < to).sort((a, b) => a - b);
  let longest = 0;
  let previous = from;
  for (const t of inside) {
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return longest;
}

/** Which node sent a request: the `node` query parameter of the URL its config sends to. */
function sentBy(url: string): number {
  return Number(new URL(url, 'http://consumer').searchParams.get('node'));
}

describe.skipIf(!available)('drill: three nodes on PostgreSQL, two killed while draining, one rejoining', () => {
  const drill = clusterDrill();

  it('delivers every acknowledged event, at the cluster pace, through two kills and a rejoin', {
    timeout: 240_000,
  }, async () => {
    const { db, nodes } = drill;
    // At 40/s, 10 s of backlog: several seconds of it are left once the restarted node is up.
    const events = FULL ? 1_200 : 400;
    const receiver = (drill.receiver = await startReceiver(() => ({ delayMs: 20 })));
    const tmp = (drill.tmp = tempDir());
    const configs = [0, 1, 2].map((i) => {
      const dir = join(tmp.dir, `node${i}`);
      mkdirSync(dir);
      const file = join(dir, 'sluice.yaml');
      writeFileSync(
        file,
        `server: { host: 127.0.0.1, port: 0 }
admin: { port: 0, token: ${TOKEN} }
storage: { path: ${join(dir, 'unused.db')}, url: "${db.url}" }
log: { level: info }
destinations:
  crm: { url: "${receiver.url}/hooks?node=${i}", rate: ${RATE}/s, burst: ${BURST}, concurrency: 8, timeout: 2s }
sources:
  shop: { path: /in/shop, to: crm }
`,
      );
      return file;
    });
    // Started together: they migrate the new database under one advisory lock.
    nodes.push(...(await Promise.all(configs.map((c) => startGatewayProcess(c, 30_000)))));

    const acked = new Set<number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 12 }, async (_, sender) => {
        while (next < events) {
          const n = next++;
          const node = nodes[(n + sender) % 3]!;
          if ((await postN(node.port, n)).status === 202) acked.add(n);
        }
      }),
    );
    expect(acked.size).toBe(events);

    const times = () => receiver.received.map((r) => r.at);
    await sleep(2_000);
    const killedAt = [Date.now()];
    const firstKill = performance.now();
    nodes[0]!.process.kill('SIGKILL');
    await nodes[0]!.exited;
    // Node 0 comes back on the same database and config while the others drain; the second kill
    // waits for it, so that it drains beside node 2 afterwards.
    const restarted = await startGatewayProcess(configs[0]!, 30_000);
    nodes.push(restarted);
    const rejoinedAt = performance.now();
    const ready = await request(`http://127.0.0.1:${restarted.port}/readyz`);
    await ready.body.dump();
    expect(ready.statusCode).toBe(200);
    // `sluice status` on the restarted node lists the three live nodes (the killed one is gone from
    // the listing once its last report is 5 s old: it may still show here), with what each drains.
    const status = runCli(['status', '--url', restarted.adminUrl!, '--token', TOKEN]);
    const code = await status.exited;
    const listed = status.output();
    expect(code, listed).toBe(0);
    console.log(`sluice status on the restarted node:\n${listed}`);
    expect(listed).toMatch(/NODES: [34] live on the shared journal/);
    for (const n of [restarted, nodes[1]!, nodes[2]!]) expect(listed).toContain(`:${n.process.pid}`);
    expect(listed).toMatch(/\(this\)/);
    expect(listed).toMatch(/crm \d+ in flight/);
    await sleep(Math.max(0, 3_000 - (performance.now() - firstKill)));
    killedAt.push(Date.now());
    const secondKill = performance.now();
    nodes[1]!.process.kill('SIGKILL');
    await nodes[1]!.exited;

    const arrived = () => eventNumbers(receiver.received);
    await waitUntil(
      () => {
        const seen = arrived();
        return [...acked].every((n) => seen.has(n));
      },
      FULL ? 120_000 : 60_000,
      () => `every acknowledged event (${arrived().size} of ${acked.size} so far)`,
      { intervalMs: 100 },
    );
    const end = performance.now();
    const silenceAfterFirst = longestSilence(times(), firstKill, secondKill);
    const silenceAfterSecond = longestSilence(times(), secondKill, end);
    const busiest = busiestSecond(times());
    const duplicates = receiver.received.length - arrived().size;
    // Requests node 0 sent after its restart (its first process was dead by then: none of them is its).
    const byRejoined = receiver.received.filter((r) => sentBy(r.url) === 0 && r.at >= rejoinedAt).length;
    const perNode = [0, 1, 2].map((i) => receiver.received.filter((r) => sentBy(r.url) === i).length);
    // What the killed nodes held: deliveries whose lease ran out, and when another node took each back
    // (each counted from the kill that ended its renewals: the first kill after its last renewal). A lease that ran out is claimed before the backlog, so
    // each is taken back once its 3 s lease has run out, not once the backlog due before it is through.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    // A lost attempt's start is recorded as its last lease's start: the node's last renewal.
    const { rows: takenBack } = await client.query<{ renewed: string; at: string }>(
      `SELECT lost.started_at AS renewed, next.started_at AS at FROM attempts lost
       JOIN attempts next ON next.delivery_id = lost.delivery_id AND next.attempt = lost.attempt + 1
       WHERE lost.error LIKE 'lease expired%'`,
    );
    await client.end();
    const killOf = (renewed: number) => killedAt.findIndex((at) => at >= renewed);
    const takenBackAfter = (i: number) =>
      takenBack.filter((r) => killOf(Number(r.renewed)) === i).map((r) => Number(r.at) - killedAt[i]!);
    const failover = (i: number) => {
      const after = takenBackAfter(i);
      return after.length ? `${Math.min(...after)}–${Math.max(...after)}` : 'none';
    };
    console.log(
      `3 nodes, ${events} events at ${RATE}/s burst ${BURST}: all delivered; busiest second ${busiest} (limit ${RATE + BURST}); ` +
        `longest silence after kill 1: ${Math.round(silenceAfterFirst)} ms, after kill 2: ${Math.round(silenceAfterSecond)} ms; ` +
        `${duplicates} duplicates; ${takenBack.length} leases taken back, ${failover(0)} ms after kill 1, ` +
        `${failover(1)} ms after kill 2; restarted node 0 ready ${Math.round(rejoinedAt - firstKill)} ms after kill 1, ` +
        `sent ${byRejoined} after its restart; requests per node ${perNode.join('/')}`,
    );
    expect(busiest).toBeLessThanOrEqual(RATE + BURST);
    // A dead node's deliveries go out again soon after its 3 s leases run out; wide margin.
    for (const i of [0, 1]) for (const ms of takenBackAfter(i)) expect(ms).toBeLessThan(8_000);
    // Delivery goes on within 5 s of a kill; wide margin for a loaded machine.
    expect(silenceAfterFirst).toBeLessThan(8_000);
    expect(silenceAfterSecond).toBeLessThan(8_000);
    // Only what the killed nodes had in flight may come twice.
    expect(duplicates).toBeLessThanOrEqual(2 * 3 * 8);
    // The restarted node takes part: it claims from the shared backlog (several seconds of it were
    // left, at least half of which it drained beside only node 2).
    expect(byRejoined).toBeGreaterThan(0);
  });
});
