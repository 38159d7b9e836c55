/**
 * Case 3, delivery throughput: a journal preloaded with events drains to a fast local receiver
 * (unlimited rate, concurrency 32), against a plain loop of undici requests with the same
 * concurrency to the same receiver.
 *
 * The receiver is `sluice sink` with LOG_LEVEL=warn: at info it writes one JSON log line per
 * request to a pipe, which on two cores takes CPU from the very processes being measured; at
 * warn it is a bare node:http server (see src/cli/sink.ts). It then does not log its port either,
 * so the bench picks a free port for it.
 *
 * The events are written straight into the journal (`preload`) rather than ingested through a
 * gateway whose destination is down: that would give each delivery a failed first attempt and a
 * retry backoff before the drain. Progress is read from the journal file (read-only, WAL) every
 * 100 ms: deliveries finished as delivered, over a fixed window that starts after a warm-up,
 * like the HTTP cases.
 */

import { createJournal, type DestinationSpec, JournalReader, preload, startSluice, workspace } from '../journal.js';
import { BODY_BYTES, webhookBody } from '../load.js';
import { CpuMeter, type CpuUse, MachineMeter, type ThreadCpu, ThreadCpuMeter } from '../proc.js';
import { type Child, freePort, sleep, spawnCli, spawnWorker, waitForPort } from '../processes.js';
import { atLeast, fmt, type Row, zeroInEveryRun } from '../report.js';
import type { BenchCase, Settings } from '../settings.js';

const CONCURRENCY = 32;
const POLL_MS = 100;
/** Events for the first, unmeasured drain that sizes the measured ones. */
const ESTIMATE_EVENTS = 5_000;

/** A measured drain: deliveries/s over the window, and CPU use of the gateway and the receiver. */
interface Drain {
  rate: number;
  delivered: number;
  seconds: number;
  gatewayCpu: CpuUse;
  /** CPU seconds of the gateway's threads over the window. */
  gatewayThreads: ThreadCpu;
  sinkCpu: CpuUse;
  /** CPU the machine spent on anything but the gateway and the receiver, in % of one core. */
  otherCpu: number;
  dead: number;
}

/**
 * Preloads `count` events, starts the gateway and follows the drain: the window opens `warmupS`
 * after the first delivery and closes `durationS` later, or when the journal is drained.
 */
async function drain(
  destination: DestinationSpec,
  sink: Child,
  count: number,
  warmupS: number,
  durationS: number,
): Promise<Drain> {
  const ws = workspace(destination);
  try {
    await createJournal(ws);
    preload(ws, { count, body: webhookBody() });
    const gateway = await startSluice(ws);
    const reader = new JournalReader(ws.dbPath);
    const gatewayMeter = new CpuMeter(gateway.pid);
    const threadMeter = new ThreadCpuMeter(gateway.pid);
    const sinkMeter = new CpuMeter(sink.pid);
    const machine = new MachineMeter();
    try {
      const until = performance.now() + 60_000 + (warmupS + durationS) * 1000;
      const poll = async (done: (delivered: number, at: number) => boolean) => {
        for (;;) {
          const delivered = reader.delivered();
          const at = performance.now();
          if (done(delivered, at)) return { delivered, at };
          if (at > until) throw new Error(`drain stalled at ${delivered} of ${count} delivered\n${gateway.tail()}`);
          await sleep(POLL_MS);
        }
      };
      const first = await poll((d) => d > 0);
      const opened = await poll((d, at) => d >= count || at >= first.at + warmupS * 1000);
      if (opened.delivered >= count) {
        // Drained within the warm-up (the sizing drain, or an estimate far off): rate of the whole drain.
        const seconds = (opened.at - first.at) / 1000;
        const unmeasured = { process: NaN, mainThread: NaN };
        return {
          rate: (count - first.delivered) / seconds,
          delivered: count - first.delivered,
          seconds,
          gatewayCpu: unmeasured,
          gatewayThreads: { main: NaN, writer: NaN, reader: NaN, other: NaN, total: NaN },
          sinkCpu: unmeasured,
          otherCpu: NaN,
          dead: reader.progress().dead,
        };
      }
      gatewayMeter.start();
      threadMeter.start();
      sinkMeter.start();
      machine.start();
      const closed = await poll((d, at) => d >= count || at >= opened.at + durationS * 1000);
      const gatewayCpu = gatewayMeter.stop();
      const gatewayThreads = threadMeter.stop();
      const sinkCpu = sinkMeter.stop();
      const { busy, cores } = machine.stop();
      const otherCpu = Math.max(0, busy * cores - gatewayCpu.process - sinkCpu.process);
      const seconds = (closed.at - opened.at) / 1000;
      return {
        rate: (closed.delivered - opened.delivered) / seconds,
        delivered: closed.delivered - opened.delivered,
        seconds,
        gatewayCpu,
        gatewayThreads,
        sinkCpu,
        otherCpu,
        dead: reader.progress().dead,
      };
    } finally {
      reader.close();
      await gateway.stop();
    }
  } finally {
    ws.remove();
  }
}

