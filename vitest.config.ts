// Tests run in forks (one process per file) so a native crash names its file, and never in parallel
// beyond the two cores this project is built for.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1, execArgv: ['--expose-gc'] } },
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
