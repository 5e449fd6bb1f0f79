import { context, trace } from '@opentelemetry/api'
import { type Logger, pino } from 'pino'

/** Paths pino removes from every log line: the access token and the webhook secret must never be logged. */
export const REDACT_PATHS = [
  'accessToken',
  'token',
  '*.accessToken',
  '*.token',
  'headers.authorization',
  '*.headers.authorization',
  'livingdocs.accessToken',
  'config.livingdocs.accessToken',
  // The webhook HMAC key.
  'webhookSecret',
  '*.webhookSecret',
  'config.webhookSecret',
  'secret',
  '*.secret',
]

/**
 * Creates the root logger: JSON lines on `destination` (stdout by default), with the access token and
 * Authorization headers redacted. Pretty output only through `pino-pretty` in a dev pipe.
 *
 * @param options.traceIds while tracing is on: each line written in an active span carries its
 *   `trace_id`, `span_id` and `trace_flags` (the names of OpenTelemetry's log data model and of
 *   `@opentelemetry/instrumentation-pino`); off, no per-line work is added
 */
export function createLogger(options: {
  level: string
  destination?: NodeJS.WritableStream
  traceIds?: boolean
}): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'file-import-bridge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      ...(options.traceIds === true ? { mixin: activeSpanIds } : {}),
    },
    options.destination ?? process.stdout,
  )
}

/**
 * The ids of the active span (OpenTelemetry context), for pino's `mixin`; none outside a span. A new
 * object each time: pino merges the line's own fields into it.
 */
export function activeSpanIds(): Record<string, string> {
  const span = trace.getSpan(context.active())
  if (span === undefined) return {}
  const { traceId, spanId, traceFlags } = span.spanContext()
  return { trace_id: traceId, span_id: spanId, trace_flags: traceFlags.toString(16).padStart(2, '0') }
}

export type { Logger }
