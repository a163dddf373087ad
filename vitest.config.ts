import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Every folder of functions/ has a coverage floor (npm test runs with --coverage), a few points
    // under what the whole suite, unit and integration, measured when they were set (see the README,
    // "How it is built"). Coverage is counted in the test process only: cli/ and demo/ run mostly
    // as the built `csdrift` in child processes, so their floors are low by construction.
    coverage: {
      provider: 'v8',
      include: ['functions/**/*.ts'],
      exclude: ['functions/types/**'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      thresholds: {
        'functions/actions/**/*.ts': { lines: 88, branches: 70, functions: 82, statements: 85 },
        'functions/*.ts': { lines: 83, branches: 66, functions: 85, statements: 81 },
        'functions/cli/**/*.ts': { lines: 20, branches: 17, functions: 11, statements: 19 },
        'functions/cloudstack/**/*.ts': { lines: 83, branches: 60, functions: 85, statements: 80 },
        'functions/common/**/*.ts': { lines: 95, branches: 78, functions: 75, statements: 95 },
        'functions/core/**/*.ts': { lines: 92, branches: 81, functions: 95, statements: 90 },
        'functions/demo/**/*.ts': { lines: 35, branches: 58, functions: 37, statements: 32 },
        'functions/handlers/**/*.ts': { lines: 88, branches: 65, functions: 85, statements: 82 },
        'functions/metrics/**/*.ts': { lines: 75, branches: 50, functions: 30, statements: 74 },
        'functions/notify/**/*.ts': { lines: 56, branches: 31, functions: 55, statements: 58 },
        'functions/reports/**/*.ts': { lines: 92, branches: 74, functions: 92, statements: 91 },
        'functions/secrets/**/*.ts': { lines: 85, branches: 70, functions: 80, statements: 85 },
        'functions/sources/**/*.ts': { lines: 90, branches: 72, functions: 78, statements: 84 },
        'functions/state/**/*.ts': { lines: 74, branches: 58, functions: 74, statements: 72 },
        'functions/stores/**/*.ts': { lines: 90, branches: 76, functions: 91, statements: 88 },
        'functions/watch/**/*.ts': { lines: 88, branches: 70, functions: 84, statements: 83 },
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
