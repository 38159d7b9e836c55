import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests fsync real SQLite files and run child processes: two cores, so keep the parallelism modest.
    maxWorkers: 2,
  },
});
