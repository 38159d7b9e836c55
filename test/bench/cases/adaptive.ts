/**
 * Cases 7 to 10, adaptive pacing: the same backlog delivered twice in one run, once at a fixed pace
 * set to the destination's ceilings and once with `adaptive: true` under the same ceilings, to a
 * consumer with a capacity of its own. Retries `initial: 1s, max: 5s` for both, so that the fixed
 * pace's refused events come back within the run. Refusals are counted in the journal (attempts
 * answered 429 or 503); times from the first attempt to the last delivery.
 *
 *   7 nginx limit_req 10 r/s (burst 5, plain 429); ceilings 40/s and 8; 200 events
 *   8 a pool of 4 workers, 100 ms a call, a queue of 4, 503 beyond; ceilings 500/s and 32; 400 events
 *   9 the pool of 10 workers drops to 2 for 20 s, then is back: time to get 75 % of its 100/s back
 *  10 a fast consumer (64 workers, 5 ms): adaptive against fixed at 200/s and 16, 2000 events
 */

import { NGINX, startNginxLimiter } from '../../helpers/nginx.js';
import { type PacedConsumer, startPool } from '../../helpers/paced-consumers.js';
import { createJournal, type DestinationSpec, JournalReader, preload, startSluice, workspace } from '../journal.js';
import { webhookBody } from '../load.js';
import { sleep } from '../processes.js';
import { atLeast, atMost, fmt, type Row } from '../report.js';
import type { BenchCase, Settings } from '../settings.js';

const RETRY = { initial: '1s', max: '5s' };

interface Drain {
  refusals: number;
  /** First attempt to last delivery, in seconds (NaN when not all were delivered in time). */
  seconds: number;
  delivered: number;
}

/**
 * Preloads `count` events for a destination `spec`, runs a gateway until all are delivered (or
 * `limitS` passes, or `until` says so), and reads what happened from the journal.
 */
async function drain(
  spec: DestinationSpec,
  count: number,
  limitS: number,
  until?: () => boolean,
): Promise<Drain & { times: number[] }> {
  const ws = workspace({ ...spec, retry: RETRY });
  try {
    await createJournal(ws);
    preload(ws, { count, body: webhookBody() });
    const gateway = await startSluice(ws);
    const reader = new JournalReader(ws.dbPath);
    try {
      const deadline = performance.now() + limitS * 1000;
      while (performance.now() < deadline && reader.delivered() < count && !until?.()) await sleep(100);
    } finally {
      await gateway.stop();
    }
    const starts = reader.attemptStarts();
    const times = reader.deliveredTimes();
    const result = {
      refusals: reader.refusals(),
      delivered: times.length,
      seconds: times.length === count ? (times.at(-1)! - starts[0]!) / 1000 : NaN,
      times,
    };
    reader.close();
    return result;
  } finally {
    ws.remove();
  }
}

/** Runs `once` settings.runs times, fixed then adaptive each time. */
async function sideBySide<T>(
  settings: Settings,
  label: string,
  once: (adaptive: boolean) => Promise<T>,
): Promise<{ fixed: T[]; adaptive: T[] }> {
  const fixed: T[] = [];
  const adaptive: T[] = [];
  for (let i = 1; i <= settings.runs; i++) {
    for (const mode of [false, true]) {
      settings.log(`${label} run ${i}/${settings.runs}: ${mode ? 'adaptive' : 'fixed'}`);
      const result = await once(mode);
      settings.log(`  ${JSON.stringify(result, (k, v) => (k === 'times' ? undefined : v))}`);
      (mode ? adaptive : fixed).push(result);
    }
  }
  return { fixed, adaptive };
}

/** `drain` into a worker pool started for it (and closed after). */
async function drainPool(
  pool: Parameters<typeof startPool>[0],
  spec: Omit<DestinationSpec, 'url'>,
  count: number,
  limitS: number,
): Promise<Drain & { times: number[] }> {
  const consumer = await startPool(pool);
  try {
    return await drain({ url: consumer.url, ...spec }, count, limitS);
  } finally {
    await consumer.close();
  }
}

function drainRows(name: string, runs: { fixed: Drain[]; adaptive: Drain[] }, goals: Partial<Row>[]): Row[] {
  return [
    { case: name, metric: 'refusals, fixed pace', runs: runs.fixed.map((r) => r.refusals), format: fmt.count },
    { case: name, metric: 'time, fixed pace', runs: runs.fixed.map((r) => r.seconds), format: fmt.seconds },
    {
      case: name,
      metric: 'refusals, adaptive',
      runs: runs.adaptive.map((r) => r.refusals),
      format: fmt.count,
      ...goals[0],
    },
    {
      case: name,
      metric: 'time, adaptive',
      runs: runs.adaptive.map((r) => r.seconds),
      format: fmt.seconds,
      ...goals[1],
    },
  ];
}

export const adaptiveNginxCase: BenchCase = {
  id: '7',
  name: 'adaptive-nginx',
  title: 'Adaptive pace against nginx limit_req',
  budgetS: (s) => 60 + s.runs * 2 * 150,
  async run(settings) {
    const runs = await sideBySide(settings, 'nginx', async (adaptive) => {
      const nginx = await startNginxLimiter({ rate: 10, burst: 5 });
      if (!nginx) throw new Error(`${NGINX} is not installed (apt-get install nginx-light)`);
      try {
        return await drain({ url: nginx.url, rate: '40/s', concurrency: 8, adaptive }, 200, 120);
      } finally {
        await nginx.stop();
      }
    });
    return drainRows('7 Adaptive · nginx 10 r/s', runs, [
      { target: '≤ 25', verdict: atMost(25) },
      { target: '≤ 25 s (1.25 × ideal 20 s)', verdict: atMost(25) },
    ]);
  },
};

