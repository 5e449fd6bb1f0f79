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
  'MAPPING_FAILED',
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

/** The import API endpoints the bridge calls ([F] §1.1, §1.2). */
export type ApiEndpoint = 'submit' | 'status'

/**
 * A final answer of the import API that is not a success, or no answer at all (`status` 0: a network
 * error or a timeout), after the client's own retries. Like undici's `ResponseError`, the facts callers
 * branch on are typed fields, not entries of the `context` map.
 */
export class ApiError extends BridgeError {
  /** Which call failed. */
  readonly endpoint: ApiEndpoint
  /** The HTTP status of the final answer; 0 when no answer came. */
  readonly status: number
  /**
   * The server's `Retry-After` (RFC 9110 §10.2.3) in ms when it was longer than the client waits for
   * itself: the caller holds its requests until then. Undefined otherwise.
   */
  readonly retryAfterMs: number | undefined

  constructor(
    code: ErrorCode,
    message: string,
    fields: { endpoint: ApiEndpoint; status: number; retryAfterMs?: number | undefined },
    options: BridgeErrorOptions = {},
  ) {
    super(code, message, {
      ...options,
      context: {
        ...options.context,
        endpoint: fields.endpoint,
        status: fields.status,
        ...(fields.retryAfterMs === undefined ? {} : { retryAfterMs: fields.retryAfterMs }),
      },
    })
    this.name = 'ApiError'
    this.endpoint = fields.endpoint
    this.status = fields.status
    this.retryAfterMs = fields.retryAfterMs
  }
}

/** True when `err` is an {@link ApiError} with one of `codes` (any code when none given). */
export function isApiError(err: unknown, ...codes: ErrorCode[]): err is ApiError {
  return err instanceof ApiError && (codes.length === 0 || codes.includes(err.code))
}
