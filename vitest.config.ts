import { defineConfig } from 'vitest/config';

/**
 * Unit tests: pure modules, no server, thread, child process or file. Name a new one `*.unit.test.ts`;
 * the files listed here came before that convention.
 */
const unit = [
  'test/**/*.unit.test.ts',
  'test/cli/format.test.ts',
  'test/config/plan.test.ts',
  'test/config/units.test.ts',
  'test/config/verify-config.test.ts',
  'test/delivery/pacing/circuit-breaker.test.ts',
  'test/delivery/pacing/token-bucket.test.ts',
  'test/delivery/retry-policy.test.ts',
  'test/delivery/waiter.test.ts',
  'test/ingest/dedupe-key.test.ts',
  'test/senders/resign/forwarded-headers.test.ts',
  'test/senders/verify/constant-time.test.ts',
];

/** End-to-end tests: the built CLI (dist/, `npm run build` first) as a child process. */
const e2e = ['test/e2e/**/*.test.ts', 'test/cli/commands.test.ts', 'test/cli/status.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: unit,
          // Nothing shared to fight over: a worker thread per core.
          pool: 'threads',
          maxWorkers: '100%',
          // A group of its own (run first), since its worker count differs from the others'.
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // Real SQLite files, HTTP listeners, journal threads, the gateway in-process.
          include: ['test/**/*.test.ts'],
          exclude: [...unit, ...e2e],
          // They fsync real files: two cores, so keep the parallelism modest.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: e2e,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
