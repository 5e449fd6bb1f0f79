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
 */
export function createLogger(options: { level: string; destination?: NodeJS.WritableStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'file-import-bridge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination ?? process.stdout,
  )
}

export type { Logger }
