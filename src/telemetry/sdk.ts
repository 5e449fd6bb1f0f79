import { DiagLogLevel, diag, type Tracer, trace } from '@opentelemetry/api'
import type { Logger } from '../logging.ts'

/** The service name of the spans unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` names another. */
const SERVICE_NAME = 'file-import-bridge'

/** At most one log line per this long about the SDK's errors (an unreachable collector fails every export), ms. */
const SDK_WARNING_INTERVAL_MS = 60_000

/**
 * Whether the bridge makes spans: only when an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), the SDK is not disabled (`OTEL_SDK_DISABLED`) and
 * `OTEL_TRACES_EXPORTER` is not `none`. Everything else about traces the SDK reads from `OTEL_*` itself.
 */
export interface TracingSwitch {
  enabled: boolean
  /** The traces endpoint, for the start-up log line; undefined when off. */
  endpoint: string | undefined
}

/** Tracing as started: the tracer (undefined while off) and the flush at the end. */
export interface Telemetry {
  tracer: Tracer | undefined
  /**
   * Exports the spans still buffered and stops the SDK, waiting at most `timeoutMs`; never throws.
   * Nothing to do while off.
   */
  shutdown(timeoutMs: number): Promise<void>
}

/**
 * Starts OpenTelemetry tracing once, at start-up (src/main.ts), when `tracing.enabled` (an OTLP endpoint
 * is set): the Node SDK (`@opentelemetry/sdk-node`) configured by the standard `OTEL_*` variables,
 * which it reads itself — the endpoint and protocol of the OTLP exporter, `OTEL_TRACES_SAMPLER` and
 * its argument, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_PROPAGATORS`, the batch span
 * processor's `OTEL_BSP_*` (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/).
 * Traces only: no metrics or logs are exported (the bridge's metrics are Prometheus', its logs pino's
 * lines on stdout), and no instrumentation library patches other modules: the bridge makes its spans
 * itself (src/telemetry/bridge-tracing.ts). The SDK's modules are loaded only then, so a bridge without
 * tracing neither loads nor runs any of it.
 *
 * What the SDK reports of its own errors and warnings (an export that failed: the collector is away)
 * becomes a warning on `logger`, at most one per {@link SDK_WARNING_INTERVAL_MS}: spans are lost then,
 * nothing else is. With `OTEL_LOG_LEVEL` set the SDK prints its own diagnostics instead, as it documents.
 */
export async function startTelemetry(tracing: TracingSwitch, logger: Logger): Promise<Telemetry> {
  if (!tracing.enabled) return { tracer: undefined, shutdown: () => Promise.resolve() }
  const [{ NodeSDK }, { defaultResource, resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/resources'),
  ])
  const sdk = new NodeSDK({
    // Under the resource detectors' attributes: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': SERVICE_NAME })),
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  })
  if (process.env.OTEL_LOG_LEVEL === undefined)
    diag.setLogger(sdkWarnings(logger), {
      logLevel: DiagLogLevel.WARN,
      suppressOverrideMessage: true,
    })
  sdk.start()
  return {
    tracer: trace.getTracer(SERVICE_NAME),
    async shutdown(timeoutMs) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs)
      })
      await Promise.race([sdk.shutdown().catch(() => undefined), timeout])
      clearTimeout(timer)
    },
  }
}

/** The SDK's diagnostics as warnings on `logger`, at most one per {@link SDK_WARNING_INTERVAL_MS}. */
function sdkWarnings(logger: Logger) {
  let lastAt = Number.NEGATIVE_INFINITY
  const warn = (message: string, ...args: unknown[]) => {
    const now = Date.now()
    if (now - lastAt < SDK_WARNING_INTERVAL_MS) return
    lastAt = now
    const details = args.map((a) => (a instanceof Error ? a.message : String(a)))
    logger.warn(
      { component: 'opentelemetry', details, intervalMs: SDK_WARNING_INTERVAL_MS },
      `OpenTelemetry SDK: ${readable(message)}; spans may be lost (further warnings suppressed for a minute)`,
    )
  }
  const ignore = () => undefined
  return { error: warn, warn, info: ignore, debug: ignore, verbose: ignore }
}

/** The SDK's global error handler hands an error as its JSON: its message alone, else the text's first line. */
function readable(message: string): string {
  try {
    const parsed = JSON.parse(message) as { message?: unknown }
    if (typeof parsed?.message === 'string') return parsed.message
  } catch {
    // not JSON: the text itself
  }
  return message.split('\n', 1)[0] ?? message
}
