import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One broker on 2 cores: files share it one at a time.
          fileParallelism: false,
          // Test code's own plain kafkajs producers need no reminder of kafkajs 2.0's partitioner change.
          env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
          // kafkajs' request queue sets negative timeouts; Node 24 warns about each (harmless).
          execArgv: ['--disable-warning=TimeoutNegativeWarning'],
        },
      },
    ],
  },
})
