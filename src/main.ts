import { startBridge } from './app.ts'
import { loadConfig } from './config.ts'
import { isBridgeError } from './errors.ts'
import { createLogger } from './logging.ts'

/**
 * Entry point: reads the configuration, starts the bridge, and stops it on SIGTERM/SIGINT. Exit codes:
 * 0 after a clean stop, 1 when start-up fails, 78 (EX_CONFIG) for an invalid configuration, 130 after a
 * second signal, 143 (SIGTERM) or 130 (SIGINT) for a signal during start-up. Kubernetes sends SIGTERM,
 * waits terminationGracePeriodSeconds, then SIGKILL: keep SHUTDOWN_GRACE_MS below that period.
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(process.env)
  } catch (err) {
    process.stderr.write(`file-import-bridge: ${(err as Error).message}\n`)
    process.exitCode = 78
    return
  }
  const logger = createLogger({ level: config.logLevel, destination: process.stdout })
  // Handlers first, so a signal during start-up (which can take minutes while the broker is unreachable)
  // exits at once with a log line: nothing is committed or in flight yet that a drain could save.
  let bridge: Awaited<ReturnType<typeof startBridge>> | undefined
  let signals = 0
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (bridge === undefined) {
      logger.warn({ signal }, 'signal during start-up: exiting now')
      process.exit(signal === 'SIGINT' ? 130 : 143)
    }
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now')
      process.exit(130)
    }
    logger.info({ signal }, 'signal received: stopping')
    void bridge.stop().then(() => {
      process.exitCode = 0
    })
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  try {
    bridge = await startBridge(config, { logger })
  } catch (err) {
    logger.fatal({ err }, 'start-up failed')
    process.exitCode = isBridgeError(err, 'CONFIG_INVALID') ? 78 : 1
    // Open sockets of a half-started bridge must not keep the process alive.
    setTimeout(() => process.exit(), 500).unref()
    return
  }
}

await main()
