/**
 * The node report loop: a failing report is logged once and its recovery once, and a report the
 * database never answers does not hold up the stop.
 */
import { describe, expect, it } from 'vitest';
import { runNodeHeartbeat } from '../../src/cluster/heartbeat.js';
import type { NodeReporter } from '../../src/cluster/node-report.js';
import { capturedLogger } from '../helpers/log.js';

const reporter: NodeReporter = {
  report: () => ({ host: 'h', pid: 1, version: '0.1.0', listeners: {}, startedAt: 0, draining: {} }),
  listening: () => {},
};

describe('node heartbeat', () => {
  it('logs a failing report once, and once when reports work again', async () => {
    const { logger, entries } = capturedLogger();
    const stop = new AbortController();
    let calls = 0;
    const record = async () => {
      calls += 1;
      if (calls >= 2 && calls <= 4) throw new Error('connection refused');
      if (calls === 6) stop.abort();
    };
    await runNodeHeartbeat({ record, reporter, logger, signal: stop.signal, everyMs: 5 });
    expect(calls).toBe(6);
    const said = entries().map((e) => e.msg);
    expect(said.filter((m) => String(m).startsWith('could not write this node report'))).toHaveLength(1);
    expect(said.filter((m) => String(m).startsWith('node report written again'))).toHaveLength(1);
  });

  it('stops at once while a report waits for a database that never answers', async () => {
    const { logger } = capturedLogger();
    const stop = new AbortController();
    const loop = runNodeHeartbeat({ record: () => new Promise(() => {}), reporter, logger, signal: stop.signal });
    setTimeout(() => stop.abort(), 20);
    const started = performance.now();
    await loop;
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
