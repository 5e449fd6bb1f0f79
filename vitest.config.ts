import { defineConfig } from 'vitest/config'

/**
 * Integration files that run alone, one after another, once the others are done: those that measure
 * time, rate, memory or CPU (a second file beside them would be in their figures), and those that stop
 * part of the shared stack (the broker, the registry) for an outage of their own.
 */
const ALONE = [
  // measure
  'api-budget',
  'backlog-eta',
  'bench',
  'memory-budget',
  'pause-resume',
  'rebalance-storm',
  'stack',
  'startup',
  'traces',
  // stop the shared broker or registry
  'shutdown-crash',
  'transient',
].map((name) => `test/integration/${name}.test.ts`)

const integration = {
  globalSetup: ['test/support/global-setup.ts'],
  testTimeout: 120_000,
  hookTimeout: 180_000,
  // Test code's own plain kafkajs producers need no reminder of kafkajs 2.0's partitioner change.
  env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
  // kafkajs' request queue sets negative timeouts; Node 24 warns about each (harmless).
  execArgv: ['--disable-warning=TimeoutNegativeWarning'],
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // A group's projects share one pool: the same number of workers as the integration files'.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...integration,
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: ALONE,
          // Two files at a time beside the unit tests: most of an integration file's time is spent
          // waiting on the broker, the emulator's jobs and the bridges' timers; each test makes its own
          // topics and consumer groups on the shared broker.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...integration,
          name: 'integration-alone',
          include: ALONE,
          // One file at a time, after the others, on a machine as quiet as the suite allows.
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
})
