import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time on the 2-core CI machine (vitest's default is cores - 1, one file at a time): the
    // suite is mostly waiting on servers, child processes and databases; 1,000 s of tests run in about 600 s.
    maxWorkers: 2,
  },
});
