/**
 * The delivery side's main-thread work, alone: one destination loop (concurrency 32, the gateway's
 * scheduler, undici client, metrics and event bus) draining `events` deliveries to `sluice sink`
 * (another process, from dist/), with the journal replaced by an in-memory queue that answers at
 * once, so that neither the writer thread nor its messages are counted. Under callgrind, whose
 * instruction counts depend little on what else the machine does:
 *
 *   valgrind --tool=callgrind --separate-threads=yes --smc-check=all-non-file --cache-sim=no \
 *     --callgrind-out-file=/tmp/cg.out node --import tsx test/bench/micro/delivery-main.ts 4000 4000
 *
 * it zeroes and dumps the counts itself around the measured deliveries (after the warm-up ones),
 * through `callgrind_control`: the `totals` of the dump's thread 1 file (`/tmp/cg.out.1-01`) over
 * `events` is the main thread's instructions per delivery. A run now and then stalls on the
 * `callgrind_control` call (valgrind waits for the process, which waits for the call): start it again.
 * Without valgrind it prints the process's CPU time per delivery, which the machine's load moves by 10 %.
 * The loop here waits more often than in the gateway (a claim is answered at once), so the Waiter's
 * timer and listener count for more than they do there.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createMetrics } from '../../../src/admin/metrics.js';
import { configSchema } from '../../../src/config/schema.js';
import { startScheduler } from '../../../src/delivery/scheduler.js';
import { createGatewayEvents } from '../../../src/events.js';
import type { Claim, ClaimRequest, Journal, StoredEvent } from '../../../src/journal/port.js';
import { logGatewayEvents, silentLogger } from '../../../src/log.js';
import { webhookBody } from '../load.js';
import { benchEvent } from './bench-event.js';

const events = Number(process.argv[2] ?? 20_000);
const warmup = Number(process.argv[3] ?? 10_000);
const underValgrind = spawnSync('callgrind_control', [String(process.pid)], { encoding: 'utf8' }).stdout?.includes(
  `PID ${process.pid}`,
);
const callgrind = (...args: string[]) => {
  if (underValgrind) spawnSync('callgrind_control', [...args, String(process.pid)], { stdio: 'ignore' });
};

const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => resolve(port));
  });
});
const cli = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const sink = spawn(process.execPath, [cli, 'sink', '--port', String(port)], {
  env: { ...process.env, LOG_LEVEL: 'warn' },
  stdio: 'ignore',
});
for (let i = 0; ; i++) {
  const up = await fetch(`http://127.0.0.1:${port}/`).then(
    () => true,
    () => false,
  );
  if (up) break;
  if (i > 200) throw new Error('sink did not start');
  await new Promise((r) => setTimeout(r, 50));
}

// What the bench's preloaded journal holds: the same body and the headers ingest stored (the load
// generator's, `Connection: keep-alive` among them).
const body = Buffer.from(webhookBody());
const storedEvent = (seq: number): StoredEvent => ({
  id: `019a0000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
  seq,
  source: 'bench',
  method: 'POST',
  path: '/in/bench',
  query: '',
  headers: benchEvent(body).headers,
  body: new Uint8Array(body),
  remoteAddr: '127.0.0.1',
  receivedAt: Date.now() - 100_000 + seq,
});

const total = warmup + events;
let next = 1;
let completed = 0;
let onCompleted: (() => void) | undefined;
const journal = {
  capabilities: { commitStats: false, crossProcessWakeups: false },
  storageFull: () => false,
  async claim(request: ClaimRequest): Promise<Claim[]> {
    const claims: Claim[] = [];
    while (claims.length < request.limit && next <= total) {
      const event = storedEvent(next);
      claims.push({
        deliveryId: next++,
        destination: request.destination,
        attempt: 1,
        leaseUntil: request.now + request.leaseMs,
        budget: { attemptsBefore: 0, since: event.receivedAt },
        event,
      });
    }
    return claims;
  },
  async complete() {
    completed += 1;
    onCompleted?.();
    return true;
  },
  async release() {
    return 0;
  },
  async nextDueAt() {
    return undefined;
  },
  async setHold() {},
  async recentSends() {
    return 0;
  },
} as unknown as Journal;

const reached = (count: number) =>
  new Promise<void>((resolve) => {
    onCompleted = () => {
      if (completed >= count) {
        onCompleted = undefined;
        resolve();
      }
    };
  });

const config = configSchema.parse({
  destinations: { target: { url: `http://127.0.0.1:${port}/hook`, concurrency: 32 } },
  sources: { bench: { path: '/in/bench', to: 'target' } },
});
const bus = createGatewayEvents();
const logger = silentLogger();
createMetrics({ sources: ['bench'], destinations: config.destinations }).subscribe(bus);
logGatewayEvents(bus, logger);

const warm = reached(warmup);
const scheduler = startScheduler({ destinations: config.destinations, journal, logger, events: bus });
await warm;
const measured = reached(total);
callgrind('--zero');
const cpu = process.cpuUsage();
const began = performance.now();
await measured;
const used = process.cpuUsage(cpu);
callgrind('--dump=measured');
const seconds = (performance.now() - began) / 1000;
await scheduler.stop(1_000);
sink.kill();
await once(sink, 'exit');
process.stdout.write(
  `${JSON.stringify({
    events,
    warmup,
    cpuUsPerDelivery: Number(((used.user + used.system) / events).toFixed(2)),
    deliveriesPerSecond: Math.round(events / seconds),
  })}\n`,
);