export const adaptivePoolCase: BenchCase = {
  id: '8',
  name: 'adaptive-pool',
  title: 'Adaptive pace against a worker pool',
  budgetS: (s) => 60 + s.runs * 2 * 150,
  async run(settings) {
    const runs = await sideBySide(settings, 'pool', async (adaptive) => {
      return drainPool(
        { workers: () => 4, serviceMs: 100, queue: 4 },
        { rate: '500/s', concurrency: 32, adaptive },
        400,
        120,
      );
    });
    const rows = drainRows('8 Adaptive · pool 4 × 100 ms', runs, [{ target: '≤ 40', verdict: atMost(40) }, {}]);
    rows.push({
      case: '8 Adaptive · pool 4 × 100 ms',
      metric: 'share of the 40/s capacity, adaptive',
      runs: runs.adaptive.map((r) => 400 / r.seconds / 40),
      format: fmt.ratio,
      target: '≥ 0.75',
      verdict: atLeast(0.75),
    });
    return rows;
  },
};

/** Seconds of each phase of case 8: full capacity, a fifth, full again. */
const PHASES_S = [10, 20, 20] as const;

interface Recovery {
  /** From the capacity's return to the end of the first 1 s window with ≥ 75 % of it delivered. */
  recoverS: number;
  refusals: number;
  /** Deliveries per second in the last phase. */
  afterRate: number;
}

export const adaptiveRecoveryCase: BenchCase = {
  id: '9',
  name: 'adaptive-recovery',
  title: 'Adaptive pace when capacity drops and comes back',
  budgetS: (s) => 60 + s.runs * 2 * 120,
  async run(settings) {
    const full = 10;
    const runs = await sideBySide(settings, 'recovery', async (adaptive): Promise<Recovery> => {
      let startedAt = Number.POSITIVE_INFINITY;
      const workers = () => {
        const s = (Date.now() - startedAt) / 1000;
        return s >= PHASES_S[0] && s < PHASES_S[0] + PHASES_S[1] ? full / 5 : full;
      };
      let pool: PacedConsumer | undefined;
      pool = await startPool({ workers, serviceMs: 100, queue: 4 });
      const total = PHASES_S.reduce((a, b) => a + b, 0);
      try {
        const result = await drain(
          { url: pool.url, rate: '500/s', concurrency: 32, adaptive },
          6_000,
          total + 40,
          () => {
            if (startedAt === Number.POSITIVE_INFINITY && pool!.accepted.length > 0) startedAt = pool!.accepted[0]!;
            return Date.now() - startedAt > total * 1000;
          },
        );
        const back = startedAt + (PHASES_S[0] + PHASES_S[1]) * 1000;
        const accepted = pool.accepted;
        let recoverS = Number.NaN;
        for (let from = back; from + 1000 <= startedAt + total * 1000; from += 100) {
          const inWindow = accepted.filter((t) => t >= from && t < from + 1000).length;
          if (inWindow >= 0.75 * full * 10) {
            recoverS = (from + 1000 - back) / 1000;
            break;
          }
        }
        const after = accepted.filter((t) => t >= back + 10_000 && t < back + 20_000).length / 10;
        return { recoverS, refusals: result.refusals, afterRate: after };
      } finally {
        await pool.close();
        pool = undefined;
      }
    });
    const name = '9 Adaptive · pool 10 → 2 → 10 workers';
    return [
      { case: name, metric: 'refusals, fixed pace', runs: runs.fixed.map((r) => r.refusals), format: fmt.count },
      {
        case: name,
        metric: 'time to 75 % of 100/s after the return, fixed',
        runs: runs.fixed.map((r) => r.recoverS),
        format: fmt.seconds,
      },
      { case: name, metric: 'refusals, adaptive', runs: runs.adaptive.map((r) => r.refusals), format: fmt.count },
      {
        case: name,
        metric: 'time to 75 % of 100/s after the return, adaptive',
        runs: runs.adaptive.map((r) => r.recoverS),
        format: fmt.seconds,
        target: '≤ 10 s',
        verdict: atMost(10),
      },
      {
        case: name,
        metric: 'deliveries/s 10-20 s after the return, adaptive',
        runs: runs.adaptive.map((r) => r.afterRate),
        format: fmt.rate,
      },
    ];
  },
};

export const adaptiveFastCase: BenchCase = {
  id: '10',
  name: 'adaptive-fast',
  title: 'Adaptive pace against a fast consumer',
  budgetS: (s) => 60 + s.runs * 2 * 120,
  async run(settings) {
    const runs = await sideBySide(settings, 'fast', async (adaptive) => {
      return drainPool(
        { workers: () => 64, serviceMs: 5, queue: 64 },
        { rate: '200/s', concurrency: 16, adaptive },
        2_000,
        90,
      );
    });
    const name = '10 Adaptive · fast consumer';
    return [
      ...drainRows(name, runs, [{}, {}]),
      {
        case: name,
        metric: 'delivery rate, adaptive / fixed',
        runs: runs.adaptive.map((r, i) => runs.fixed[i]!.seconds / r.seconds),
        format: fmt.ratio,
        target: '≥ 0.95',
        verdict: atLeast(0.95),
      },
    ];
  },
};
