// Shared types and defaults of the Livingdocs file import API emulator.
// "[F] §1.2" style references point to /work/shared/livingdocs-import-api.md (the contract sheet).

/** Scope needed by both file import endpoints. [F][GS] §3 */
export const WRITE_SCOPE = 'public-api:write'

/** The two emulated endpoints, used as labels in stats and fault filters. */
export type EmulatorEndpoint = 'import' | 'status'

/** A metadata rule of one property, as a project config's `li-text` plugin would declare it. [MT] §7 */
export type MetadataRule = {
  /** The property must be present and not empty (`null`, `undefined` and `''` count as missing). */
  required?: boolean
  /** Longest allowed string, in characters (UTF-16 code units, like `String.length`). */
  maxLength?: number
  /** Expected JSON type of the value when present. */
  type?: 'string' | 'number' | 'boolean' | 'object' | 'array'
}

/** One mediaType of the emulated project config. [MT] §7 */
export type MediaTypeConfig = {
  /** Livingdocs mediaType kind. The file import accepts only `mediaFile` entries. Default `mediaFile`. [MT] §7 */
  type?: 'mediaFile' | 'mediaImage' | 'mediaVideo'
  /** Declared metadata properties and their rules. Undeclared properties are accepted unless `strict`. */
  metadata?: Record<string, MetadataRule>
  /** Reject metadata properties that are not declared. Default `false`. */
  strict?: boolean
}

/**
 * Behaviours where the docs disagree with themselves. [F] §1.2, [PR1209], [GIT], [D] §7, §9
 * - `perFileSuccessValue`: per-file value of an imported entry: `imported` ([PR1209], default) or `success` (the page).
 * - `perFileStateKey`: per-file key: `state` (docs since 2025-03-18, default) or `status` (older docs, [GIT]).
 * - `unknownJob`: status of an unknown job id: `lost` answers HTTP 200
 *   `{finished:false,state:'lost',id:'no import job found for id "<id>"'}` (as the document import does, default);
 *   `404` answers `{status:404,error:'Not Found',error_details:{message:'no import job found for id "<id>"'}}`.
 */
export type EmulatorVariants = {
  perFileSuccessValue: 'imported' | 'success'
  perFileStateKey: 'state' | 'status'
  unknownJob: 'lost' | '404'
}

/** Default variants: the newest evidence of each disagreement. */
export const DEFAULT_VARIANTS: EmulatorVariants = {
  perFileSuccessValue: 'imported',
  perFileStateKey: 'state',
  unknownJob: 'lost',
}

/**
 * A fault that answers some requests with an error instead of handling them.
 * - `count`: answer the next N matching requests with the error (decremented on each hit; 0 = spent).
 * - `probability`: when `count` is not set, answer each matching request with this probability (0..1).
 *   With neither, every matching request is answered with the error.
 * - `endpoints`: only these endpoints (default both).
 * - `retryAfterSeconds`: send a `Retry-After` header with this value.
 * - `retryAfter`: send this `Retry-After` header as it is (e.g. an HTTP-date, RFC 9110 §10.2.3); wins
 *   over `retryAfterSeconds`.
 */
export type RequestFault = {
  count?: number
  probability?: number
  endpoints?: EmulatorEndpoint[]
  retryAfterSeconds?: number
  retryAfter?: string
}

/**
 * `redirect` fault: answers a redirect instead of handling the request (an http→https redirect, or one
 * that adds a trailing slash, as a proxy in front of the API would). `location` default: the request's
 * URL with `https:`; `'trailing-slash'`: the request's path with a `/` added.
 */
export type RedirectFault = RequestFault & {
  /** Default 308. */
  status?: 301 | 302 | 303 | 307 | 308
  location?: string
}

/**
 * `answerWith` fault: answers any status with a body of a chosen shape instead of handling the request
 * (405, 406, 415, a 200 of an unknown shape, …). `body`: `'documented'` (default, `{status, error,
 * error_details}` [GS] §6), `'none'`, `'text'` (a plain text line), or any JSON value sent as it is.
 */
export type AnswerWithFault = RequestFault & {
  status: number
  body?: 'documented' | 'none' | 'text' | Record<string, unknown> | unknown[]
}

/** `rateLimit429` fault: answers 429 "Usage Limit Exceeded" with the documented body. [F][OA] §5 */
export type RateLimitFault = RequestFault & {
  /** `error_details.message`. Default describes an emulated rate limit. */
  message?: string
}

/** `serverError5xx` fault: answers 500/502/503 with the generic error body. [GS] §6 */
export type ServerErrorFault = RequestFault & {
  /** Status to answer; an array is cycled through hit by hit. Default 503. */
  status?: number | number[]
}

