/**
 * The two comparisons of `npm run bench:cpu` (cpu.ts), each a fixed amount of work on Sluice and
 * on its reference, alternated, with the CPU of every thread counted from /proc.
 */
import { NO_DELIVERY } from './cases/ingest.js';
import { createJournal, JournalReader, preload, SOURCE_PATH, startSluice, workspace } from './journal.js';
import { BODY_BYTES, CONNECTIONS, runLoad, webhookBody } from './load.js';
import { type ThreadCpu, ThreadCpuMeter } from './proc.js';
import {
  type Child,
  freePort,
  type Server,
  sleep,
  spawnCli,
  spawnWorker,
  startServer,
  waitForPort,
} from './processes.js';

export const CONNECTIONS_NOTE = `ingest: ${CONNECTIONS} connections, ${BODY_BYTES} B JSON; delivery: concurrency 32`;

/** µs of CPU per event, by thread kind ('total' = the whole process), one value per round. */
export interface Side {
  name: string;
  perEvent: Record<string, number[]>;
}

interface Options {
  requests: number;
  rounds: number;
  log(message: string): void;
  /** Another checkout whose build also runs, as a third side alternated with the others (BENCH_CPU_COMPARE). */
  compare?: string | undefined;
}

const INGEST_WARMUP = 10_000;
const DELIVERY_WARMUP = 5_000;
/** Events preloaded past the measured ones, so that the window closes while the drain runs at full speed. */
const DELIVERY_TAIL = 3_000;
const CONCURRENCY = 32;

function add(side: Side, cpu: ThreadCpu, events: number, kinds: (keyof ThreadCpu)[]): void {
  for (const kind of kinds) (side.perEvent[kind] ??= []).push((cpu[kind] * 1e6) / events);
}

/** Sluice's ingest against the bare Hono handler, `rounds` times each, alternated. */
export async function ingestCpu({ requests, rounds, log, compare }: Options): Promise<Side[]> {
  const sluice: Side = { name: 'ingest: Sluice', perEvent: {} };
  const bare: Side = { name: 'ingest: bare Hono', perEvent: {} };
  const other: Side = { name: `ingest: Sluice at ${compare}`, perEvent: {} };
  const load = async (server: Server) => {
    const run = await runLoad(
      {
        url: `http://127.0.0.1:${server.port}${SOURCE_PATH}`,
        connections: CONNECTIONS,
        warmupS: 0,
        durationS: 0,
        body: webhookBody(),
        requests,
        warmupRequests: INGEST_WARMUP,
      },
      [server.pid],
    );
    if (run.non2xx + run.errors > 0) throw new Error(`${run.non2xx} non-2xx answers, ${run.errors} errors`);
    return run;
  };
  const bareNode: Side = { name: 'ingest: bare node:http', perEvent: {} };
  const withNode = process.env.BENCH_CPU_BARE_NODE === '1';
  for (let round = 1; round <= rounds; round++) {
    if (withNode) {
      log(`ingest round ${round}/${rounds}: bare node:http`);
      const server = await startServer(() => spawnWorker('bare-node', 'bare-node.ts'));
      try {
        const run = await load(server);
        add(bareNode, run.threads.get(server.pid)!, run.ok, ['main', 'other', 'total']);
      } finally {
        await server.stop();
      }
    }
    log(`ingest round ${round}/${rounds}: bare Hono`);
    const bareServer = await startServer(() => spawnWorker('bare-hono', 'bare-hono.ts'));
    try {
      const run = await load(bareServer);
      add(bare, run.threads.get(bareServer.pid)!, run.ok, ['main', 'other', 'total']);
    } finally {
      await bareServer.stop();
    }
    for (const [side, from] of compare ? ([[sluice], [other, compare]] as const) : ([[sluice]] as const)) {
      log(`ingest round ${round}/${rounds}: ${side.name}`);
      const ws = workspace(NO_DELIVERY);
      try {
        const gateway = await startSluice(ws, undefined, from);
        try {
          const run = await load(gateway);
          add(side, run.threads.get(gateway.pid)!, run.ok, ['main', 'writer', 'other', 'total']);
          log(`  ${Math.round(run.rps)} req/s`);
        } finally {
          await gateway.stop();
        }
      } finally {
        ws.remove();
      }
    }
  }
  return [sluice, bare, ...(compare ? [other, bare] : []), ...(withNode ? [bareNode, bare] : [])];
}

/**
 * Drains `warm + requests + tail` preloaded events to `sink`; counts the gateway's CPU (per
 * thread) and the receiver's over the deliveries from the `warm`th to at least the
 * `warm + requests`th, polled every 50 ms.
 */
