/**
 * `npm run bench`: Sluice's performance cases (test/bench/README.md), each a warm-up then a
 * fixed-duration run, done twice; prints a markdown table of the runs, their medians and the targets.
 * A benchmark, not a test: it exits 0 whatever the verdicts (a case that cannot run gets an
 * ERROR row); only a malformed BENCH_* variable exits 2.
 *
 *   BENCH_DURATION=5 npm run bench          quick: 5 s runs (the longer cases scale with it)
 *   BENCH_CASES=ingest,3 npm run bench      some cases, by number or name
 *   BENCH_BACKLOG=200000 npm run bench      a smaller backlog for case 2
 *
 * Progress goes to stderr, the table to stdout. The gateways run from a copy of dist/ taken at
 * the start (see `snapshotBuild`). Every child process is killed, and every temporary journal
 * deleted, however the run ends.
 */
import { cpus } from 'node:os';
import { adaptiveFastCase, adaptiveNginxCase, adaptivePoolCase, adaptiveRecoveryCase } from './cases/adaptive.js';
import { backlogCase } from './cases/backlog.js';
import { deliveryCase } from './cases/delivery.js';
import { ingestCase } from './cases/ingest.js';
import { orderingCase } from './cases/ordering.js';
import { pacingCase } from './cases/pacing.js';
import { slowCrmCase } from './cases/slow-crm.js';
import { removeAllWorkspaces } from './journal.js';
import { type MachineUse, machineBusy } from './proc.js';
import { installExitHooks, scoped, snapshotBuild, stopAll } from './processes.js';
import { failedCase, fmt, markdownTable, type Row } from './report.js';
import { type BenchCase, readSettings, type Settings, selectCases } from './settings.js';

const ALL: BenchCase[] = [
  ingestCase,
  backlogCase,
  deliveryCase,
  pacingCase,
  slowCrmCase,
  orderingCase,
  adaptiveNginxCase,
  adaptivePoolCase,
  adaptiveRecoveryCase,
  adaptiveFastCase,
];

/** Machine use (% of all cores) under which a case starts at once. */
const QUIET_BUSY = 15;
/** Longest wait for a quiet machine before a case starts anyway. */
const QUIET_WAIT_MS = 30_000;

/**
 * The machine is shared: waits, for a bounded time, until other processes leave it mostly idle,
 * so that a case does not start in the middle of someone else's test run. Returns the last
 * reading, which the table reports with the case.
 */
async function waitForQuietMachine(): Promise<MachineUse> {
  const until = Date.now() + QUIET_WAIT_MS;
  for (;;) {
    const use = await machineBusy(1_000);
    if (use.busy < QUIET_BUSY || Date.now() > until) return use;
  }
}

/** Runs one case under its watchdog; always resolves with rows (an ERROR row if it failed). */
async function runCase(benchCase: BenchCase, settings: Settings): Promise<Row[]> {
  const label = `${benchCase.id} ${benchCase.title}`;
  const budgetS = Math.round(benchCase.budgetS(settings));
  settings.log(`case ${label} (at most ${budgetS} s)`);
  const background = await waitForQuietMachine();
  if (background.busy >= QUIET_BUSY)
    settings.log(`machine still ${fmt.percent(background.busy)} busy with other processes; starting anyway`);

  let timer: NodeJS.Timeout | undefined;
  // A case that hangs is abandoned (it may start no more children, and those it has are stopped
  // below), so the other cases still run and the table is still printed.
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within its ${budgetS} s budget`)), budgetS * 1000);
  });
  const work = scoped(() => benchCase.run(settings));
  try {
    const rows = await Promise.race([work.result, watchdog]);
    const name = rows[0]?.case ?? label;
    return [
      ...rows,
      {
        case: name,
        metric: 'machine busy before the case (other processes)',
        runs: [background.busy],
        format: fmt.percent,
      },
    ];
  } catch (error) {
    settings.log(`case ${label} failed: ${(error as Error).stack ?? String(error)}`);
    return [failedCase(label, error)];
  } finally {
    clearTimeout(timer);
    work.abandon();
    await stopAll();
    removeAllWorkspaces();
  }
}

async function main(): Promise<number> {
  let settings: Settings;
  let cases: BenchCase[];
  try {
    settings = readSettings();
    cases = selectCases(ALL);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    return 2;
  }
  const removeSnapshot = snapshotBuild();
  installExitHooks(() => {
    removeAllWorkspaces();
    removeSnapshot();
  });
  const began = Date.now();
  const rows: Row[] = [];
  for (const benchCase of cases) rows.push(...(await runCase(benchCase, settings)));

  const minutes = ((Date.now() - began) / 60_000).toFixed(1);
  process.stdout.write(
    `\n## Sluice benchmark\n\n` +
      `BENCH_DURATION=${settings.durationS} s (warm-up ${settings.warmupS} s), ${settings.runs} runs per case, medians; ` +
      `Node ${process.version}, ${cpus().length} CPUs; load from its own process on 127.0.0.1 (autocannon; case 5: evenly paced undici); took ${minutes} min.\n\n` +
      `${markdownTable(rows, settings.runs)}\n`,
  );
  return 0;
}

process.exit(await main());