/**
 * Switchable faults, for tests of a client. All default to off.
 * - `latencyMs`: added before every response (ms).
 * - `rateLimit429`, `serverError5xx`: see {@link RateLimitFault}, {@link ServerErrorFault}; `null` = off.
 * - `dropWebhooks`: the job callback is not sent at all.
 * - `duplicateWebhooks`: the job callback is sent twice (same body, one after the other).
 * - `stuckJobs`: jobs created while set stay `started` forever (no files processed, no webhook).
 * - `failJobs`: jobs created while set end `{finished:true,state:'failed',id}` with no files. [F] §1.2
 * - `quota`: plan quota; a POST whose files would exceed `filesPerDay` accepted files in the last 24 h
 *   answers 429 "Usage Limit Exceeded". [F][OA] §5
 * - `fileFailureRate`: probability (0..1) that a file ends `failed` with `Could not upload file` without
 *   being downloaded.
 * - `rejectFiles`: a POST containing one of these `files[].id`s is refused as a whole with `status`
 *   (400 or 422, default 422) naming each offending entry, as a validation rule of the real API would;
 *   `shape` picks the body: `documented` (default, `error_details` by JSON path), `error` (only
 *   `{"error": "files[N].id …"}`), `message` (only `{"message": …}`), or `text` (plain text).
 * - `redirect`, `answerWith`: request faults, see {@link RedirectFault}, {@link AnswerWithFault}.
 * - `acceptStatus`: the HTTP status of an accepted POST (default 200; e.g. 201 or 202), body `{"id"}`.
 * - `jobVisibilityDelayMs`: a job is unknown to the status endpoint (answered per the `unknownJob`
 *   variant: `lost` or 404) until it is this old, as a store that is not yet consistent would (ms).
 * - `lostJobs`: the next `count` jobs created run (and import their files, and send their webhook) but
 *   the status endpoint never knows them (answered per the `unknownJob` variant).
 * - `nullOptionalFields`: status answers carry `null` in the optional fields (`startedAt`, `files`, a
 *   file's `systemName`, `mediaId`, `reason`) and an unknown extra key.
 * - `omitResults`: a finished job's status leaves out its last `count` per-file results, in its first
 *   `reads` status answers once finished (every answer when `reads` is not set).
 * - `foreignResults`: a finished job's status lists one more result, for an id that was not in the job.
 */
export type EmulatorFaults = {
  latencyMs: number
  rateLimit429: RateLimitFault | null
  serverError5xx: ServerErrorFault | null
  dropWebhooks: boolean
  duplicateWebhooks: boolean
  stuckJobs: boolean
  failJobs: boolean
  quota: { filesPerDay: number } | null
  fileFailureRate: number
  rejectFiles: {
    externalIds: string[]
    status?: 400 | 422
    shape?: 'documented' | 'error' | 'message' | 'text'
  } | null
  redirect: RedirectFault | null
  answerWith: AnswerWithFault | null
  acceptStatus: number
  jobVisibilityDelayMs: number
  lostJobs: { count: number } | null
  nullOptionalFields: boolean
  omitResults: { count: number; reads?: number } | null
  foreignResults: boolean
}

/** All faults off. */
export const NO_FAULTS: EmulatorFaults = {
  latencyMs: 0,
  rateLimit429: null,
  serverError5xx: null,
  dropWebhooks: false,
  duplicateWebhooks: false,
  stuckJobs: false,
  failJobs: false,
  quota: null,
  fileFailureRate: 0,
  rejectFiles: null,
  redirect: null,
  answerWith: null,
  acceptStatus: 200,
  jobVisibilityDelayMs: 0,
  lostJobs: null,
  nullOptionalFields: false,
  omitResults: null,
  foreignResults: false,
}

