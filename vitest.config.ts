import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The pure core and the store layer carry every verdict: their coverage may not fall below this
    // (npm test runs with --coverage). Measured over the whole suite, unit and integration.
    coverage: {
      provider: 'v8',
      include: ['functions/core/**/*.ts', 'functions/stores/**/*.ts'],
      reporter: ['text-summary'],
      thresholds: {
        'functions/core/**/*.ts': { lines: 90, branches: 80, functions: 90, statements: 90 },
        'functions/stores/**/*.ts': { lines: 85, branches: 75, functions: 85, statements: 85 },
      },
    },
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { name: 'infra', include: ['test/infra/**/*.test.ts'], testTimeout: 120_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          // One RGW serves every file and an admin listing sees all of it: files take turns.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
