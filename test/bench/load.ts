/**
 * HTTP load from a child process, with CPU meters on the processes under test started when the
 * load generator's warm-up ends: closed loop at full speed from autocannon (workers/load.ts), or
 * open loop at a fixed rate (workers/paced.ts).
 */
import { CpuMeter, type CpuUse, MachineMeter, type MachineUse, type ThreadCpu, ThreadCpuMeter } from './proc.js';
import { spawnWorker } from './processes.js';

/** The load of the HTTP cases: 50 connections, 1.5 KB JSON bodies. */
export const CONNECTIONS = 50;
export const BODY_BYTES = 1500;

/** What the load worker is asked to do. */
export interface LoadSpec {
  url: string;
  connections: number;
  /** Seconds of load whose answers are not measured, before the measured run. */
  warmupS: number;
  durationS: number;
  body: string;
  /** Requests per second, evenly spaced (open loop); absent: as fast as the server answers. */
  rate?: number;
  /**
   * A fixed amount of work instead of durations (closed loop only): `warmupRequests`, then
   * `requests` measured ones. CPU per request is then counted over the same work on every server.
   */
  requests?: number;
  warmupRequests?: number;
}

/** What the load worker measured (latencies in ms, of 2xx answers). */
export interface LoadResult {
  /** 2xx answers in the measured run. */
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  /** 2xx answers per second in the measured run. */
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** 2xx answers in the warm-up and the measured run together (every one must be in the journal). */
  totalOk: number;
}

/** A load run, plus the CPU use of the processes watched during its measured part. */
export interface LoadRun extends LoadResult {
  /** Wall-clock (epoch ms) bounds of the measured run, as seen by the parent. */
  measuredFrom: number;
  measuredTo: number;
  /** CPU use by watched pid. */
  cpu: Map<number, CpuUse>;
  /** CPU seconds by watched pid and thread kind, over the measured run. */
  threads: Map<number, ThreadCpu>;
  /** CPU use of the load generator itself. */
  loadCpu: CpuUse;
  machine: MachineUse;
  /**
   * CPU the machine spent on anything but the watched processes and the load generator, in % of
   * one core: other users of this shared machine, kernel threads. High values mean a noisy run.
   */
  otherCpu: number;
}

/**
 * A JSON document of exactly `bytes` bytes that looks like a webhook (ids, a type, nested objects,
 * an array), padded to size with one field.
 */
export function webhookBody(bytes = BODY_BYTES): string {
  const lines = Array.from({ length: 12 }, (_, i) => ({
    sku: `sku-${1000 + i}`,
    quantity: 1 + (i % 3),
    price: 1999 + i,
  }));
  const doc = {
    id: 'evt_01JD3M7Q9X5V2K8T4R6P0N1B3C',
    type: 'order.created',
    created: 1_732_800_000,
    data: { object: { id: 'ord_8842', customer: 'cus_5521', currency: 'eur', total: 25_188, lines } },
    note: '',
  };
  const size = JSON.stringify(doc).length;
  if (size > bytes) throw new Error(`a webhook body needs at least ${size} bytes`);
  doc.note = 'x'.repeat(bytes - size);
  return JSON.stringify(doc);
}

/** Called when the measured run starts and when it ends (e.g. to read the journal at those moments). */
export interface LoadHooks {
  measuring?(): void;
  done?(): void;
}

/** Runs the load worker to completion; `watch` lists pids whose CPU use to measure. */
export async function runLoad(spec: LoadSpec, watch: number[] = [], hooks: LoadHooks = {}): Promise<LoadRun> {
  const worker =
    spec.rate === undefined
      ? spawnWorker('load', 'load.ts', [JSON.stringify(spec)])
      : spawnWorker('paced load', 'paced.ts', [JSON.stringify(spec)]);
  const meters = watch.map((pid) => [pid, new CpuMeter(pid)] as const);
  const threadMeters = watch.map((pid) => [pid, new ThreadCpuMeter(pid)] as const);
  const loadMeter = new CpuMeter(worker.pid);
  const machine = new MachineMeter();
  let cpu = new Map<number, CpuUse>();
  let threads = new Map<number, ThreadCpu>();
  let loadCpu: CpuUse = { process: NaN, mainThread: NaN };
  let machineUse: MachineUse = { busy: NaN, iowait: NaN, cores: 1 };
  let result: LoadResult | undefined;
  let measuredFrom = NaN;
  let measuredTo = NaN;
  worker.onLine((line) => {
    if (!line.startsWith('{"phase"')) return;
    const message = JSON.parse(line) as { phase: string } & LoadResult;
    if (message.phase === 'measuring') {
      for (const [, meter] of meters) meter.start();
      for (const [, meter] of threadMeters) meter.start();
      loadMeter.start();
      machine.start();
      measuredFrom = Date.now();
      hooks.measuring?.();
    } else if (message.phase === 'result') {
      // Read the meters now, while every watched process is surely still running.
      cpu = new Map(meters.map(([pid, meter]) => [pid, meter.stop()]));
      threads = new Map(threadMeters.map(([pid, meter]) => [pid, meter.stop()]));
      loadCpu = loadMeter.stop();
      machineUse = machine.stop();
      measuredTo = Date.now();
      hooks.done?.();
      const { phase: _, ...rest } = message;
      result = rest;
    }
  });
  // Bounded: the load's own duration, autocannon's 1 s sampling tick, start-up and a margin.
  const timeoutMs = spec.requests === undefined ? (spec.warmupS + spec.durationS) * 1000 + 30_000 : 300_000;
  const timer = setTimeout(() => worker.process.kill('SIGKILL'), timeoutMs);
  const code = await worker.exited;
  clearTimeout(timer);
  if (code !== 0 || !result) throw new Error(`load generator failed (${code})\n${worker.tail()}`);
  const ours = [...cpu.values()].reduce((sum, use) => sum + use.process, loadCpu.process);
  return {
    ...result,
    measuredFrom,
    measuredTo,
    cpu,
    threads,
    loadCpu,
    machine: machineUse,
    otherCpu: Math.max(0, machineUse.busy * machineUse.cores - ours),
  };
}