/** A pino-compatible logger (only these methods are used). Default: silent. */
export type EmulatorLogger = {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

/** Options of {@link createLivingdocsEmulator} (all optional). */
export type LivingdocsEmulatorOptions = {
  /** Access tokens and their scopes. Default `{ [token]: ['public-api:write'] }`. [GS] §3 */
  tokens?: Record<string, string[]>
  /** Token used when `tokens` is not given, and returned by `startLivingdocsEmulator`. Default `emulator-token`. */
  token?: string
  /** Accepted API versions. Default `v1`, `beta` and the odd months `2025-03` … `2026-11`. [VER] §4 */
  apiVersions?: string[]
  /**
   * Versions that answer 410 Gone. [VER] §4 Besides these, every `YYYY-MM` version older than the oldest
   * accepted date version answers 410 (e.g. `2024-01`). Listing an accepted version here removes it.
   */
  removedVersions?: string[]
  /** The version `startLivingdocsEmulator` reports (must be accepted). Default: newest accepted date version. */
  apiVersion?: string
  /** Most files per POST; more answers 400 `{files: ...}`. Default 1000 (the server's `import.jobs.batchSize`, §5). */
  maxFilesPerRequest?: number
  /** Largest JSON request body in bytes; more answers 413. Default 10 MiB (10485760). §9 */
  bodyLimitBytes?: number
  /** Timeout of one file download (whole request and body), ms. Default 10000. */
  downloadTimeoutMs?: number
  /** Largest file accepted, bytes; larger downloads fail. Default 100 MiB. */
  maxFileBytes?: number
  /** Files processed at the same time within one job. Default 8. ([SC] `import.jobs.concurrency` §5) */
  fileConcurrency?: number
  /** Extra time every job stays `started` before its files are processed, ms. Default 0. */
  jobDurationMs?: number
  /**
   * Extra random time, uniform in [0, jobDurationJitterMs), added to `jobDurationMs` per job, ms, so jobs
   * finish out of submission order. Drawn from `random`. Default 0.
   */
  jobDurationJitterMs?: number
  /** Project config mediaTypes. Default `{ file: { type: 'mediaFile' } }` with no metadata rules. [MT] §7 */
  mediaTypes?: Record<string, MediaTypeConfig>
  /** Timeout of one webhook POST, ms. Default 10000. */
  webhookTimeoutMs?: number
  /** Extra webhook attempts after a failed one (network error or non-2xx). Default 0 (no retries). */
  webhookRetries?: number
  /** Pause between webhook attempts, ms. Default 500. */
  webhookRetryDelayMs?: number
  /**
   * Benchmarks only: do not download file URLs; each file is treated as downloaded with the URL's bytes
   * as its content (so a repeated pair with the same URL is `skipped`). Default false: real downloads.
   */
  skipDownloads?: boolean
  /**
   * A server-side rate limit: at most this many requests per second to the two endpoints (a fixed
   * one-second window); requests over it answer 429 Usage Limit Exceeded with `Retry-After: 1` [F][OA] §5.
   * Default none.
   */
  rateLimitPerSecond?: number
  /** Initial variants (merged over {@link DEFAULT_VARIANTS}). */
  variants?: Partial<EmulatorVariants>
  /** Initial faults (merged over {@link NO_FAULTS}). */
  faults?: Partial<EmulatorFaults>
  /** Logger for webhook errors and job events. Default: silent. */
  logger?: EmulatorLogger
  /** Random source in [0,1) for probabilities and ids. Default `Math.random`. */
  random?: () => number
  /** Clock. Default `() => new Date()`. */
  now?: () => Date
}

/** Per-file outcome as stored (the rendered form depends on the variants). [F] §1.2 */
export type FileOutcome = {
  state: 'imported' | 'skipped' | 'failed'
  systemName: string
  externalId: string
  mediaId?: string
  reason?: string
}

/** One validated `files[]` entry. [F] §1.1 */
export type FileInput = {
  id: string
  url: string
  fileName: string
  metadata: Record<string, unknown>
  mediaType: string
}

/** A job as recorded by the emulator (returned by `getJob`, a copy). */
export type JobRecord = {
  id: string
  apiVersion: string
  systemName: string
  webhook?: string
  context?: Record<string, unknown>
  files: FileInput[]
  state: 'started' | 'success' | 'failed'
  finished: boolean
  /** Why the job ends as it does: `stuck`/`failed` come from faults; `cancelled` from close()/reset(). */
  fault?: 'stuck' | 'failed' | 'cancelled'
  /** The `lostJobs` fault: the status endpoint never knows this job. */
  hidden?: boolean
  /** Status answers given for this job once it finished with `success` (for `omitResults.reads`). */
  finishedReads?: number
  startedAt: Date
  finishedAt?: Date
  /** Per-file outcomes in request order, present once finished with `success`. */
  results?: FileOutcome[]
  /** Number of webhook POSTs that got a 2xx answer. */
  webhooksDelivered: number
}

/** An entry of the emulated media library. [ML] §7 */
export type MediaEntry = {
  /** The `mediaId`. */
  id: string
  version: number
  systemName: string
  externalId: string
  mediaType: string
  fileName: string
  metadata: Record<string, unknown>
  url: string
  /** sha256 (hex) of the downloaded bytes. */
  contentHash: string
  /** bytes */
  size: number
  mimeType: string
  createdAt: Date
  updatedAt: Date
}

/** The import callback body (undocumented shape, see README). [F][D] §2, §9 */
export type WebhookBody = {
  id: string
  source: 'livingdocs-file-import'
  state: 'success' | 'failed'
  overview: { total: number; details: { imported: number; skipped: number; failed: number } }
  context?: Record<string, unknown>
}

/** One webhook delivery attempt. */
export type WebhookDelivery = {
  jobId: string
  url: string
  body: WebhookBody
  /** HTTP status of the answer; absent on a network error. */
  status?: number
  error?: string
  at: Date
}

/** Counters for tests (a snapshot; see `stats()`). */
export type EmulatorStats = {
  /** Requests answered, by label and status, e.g. `{ 'POST /import/files': { 200: 3, 401: 1 } }`; label `other` for the rest. */
  requests: Record<string, Record<number, number>>
  /** Requests answered per label, all statuses. */
  requestTotals: Record<string, number>
  jobsCreated: number
  jobsFinished: number
  filesProcessed: number
  /** Webhook POSTs attempted (each duplicate and retry counts). */
  webhooksSent: number
  /** Webhook POSTs answered 2xx. */
  webhooksDelivered: number
  /** Webhook POSTs that failed (network error, timeout or non-2xx). */
  webhooksFailed: number
  /** Webhooks not sent because of `dropWebhooks`. */
  webhooksDropped: number
  /** Every attempt, in order. */
  webhookDeliveries: WebhookDelivery[]
}
