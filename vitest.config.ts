import { defineConfig } from 'vitest/config';

// Unit and component tests run in parallel. The end-to-end files each bring
// up a real simnet (dcrd + two dcrwallets) and mine on it; on a 2-core
// machine they run one file at a time so block timing stays realistic.
export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'component', include: ['test/component/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // No image registry here: testcontainers must not try to pull its reaper.
          env: { TESTCONTAINERS_RYUK_DISABLED: 'true' },
        },
      },
    ],
  },
});
