/**
 * Codes of input records that cannot be used: permanent, the record goes to the DLQ with the code in
 * its `dlq.reason` header.
 */
export const DLQ_REASONS = [
  'EMPTY_VALUE',
  'UNKNOWN_WIRE_FORMAT',
  'UNKNOWN_SCHEMA_ID',
  'UNSUPPORTED_SCHEMA',
  'UNDECODABLE_AVRO',
  'INVALID_JSON',
  'INVALID_EVENT',
  'MISSING_SYSTEM_NAME',
] as const

export type DlqReason = (typeof DLQ_REASONS)[number]

/**
 * Stable error codes. They are used as DLQ reason headers, as metric label values and in the README's
 * tables, so callers branch on `code`, never on message text.
 */
export const ERROR_CODES = [
  ...DLQ_REASONS,
  // Transient on the way in: retried, never DLQ'd.
  'SCHEMA_REGISTRY_UNAVAILABLE',
  // Import API.
  'API_UNAUTHORIZED',
  'API_FORBIDDEN',
  'API_BAD_REQUEST',
  'API_VERSION_GONE',
  'API_RATE_LIMITED',
  'API_SERVER_ERROR',
  'API_NETWORK_ERROR',
  'API_INVALID_RESPONSE',
  // Configuration.
  'CONFIG_INVALID',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** Options of a {@link BridgeError}. */
export interface BridgeErrorOptions {
  /** True when the same call may succeed later (network, 429, 5xx, registry outage). */
  retryable?: boolean
  cause?: unknown
  /** Extra fields for logs; never secrets. */
  context?: Record<string, unknown>
}

/**
 * The one error class of the bridge: a stable `code` from {@link ERROR_CODES}, a `retryable` verdict,
 * an optional `cause` and `context`.
 */
export class BridgeError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean
  readonly context: Record<string, unknown>

  constructor(code: ErrorCode, message: string, options: BridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'BridgeError'
    this.code = code
    this.retryable = options.retryable ?? false
    this.context = options.context ?? {}
  }
}

/** True when `err` is a {@link BridgeError} with one of `codes` (any code when none given). */
export function isBridgeError(err: unknown, ...codes: ErrorCode[]): err is BridgeError {
  return err instanceof BridgeError && (codes.length === 0 || codes.includes(err.code))
}
