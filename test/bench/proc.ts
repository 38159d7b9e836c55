/**
 * Readings from /proc (Linux): CPU time of a process and of its main thread, memory, and the
 * machine's CPU split. They say what limits a run: a server whose main thread sits near 100% of
 * a core is bound by its event loop; a busy machine with idle servers is bound by the load
 * generator or by the other processes; iowait points at the disk.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second, the unit of the CPU times in /proc/<pid>/stat. */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Cores of the machine (the cpuN lines of /proc/stat). */
const CORES =
  readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l)).length || 1;

/** utime + stime of a /proc stat file, in seconds; undefined once the process is gone. */
function cpuSeconds(statFile: string): number | undefined {
  try {
    const text = readFileSync(statFile, 'utf8');
    // Fields after the command name, which is in parentheses and may itself contain spaces.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the file, i.e. 11 and 12 after the name.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by a process and by its main thread (the one running the event loop). */
interface CpuSample {
  at: number;
  process: number;
  mainThread: number;
}

function sampleCpu(pid: number): CpuSample {
  return {
    at: performance.now(),
    process: cpuSeconds(`/proc/${pid}/stat`) ?? 0,
    mainThread: cpuSeconds(`/proc/${pid}/task/${pid}/stat`) ?? 0,
  };
}

/** CPU use over an interval, in % of one core (so 2 cores fully used is 200%). */
export interface CpuUse {
  process: number;
  mainThread: number;
}

/** Measures a process's CPU use between `start()` and `stop()`. */
export class CpuMeter {
  private first: CpuSample | undefined;

  constructor(private readonly pid: number) {}

  start(): void {
    this.first = sampleCpu(this.pid);
  }

  /** CPU use since `start()`; call it while the process is still alive. */
  stop(): CpuUse {
    const first = this.first ?? sampleCpu(this.pid);
    const last = sampleCpu(this.pid);
    const seconds = Math.max(1e-9, (last.at - first.at) / 1000);
    return {
      process: (100 * (last.process - first.process)) / seconds,
      mainThread: (100 * (last.mainThread - first.mainThread)) / seconds,
    };
  }
}

/** Resident memory of a process in MB: now, and the peak (VmHWM) since it started. */
export function memoryMb(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** The machine's CPU split over an interval, in % of all cores. */
export interface MachineUse {
  busy: number;
  iowait: number;
  /** Number of cores, to turn `busy` into % of one core (busy × cores). */
  cores: number;
}

/** Measures the whole machine's CPU split (from the first line of /proc/stat). */
export class MachineMeter {
  private first: number[] | undefined;

  start(): void {
    this.first = machineTicks();
  }

  stop(): MachineUse {
    const last = machineTicks();
    const first = this.first ?? last;
    const delta = last.map((v, i) => v - (first[i] ?? 0));
    const total = Math.max(
      1,
      delta.reduce((a, b) => a + b, 0),
    );
    // user nice system idle iowait irq softirq steal ...
    const idle = delta[3] ?? 0;
    const iowait = delta[4] ?? 0;
    return { busy: (100 * (total - idle - iowait)) / total, iowait: (100 * iowait) / total, cores: CORES };
  }
}

/** Measures the machine's CPU use over `ms`: how busy it is before a case starts. */
export async function machineBusy(ms: number): Promise<MachineUse> {
  const meter = new MachineMeter();
  meter.start();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return meter.stop();
}

function machineTicks(): number[] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  // Guest times are already counted in user/nice: leave them out of the total.
  return line.trim().split(/\s+/).slice(1, 9).map(Number);
}

/**
 * CPU seconds of a process, split by thread: the main thread (the event loop: HTTP, delivery),
 * the journal's writer and reader threads (they name themselves `sluice-writer`, `sluice-reader`),
 * and the rest (V8's GC and compiler helpers, libuv's pool). `total` is the whole process.
 */
export interface ThreadCpu {
  main: number;
  writer: number;
  reader: number;
  other: number;
  total: number;
}

export const THREAD_KINDS = ['main', 'writer', 'reader', 'other'] as const;

/** CPU seconds used so far by each thread of `pid`, by thread id, with the thread's kind. */
function sampleThreads(pid: number): Map<number, { kind: (typeof THREAD_KINDS)[number]; seconds: number }> {
  const threads = new Map<number, { kind: (typeof THREAD_KINDS)[number]; seconds: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    const seconds = cpuSeconds(`/proc/${pid}/task/${tid}/stat`);
    if (seconds === undefined) continue;
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    const kind =
      Number(tid) === pid
        ? 'main'
        : comm === 'sluice-writer'
          ? 'writer'
          : comm === 'sluice-reader'
            ? 'reader'
            : 'other';
    threads.set(Number(tid), { kind, seconds });
  }
  return threads;
}

/**
 * Measures a process's CPU per thread kind between `start()` and `stop()`, in CPU seconds (a
 * thread started in between counts from 0; one that ended in between is lost, which the journal's
 * threads do not do while a gateway runs).
 */
export class ThreadCpuMeter {
  private first = new Map<number, { kind: (typeof THREAD_KINDS)[number]; seconds: number }>();

  constructor(private readonly pid: number) {}

  start(): void {
    this.first = sampleThreads(this.pid);
  }

  stop(): ThreadCpu {
    const out: ThreadCpu = { main: 0, writer: 0, reader: 0, other: 0, total: 0 };
    for (const [tid, { kind, seconds }] of sampleThreads(this.pid)) {
      const used = seconds - (this.first.get(tid)?.seconds ?? 0);
      out[kind] += used;
      out.total += used;
    }
    return out;
  }
}