async function drainCounted(url: string, sink: Child, requests: number, log: (m: string) => void, from?: string) {
  const ws = workspace({ url, concurrency: CONCURRENCY });
  try {
    await createJournal(ws, from);
    preload(ws, { count: DELIVERY_WARMUP + requests + DELIVERY_TAIL, body: webhookBody() });
    const gateway = await startSluice(ws, undefined, from);
    const reader = new JournalReader(ws.dbPath);
    try {
      const meter = new ThreadCpuMeter(gateway.pid);
      const sinkMeter = new ThreadCpuMeter(sink.pid);
      const until = Date.now() + 300_000;
      const waitFor = async (count: number) => {
        for (;;) {
          const delivered = reader.delivered();
          if (delivered >= count) return delivered;
          if (Date.now() > until) throw new Error(`drain stalled at ${delivered}\n${gateway.tail()}`);
          await sleep(50);
        }
      };
      const from = await waitFor(DELIVERY_WARMUP);
      meter.start();
      sinkMeter.start();
      const began = performance.now();
      const to = await waitFor(DELIVERY_WARMUP + requests);
      const cpu = meter.stop();
      const sinkCpu = sinkMeter.stop();
      log(`  ${Math.round((to - from) / ((performance.now() - began) / 1000))} deliveries/s`);
      return { cpu, sinkCpu, delivered: to - from };
    } finally {
      reader.close();
      await gateway.stop();
    }
  } finally {
    ws.remove();
  }
}

/** The plain undici loop, a fixed number of requests; CPU of the loop and of the receiver. */
async function loopCounted(url: string, sink: Child, requests: number) {
  const spec = {
    url,
    concurrency: CONCURRENCY,
    warmupS: 0,
    durationS: 0,
    body: webhookBody(BODY_BYTES),
    requests,
    warmupRequests: DELIVERY_WARMUP,
  };
  const worker = spawnWorker('undici-loop', 'undici-loop.ts', [JSON.stringify(spec)]);
  const meter = new ThreadCpuMeter(worker.pid);
  const sinkMeter = new ThreadCpuMeter(sink.pid);
  let result: { cpu: ThreadCpu; sinkCpu: ThreadCpu; ok: number; rps: number } | undefined;
  worker.onLine((line) => {
    if (line.includes('"phase":"measuring"')) {
      meter.start();
      sinkMeter.start();
    } else if (line.includes('"phase":"result"')) {
      const { ok, rps } = JSON.parse(line) as { ok: number; rps: number };
      result = { cpu: meter.stop(), sinkCpu: sinkMeter.stop(), ok, rps };
    }
  });
  const timer = setTimeout(() => worker.process.kill('SIGKILL'), 300_000);
  const code = await worker.exited;
  clearTimeout(timer);
  if (code !== 0 || !result) throw new Error(`undici loop failed (${code})\n${worker.tail()}`);
  return result;
}

/** Sluice's delivery against the plain undici loop, to the same receiver, `rounds` times each, alternated. */
export async function deliveryCpu({ requests, rounds, log, compare }: Options): Promise<Side[]> {
  const sluice: Side = { name: 'delivery: Sluice', perEvent: {} };
  const other: Side = { name: `delivery: Sluice at ${compare}`, perEvent: {} };
  const loop: Side = { name: 'delivery: undici loop', perEvent: {} };
  const port = await freePort();
  const sink = spawnCli('sink', ['sink', '--port', String(port)], { LOG_LEVEL: 'warn' });
  try {
    await waitForPort(port);
    const url = `http://127.0.0.1:${port}/hook`;
    for (let round = 1; round <= rounds; round++) {
      for (const [side, from] of compare ? ([[sluice], [other, compare]] as const) : ([[sluice]] as const)) {
        log(`delivery round ${round}/${rounds}: ${side.name}`);
        const drained = await drainCounted(url, sink, requests, log, from);
        add(side, drained.cpu, drained.delivered, ['main', 'writer', 'other', 'total']);
        (side.perEvent['receiver (not in total)'] ??= []).push((drained.sinkCpu.total * 1e6) / drained.delivered);
      }
      log(`delivery round ${round}/${rounds}: undici loop`);
      const looped = await loopCounted(url, sink, requests);
      add(loop, looped.cpu, looped.ok, ['main', 'other', 'total']);
      (loop.perEvent['receiver (not in total)'] ??= []).push((looped.sinkCpu.total * 1e6) / looped.ok);
      log(`  ${Math.round(looped.rps)} req/s`);
    }
  } finally {
    await sink.stop();
  }
  return compare ? [sluice, loop, other, loop] : [sluice, loop];
}
