/**
 * `npm run bench:cpu`: the CPU each event costs, counted rather than timed, so that a busy shared
 * machine changes it little. A fixed amount of work on each side, alternated, per thread:
 *
 *   ingest    Sluice's ingest against the bare Hono handler of case 1: `BENCH_CPU_REQUESTS`
 *             requests (default 40,000) after 10,000 for warm-up, autocannon, 50 connections.
 *   delivery  a preloaded journal drained to `sluice sink` (concurrency 32) against the plain undici
 *             loop of case 3: the same number of deliveries, after 5,000 for warm-up.
 *
 * Each side runs `BENCH_CPU_ROUNDS` times (default 2), alternating; the table gives µs of CPU per
 * acknowledged request (per delivered event) for each thread kind, each round and the median, and
 * the ratio Sluice / reference of the whole process. `BENCH_CPU_CASES=ingest` or `delivery` runs
 * one half. `BENCH_CPU_COMPARE=<another checkout, built>` adds that build's Sluice as a third side,
 * alternated with the others, for an A/B of a change in one run; `BENCH_CPU_BARE_NODE=1` adds a bare
 * node:http handler (what Hono and its adapter cost). Takes 1–2 minutes.
 */
import { cpus } from 'node:os';
import { CONNECTIONS_NOTE, deliveryCpu, ingestCpu, type Side } from './cpu-sides.js';
import { removeAllWorkspaces } from './journal.js';
import { machineBusy } from './proc.js';
import { installExitHooks, snapshotBuild, stopAll } from './processes.js';
import { median } from './report.js';

function positive(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench:cpu: ${name} must be a positive integer, got "${text}"\n`);
    process.exit(2);
  }
  return n;
}

const requests = positive('BENCH_CPU_REQUESTS', 40_000);
const rounds = positive('BENCH_CPU_ROUNDS', 2);
const compare = process.env.BENCH_CPU_COMPARE?.trim() || undefined;
const which = (process.env.BENCH_CPU_CASES ?? 'ingest,delivery').split(',').map((s) => s.trim());
const log = (message: string) =>
  process.stderr.write(`[bench:cpu ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const removeSnapshot = snapshotBuild();
installExitHooks(() => {
  removeAllWorkspaces();
  removeSnapshot();
});

const began = Date.now();
const before = await machineBusy(1_000);
const sides: Side[] = [];
try {
  if (which.includes('ingest')) sides.push(...(await ingestCpu({ requests, rounds, log, compare })));
  if (which.includes('delivery')) sides.push(...(await deliveryCpu({ requests, rounds, log, compare })));
} finally {
  await stopAll();
  removeAllWorkspaces();
}

const us = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');
const lines = [
  `| side | thread | ${Array.from({ length: rounds }, (_, i) => `round ${i + 1}`).join(' | ')} | median |`,
  `|---|---|${'--:|'.repeat(rounds + 1)}`,
];
for (const side of new Set(sides)) {
  for (const [thread, values] of Object.entries(side.perEvent)) {
    lines.push(`| ${side.name} | ${thread} | ${values.map(us).join(' | ')} | ${us(median(values))} |`);
  }
}
const ratios: string[] = [];
for (let i = 0; i + 1 < sides.length; i += 2) {
  const ours = sides[i]!;
  const reference = sides[i + 1]!;
  const each = ours.perEvent.total!.map((v, r) => v / reference.perEvent.total![r]!);
  ratios.push(
    `| ${ours.name} / ${reference.name} | total | ${each.map((v) => v.toFixed(2)).join(' | ')} | ${(
      median(ours.perEvent.total!) / median(reference.perEvent.total!)
    ).toFixed(2)} |`,
  );
}
const after = await machineBusy(1_000);
process.stdout.write(
  `\n## CPU per event (µs of CPU time per acknowledged request / delivered event)\n\n` +
    `${requests.toLocaleString('en-US')} measured per side and round, ${rounds} rounds alternated; ${CONNECTIONS_NOTE}; ` +
    `Node ${process.version}, ${cpus().length} CPUs; machine busy before ${before.busy.toFixed(0)} %, after ${after.busy.toFixed(0)} % ` +
    `(load average ${(await import('node:os')).loadavg()[0]!.toFixed(2)}); took ${((Date.now() - began) / 60_000).toFixed(1)} min.\n\n` +
    `${[...lines, ...ratios].join('\n')}\n`,
);
process.exit(0);
