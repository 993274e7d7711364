import { defineConfig } from 'vitest/config';

// Each test file runs in its own process (forks pool): a file that breaks its process cannot take
// the others with it.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    isolate: true,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
