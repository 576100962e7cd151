import { defineConfig } from 'vitest/config';

// Three projects: fast unit tests beside the code, integration against a real runtime process, and browser e2e.
export default defineConfig({
  test: {
    setupFiles: ['test/setup/no-console.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['nodes/src/**/*.test.ts', 'apps/runtime/src/**/*.test.ts', 'apps/editor/src/**/*.test.{ts,tsx}'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
