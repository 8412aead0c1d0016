import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own Tollgate (and, by default, its own embedded database).
    pool: 'forks',
    maxWorkers: 2,
  },
});
