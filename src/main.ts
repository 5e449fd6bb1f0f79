import { startBridge } from './app.ts'
import { loadConfig, misspeltSettings } from './config.ts'
import { isBridgeError } from './errors.ts'
import { createLogger } from './logging.ts'
import { loadMapping } from './mapping/compile.ts'
import { startTelemetry } from './telemetry/sdk.ts'

/** Exit code after a component stopped for good (EX_SOFTWARE, sysexits.h): Kubernetes restarts the pod. */
const EXIT_COMPONENT_CRASHED = 70
/** Longest wait for the last spans to be exported before the process exits, ms. */
const SPAN_FLUSH_MS = 5_000

/**
 * Entry point: reads the configuration, starts the bridge, and stops it on SIGTERM/SIGINT. Exit codes:
 * 0 after a clean stop, 1 when start-up fails, 70 (EX_SOFTWARE) after a component stopped for good (a
 * consumer crash kafkajs does not recover from, a publish that cannot go on; the bridge stops what it
 * can first), 78 (EX_CONFIG) for an invalid configuration, 130 after a second signal, 143 (SIGTERM) or
 * 130 (SIGINT) for a signal during start-up. Kubernetes sends SIGTERM, waits
 * terminationGracePeriodSeconds, then SIGKILL: keep SHUTDOWN_GRACE_MS below that period.
 *
 * Once the bridge says "bridge stopped" the process exits at once (`process.exit`), rather than waiting
 * for the event loop to empty: kafkajs can leave sockets and timers behind, e.g. after a broker restart
 * a connection of a crashed-and-restarted consumer or a reconnect timer, which kept the process alive
 * for good and made every pod wait out its termination grace period. Everything worth keeping is done
 * by then: results published, offsets committed, servers closed, and the log written (pino writes to
 * stdout synchronously for files and pipes). What was still open is logged at debug.
 *
 * Tracing (src/telemetry/sdk.ts) starts before the bridge when an OTLP endpoint is set, and its buffered
 * spans are exported before the process exits (at most {@link SPAN_FLUSH_MS}).
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(process.env, { loadMapping })
  } catch (err) {
    process.stderr.write(`file-import-bridge: ${(err as Error).message}\n`)
    process.exitCode = 78
    return
  }
  const logger = createLogger({
    level: config.logLevel,
    destination: process.stdout,
    traceIds: config.tracing.enabled,
  })
  const telemetry = await startTelemetry(config.tracing, logger)
  if (config.tracing.enabled)
    logger.info({ endpoint: config.tracing.endpoint }, 'tracing on: exporting spans over OTLP')
  // A misspelt setting is ignored (its default applies): say so, once per variable.
  for (const { variable, didYouMean } of misspeltSettings(process.env))
    logger.warn(
      { variable, didYouMean },
      `environment variable ${variable} is not a setting and is ignored; did you mean ${didYouMean}?`,
    )
  // Handlers first, so a signal during start-up (which can take minutes while the broker is unreachable)
  // exits at once with a log line: nothing is committed or in flight yet that a drain could save.
  let bridge: Awaited<ReturnType<typeof startBridge>> | undefined
  let signals = 0
  /** Of a clean stop: 0, or 70 once a component crashed (a signal during that stop keeps it). */
  let exitCode = 0
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
    void bridge.stop().then(() => exitNow(exitCode))
  }
  const exitNow = async (code: number) => {
    await telemetry.shutdown(SPAN_FLUSH_MS)
    logger.debug({ openResources: process.getActiveResourcesInfo() }, 'exiting')
    process.exit(code)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  try {
    bridge = await startBridge(config, { logger, tracer: telemetry.tracer })
  } catch (err) {
    // One line that says what failed, naming the service and its setting (src/startup-checks.ts).
    logger.fatal({ err }, `start-up failed: ${(err as Error)?.message ?? String(err)}`)
    process.exitCode = isBridgeError(err, 'CONFIG_INVALID') ? 78 : 1
    // Open sockets of a half-started bridge must not keep the process alive.
    setTimeout(() => process.exit(), 500).unref()
    return
  }
  const running = bridge
  void running.crashed.then(async () => {
    exitCode = EXIT_COMPONENT_CRASHED
    // A stop that hangs on a broken client must not keep a useless process alive.
    setTimeout(() => void exitNow(exitCode), config.shutdownGraceMs + 15_000).unref()
    await running.stop()
    await exitNow(exitCode)
  })
}

await main()
