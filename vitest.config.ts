import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no services and runs in seconds; `integration` talks to the real local
// stack (Kafka, Redis, moto, dev registry) that scripts/test.sh starts and describes in .stack/env.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['test/integration/setup-env.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // The suite shares one broker on a 2-core machine: run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
