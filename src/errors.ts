/**
 * Codes of input records that cannot be used: permanent, the record goes to the DLQ with the code in
 * its `dlq.reason` header. `REDRIVE_LIMIT_REACHED` is the loop guard's: a record redriven
 * `REDRIVE_MAX_ATTEMPTS` times (docs/redrive.md).
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
  // The loop guard of redrives (src/events/redrive-guard.ts): redriven REDRIVE_MAX_ATTEMPTS times.
  'REDRIVE_LIMIT_REACHED',
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
  'API_NOT_FOUND',
  'API_VERSION_GONE',
  'API_UNEXPECTED_ANSWER',
  'API_RATE_LIMITED',
  'API_QUOTA_EXCEEDED',
  'API_PAYMENT_REQUIRED',
  'API_CONFLICT',
  'API_SERVER_ERROR',
  'API_NETWORK_ERROR',
  'API_INVALID_RESPONSE',
  // Configuration.
  'CONFIG_INVALID',
  // Start-up: a service the bridge needs (Kafka, the schema registry) cannot be reached, or a port is taken.
  'STARTUP_FAILED',
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

/**
 * The Livingdocs API endpoints the bridge calls: the import and its status ([F] §1.1, §1.2), and the
 * media library ([ML] §11.1, §11.2): `lookup` (`GET /mediaLibrary?systemName=&externalId=`), `entry`
 * (`GET /mediaLibrary/{id}`), `patch` (`PATCH /mediaLibrary/{id}`).
 */
export const API_ENDPOINTS = ['submit', 'status', 'lookup', 'entry', 'patch'] as const
export type ApiEndpoint = (typeof API_ENDPOINTS)[number]

/**
 * The classes every answer of the import API falls in, each with one behaviour (docs/import-api.md,
 * "Every answer of the import API"; `classifyAnswer` in src/import/api-answer.ts decides). Used as the
 * `class` label of `bridge_api_answers_total`.
 */
export const ANSWER_CLASSES = [
  /** A job id (submit) or a readable job status (status read). */
  'accepted',
  /** No answer, or a transient one (408, 425, 429 with `Retry-After`, 5xx): ask again later. */
  'retry',
  /**
   * The account: 429 without `Retry-After` on a submit (the plan's usage limit), 402 on any endpoint
   * (the plan's payment): back off up to `API_MAX_HOLD_MS`.
   */
  'quota',
  /** 401 / 403: the access token is wrong, expired or lacks its scope. Hold. */
  'credentials',
  /** 1xx, 3xx, 404 (submit), 405, 406, 407, 410, 415, 501, 505, 511, any 4xx not named elsewhere, a 2xx that is not JSON: the base URL, the API version or what lies between is wrong. Hold. */
  'configuration',
  /** Status read: 404 or `state: "lost"`, the job is not (or not yet) known. */
  'job-unknown',
  /** Media library (`lookup`, `entry`, `patch`): 404, no such entry. */
  'entry-unknown',
  /** `patch`: 409, the entry's `version` changed since it was read ([ML] §11.1). */
  'version-conflict',
  /** A 2xx JSON body that fits no documented shape (no job id, an unknown status shape): ask again later. */
  'unreadable',
  /** Submit of several files refused for its data (400, 409, 413, 422): split it. */
  'batch-data',
  /** Submit of one file, or a `patch` of one entry, refused for its data (400, 413, 422; 409 on a submit): that file is FAILED with the API's message. */
  'file-data',
] as const

export type AnswerClass = (typeof ANSWER_CLASSES)[number]

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
   * The `Retry-After` (RFC 9110 §10.2.3) of the final 429 or 503 in ms, as the server sent it (e.g.
   * longer than the client waits for itself): the caller holds its requests until then, at most
   * `API_MAX_HOLD_MS`. Undefined otherwise.
   */
  readonly retryAfterMs: number | undefined
  /** The class of the answer ({@link ANSWER_CLASSES}); `retry` when no answer came. Callers branch on it. */
  readonly answerClass: AnswerClass
  /** For `credentials` and `configuration`: the settings to check, e.g. `LIVINGDOCS_BASE_URL`. */
  readonly setting: string | undefined

  constructor(
    code: ErrorCode,
    message: string,
    fields: {
      endpoint: ApiEndpoint
      status: number
      retryAfterMs?: number | undefined
      answerClass: AnswerClass
      setting?: string | undefined
    },
    options: BridgeErrorOptions = {},
  ) {
    super(code, message, {
      ...options,
      context: {
        ...options.context,
        endpoint: fields.endpoint,
        status: fields.status,
        ...(fields.retryAfterMs === undefined ? {} : { retryAfterMs: fields.retryAfterMs }),
        answerClass: fields.answerClass,
        ...(fields.setting === undefined ? {} : { setting: fields.setting }),
      },
    })
    this.name = 'ApiError'
    this.endpoint = fields.endpoint
    this.status = fields.status
    this.retryAfterMs = fields.retryAfterMs
    this.answerClass = fields.answerClass
    this.setting = fields.setting
  }
}

/** True when `err` is an {@link ApiError} with one of `codes` (any code when none given). */
export function isApiError(err: unknown, ...codes: ErrorCode[]): err is ApiError {
  return err instanceof ApiError && (codes.length === 0 || codes.includes(err.code))
}
