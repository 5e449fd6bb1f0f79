import { startBridge } from './app.ts'
import { loadConfig } from './config.ts'
import { isBridgeError } from './errors.ts'
import { createLogger } from './logging.ts'

/**
 * Entry point: reads the configuration, starts the bridge, and stops it on SIGTERM/SIGINT (a second
 * signal exits at once with 130; a signal during start-up stops the bridge once started). Exit codes:
 * 0 after a clean stop, 1 when start-up fails, 78 (EX_CONFIG) for an invalid configuration, 130 after a
 * second signal. Kubernetes sends SIGTERM, waits terminationGracePeriodSeconds, then SIGKILL: keep
 * SHUTDOWN_GRACE_MS below that period.
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
  // Handlers first: a SIGTERM during start-up (a rollout that changes its mind) stops the bridge as
  // soon as it has started, instead of killing it with work half-registered.
  let bridge: Awaited<ReturnType<typeof startBridge>> | undefined
  let stopRequested = false
  let signals = 0
  const stop = () => {
    if (bridge === undefined) return
    void bridge.stop().then(() => {
      process.exitCode = 0
    })
  }
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now')
      process.exit(130)
    }
    logger.info({ signal }, 'signal received: stopping')
    stopRequested = true
    stop()
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
  if (stopRequested) stop()
}

await main()