/** The undici loop against the same receiver; returns requests/s and the receiver's CPU use. */
async function undiciLoop(
  settings: Settings,
  url: string,
  sink: Child,
): Promise<{ rps: number; ok: number; sinkCpu: CpuUse; loopCpu: CpuUse; loopThreads: ThreadCpu }> {
  const spec = {
    url,
    concurrency: CONCURRENCY,
    warmupS: settings.warmupS,
    durationS: settings.durationS,
    body: webhookBody(BODY_BYTES),
  };
  const worker = spawnWorker('undici-loop', 'undici-loop.ts', [JSON.stringify(spec)]);
  const sinkMeter = new CpuMeter(sink.pid);
  const loopMeter = new CpuMeter(worker.pid);
  const loopThreadMeter = new ThreadCpuMeter(worker.pid);
  let result: { rps: number; ok: number; sinkCpu: CpuUse; loopCpu: CpuUse; loopThreads: ThreadCpu } | undefined;
  worker.onLine((line) => {
    if (line.includes('"phase":"measuring"')) {
      sinkMeter.start();
      loopMeter.start();
      loopThreadMeter.start();
    } else if (line.includes('"phase":"result"')) {
      const { rps, ok } = JSON.parse(line) as { rps: number; ok: number };
      result = { rps, ok, sinkCpu: sinkMeter.stop(), loopCpu: loopMeter.stop(), loopThreads: loopThreadMeter.stop() };
    }
  });
  const timer = setTimeout(() => worker.process.kill('SIGKILL'), (spec.warmupS + spec.durationS) * 1000 + 30_000);
  const code = await worker.exited;
  clearTimeout(timer);
  if (code !== 0 || !result) throw new Error(`undici loop failed (${code})\n${worker.tail()}`);
  return result;
}

