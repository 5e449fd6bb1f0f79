import { randomUUID } from 'node:crypto'
import { type Bridge, startBridge } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import type { Kafka } from '../../src/kafka/client.ts'
import { createLogger } from '../../src/logging.ts'
import { loadMapping } from '../../src/mapping/compile.ts'
import { freePort } from './free-port.ts'
import { LogLines } from './log-lines.ts'
import { printOnFailure } from './print-on-failure.ts'

/** The webhook HMAC key of test bridges (tests check that it never appears in the logs). */
export const TEST_WEBHOOK_SECRET = 'test-webhook-secret-0b7d41c9e2'

/** Topic names unique to one test. */
export function uniqueTopics(prefix: string) {
  const id = randomUUID().slice(0, 8)
  return {
    input: `${prefix}-${id}.file-created`,
    result: `${prefix}-${id}.results`,
    dlq: `${prefix}-${id}.dlq`,
    group: `${prefix}-${id}-bridge`,
    notifications: `${prefix}-${id}.job-notifications`,
  }
}

/**
 * The settings test bridges share, in-process or as a child process: small batches, short linger,
 * poll and commit intervals, `httpPort` for the HTTP server (the webhook URL points at it), a random
 * metrics port, the test webhook secret, info logs and 3 API retries.
 */
export function testBridgeDefaults(httpPort: number): Record<string, string> {
  return {
    BATCH_MAX_FILES: '25',
    BATCH_LINGER_MS: '200',
    STATUS_POLL_INTERVAL_MS: '500',
    COMMIT_INTERVAL_MS: '200',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    METRICS_PORT: '0',
    WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    LOG_LEVEL: 'info',
    API_MAX_RETRIES: '3',
  }
}

/** A bridge started in-process for a test, with its log lines kept in memory. */
export interface TestBridge {
  bridge: Bridge
  /** Every JSON log line written so far, parsed. */
  logs: LogLines
  metricsUrl: string
  stop(): Promise<void>
}

/**
 * Starts a bridge in this process against real Kafka, the registry and an emulator. `env` holds the
 * bridge's environment variables (see the README); sensible test values are filled in: small batches,
 * short linger and poll interval, random ports, a webhook URL on the bridge's own port.
 * @param deps.kafka a Kafka client to use instead of the bridge's own (fault injection)
 */
export async function startTestBridge(
  env: Record<string, string>,
  deps: { kafka?: Kafka } = {},
): Promise<TestBridge> {
  const config = loadConfig(
    { ...testBridgeDefaults(await freePort()), SHUTDOWN_GRACE_MS: '3000', ...env },
    { loadMapping },
  )
  const logs = new LogLines()
  const bridge = await startBridge(config, {
    logger: createLogger({ level: config.logLevel, destination: logs.writable() }),
    ...deps,
  })
  printOnFailure(`bridge log of consumer group ${config.consumer.groupId}`, () =>
    logs.text().split('\n').filter(Boolean),
  )
  return {
    bridge,
    logs,
    metricsUrl: `http://127.0.0.1:${bridge.ports.metrics}/metrics`,
    stop: () => bridge.stop(),
  }
}
