import { defineConfig } from 'vitest/config';

// One vitest run over every package. Tests import packages through their built `dist/`
// entry points (workspace links), so `npm test` builds first.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: true,
  },
});