export const deliveryCase: BenchCase = {
  id: '3',
  name: 'delivery',
  title: 'Delivery throughput',
  budgetS: (s) => 120 + s.runs * (2 * (s.warmupS + s.durationS) + 90),
  async run(settings) {
    const port = await freePort();
    const sink = spawnCli('sink', ['sink', '--port', String(port)], { LOG_LEVEL: 'warn' });
    try {
      await waitForPort(port);
      const url = `http://127.0.0.1:${port}/hook`;
      const destination: DestinationSpec = { url, concurrency: CONCURRENCY };

      settings.log(`delivery: sizing drain (${fmt.count(ESTIMATE_EVENTS)} events)`);
      const estimate = await drain(destination, sink, ESTIMATE_EVENTS, 0, 60);
      // Enough events that the drain outlasts warm-up + measured window even if the sizing drain,
      // shorter and colder, underestimated the rate severalfold (preloading is cheap: ~1 s per 20k).
      const count = Math.max(
        4 * ESTIMATE_EVENTS,
        Math.ceil(estimate.rate * (settings.warmupS + settings.durationS) * 3),
      );
      settings.log(`  ~${fmt.count(estimate.rate)} deliveries/s; measured drains of ${fmt.count(count)} events`);

      const runs: { sluice: Drain; loop: Awaited<ReturnType<typeof undiciLoop>> }[] = [];
      for (let i = 1; i <= settings.runs; i++) {
        settings.log(`delivery run ${i}/${settings.runs}: Sluice`);
        const sluice = await drain(destination, sink, count, settings.warmupS, settings.durationS);
        settings.log(`delivery run ${i}/${settings.runs}: undici loop`);
        const loop = await undiciLoop(settings, url, sink);
        runs.push({ sluice, loop });
        settings.log(`  Sluice ${fmt.count(sluice.rate)} deliveries/s, undici ${fmt.count(loop.rps)} req/s`);
      }

      const name = '3 Delivery';
      const each = (f: (r: (typeof runs)[number]) => number) => runs.map(f);
      return [
        {
          case: name,
          metric: 'Sluice deliveries/s (concurrency 32)',
          runs: each((r) => r.sluice.rate),
          format: fmt.count,
        },
        {
          case: name,
          metric: 'plain undici loop req/s (32 in flight)',
          runs: each((r) => r.loop.rps),
          format: fmt.count,
        },
        {
          case: name,
          metric: 'ratio Sluice / undici',
          runs: each((r) => r.sluice.rate / r.loop.rps),
          format: fmt.ratio,
          target: '≥ 0.7',
          verdict: atLeast(0.7),
        },
        { case: name, metric: 'measured window', runs: each((r) => r.sluice.seconds), format: fmt.seconds },
        {
          case: name,
          metric: 'dead deliveries',
          runs: each((r) => r.sluice.dead),
          format: fmt.count,
          ...zeroInEveryRun,
        },
        // µs of CPU per delivered event (per request for the loop): the figure to compare across days.
        ...(['main', 'writer', 'other', 'total'] as const).map(
          (kind): Row => ({
            case: name,
            metric: `Sluice CPU per delivery, ${kind === 'total' ? 'whole process' : `${kind} thread${kind === 'other' ? 's' : ''}`}`,
            runs: each((r) => (r.sluice.gatewayThreads[kind] * 1e6) / r.sluice.delivered),
            format: fmt.micros,
          }),
        ),
        {
          case: name,
          metric: 'undici loop CPU per request, whole process',
          runs: each((r) => (r.loop.loopThreads.total * 1e6) / r.loop.ok),
          format: fmt.micros,
        },
        {
          case: name,
          metric: 'CPU per delivery, ratio Sluice / undici loop',
          runs: each(
            (r) => r.sluice.gatewayThreads.total / r.sluice.delivered / (r.loop.loopThreads.total / r.loop.ok),
          ),
          format: fmt.ratio,
          target: '≤ 2 (goal)',
        },
        {
          case: name,
          metric: 'receiver CPU per delivery (Sluice run)',
          runs: each((r) => (r.sluice.sinkCpu.process * r.sluice.seconds * 1e4) / r.sluice.delivered),
          format: fmt.micros,
        },
        {
          case: name,
          metric: 'gateway CPU, main thread (Sluice run)',
          runs: each((r) => r.sluice.gatewayCpu.mainThread),
          format: fmt.percent,
        },
        {
          case: name,
          metric: 'gateway CPU, whole process',
          runs: each((r) => r.sluice.gatewayCpu.process),
          format: fmt.percent,
        },
        {
          case: name,
          metric: 'receiver CPU (Sluice run)',
          runs: each((r) => r.sluice.sinkCpu.process),
          format: fmt.percent,
        },
        { case: name, metric: 'undici loop CPU', runs: each((r) => r.loop.loopCpu.process), format: fmt.percent },
        {
          case: name,
          metric: 'receiver CPU (undici run)',
          runs: each((r) => r.loop.sinkCpu.process),
          format: fmt.percent,
        },
        {
          case: name,
          metric: 'CPU of other processes (Sluice run, % of a core)',
          runs: each((r) => r.sluice.otherCpu),
          format: fmt.percent,
        },
      ] satisfies Row[];
    } finally {
      await sink.stop();
    }
  },
};
