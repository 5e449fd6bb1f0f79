// Options, variants and faults of the Livingdocs import API emulator (records and config shapes: model.ts).
// "[F] §1.2" style references point to /work/shared/livingdocs-import-api.md (the contract sheet).
import type { LegacyMediaTypeConfig, MediaKind, MediaTypeConfig } from './model.ts'

export type * from './model.ts'

/** Scope needed by every import endpoint and its status endpoint, and by the media library PATCH. [F][I][V][GS][ML] §3 */
export const WRITE_SCOPE = 'public-api:write'
/** Scope needed by the media library reads (`GET /mediaLibrary`, `GET /mediaLibrary/{id}`). [ML] §3, §11.2 */
export const READ_SCOPE = 'public-api:read'
/** Both scopes, write first: a token that imports and reads the media library. */
export const READ_WRITE_SCOPES: string[] = [WRITE_SCOPE, READ_SCOPE]

/**
 * The endpoints, used as labels in fault filters: each import's `import` and `status`; the media
 * library's `lookup` (`GET /mediaLibrary?…`), `entry` (`GET /mediaLibrary/{id}`) and `patch`.
 */
export type EmulatorEndpoint = 'import' | 'status' | 'lookup' | 'entry' | 'patch'

/**
 * Switches between readings where the docs disagree or are silent. The default of each is what the docs
 * say, or the newest evidence; the other value plays the other reading. See README "Variants".
 * - `perFileSuccessValue`: per-item value of an imported entry: `imported` ([PR1209], default) or `success`
 *   (the pages' examples). Rendered at status time.
 * - `perFileStateKey`: per-item key: `state` (docs since 2025-03-18, default) or `status` (older docs, [GIT]).
 * - `unknownJob`: status of an unknown job id: `lost` answers HTTP 200
 *   `{finished:false,state:'lost',id:'no import job found for id "<id>"'}` (as the document import does,
 *   default); `404` answers `{status:404,error:'Not Found',error_details:{message:'…'}}`.
 * - `reimport`: a repeated `systemName`/`externalId` pair: `skip` (default; server notes v254.0.37 and
 *   docs PR #902, §10) comes back `skipped`/`already exists` with the existing mediaId whatever the bytes;
 *   `update` plays the files page's "create and update" prose: new bytes → `imported`, same mediaId,
 *   version + 1 (same bytes → `skipped`). Applied when an entry is processed.
 * - `mediaTypeRequired`: `openapi` (default): as each OpenAPI `required` list says (images: required;
 *   files and videos: optional, default handle `file` / `video`); `always`: required everywhere, as the
 *   prose of every page says. Applied when a POST is validated.
 * - `undetectedMimeType`: bytes no signature matches (plain text, CSV…): `content-type` (default) takes
 *   the download's Content-Type, `octet-stream` takes `application/octet-stream`.
 * - `webhookContext`: `echo` (default, [F] §2) sends the request's `context` under the key `context`;
 *   `omit` leaves it out.
 * - `webhookContentType`: the webhook's content-type header; default `application/json; charset=utf-8`
 *   (a guess, §9); any other string (e.g. `text/plain`) or `null` for none. The body stays JSON text.
 * - `deprecationHeader`: how an answer of a deprecated version says so (§11.5: "a deprecation warning
 *   header", name not given): `deprecation` (default, RFC 9745 `Deprecation: @<seconds>`), `warning`
 *   (`Warning: 299 - "LIDEP089-v1: …"`), `sunset` (RFC 8594 `Sunset: <HTTP-date>`).
 * - `lookupMiss`: a `GET /mediaLibrary?…` that matches nothing (undocumented, §11.2): `empty` (default,
 *   200 with an empty list) or `404` (the generic error body).
 * - `legacyListShape`: the list of `GET /mediaLibrary` before `2026-01`: `object` (default, the YAML's
 *   `{"mediaLibraryEntries": […]}`) or `array` (the changelog's "previously returned an array", §4).
 */
export type EmulatorVariants = {
  perFileSuccessValue: 'imported' | 'success'
  perFileStateKey: 'state' | 'status'
  unknownJob: 'lost' | '404'
  reimport: 'skip' | 'update'
  mediaTypeRequired: 'openapi' | 'always'
  undetectedMimeType: 'content-type' | 'octet-stream'
  webhookContext: 'echo' | 'omit'
  webhookContentType: string | null
  deprecationHeader: 'deprecation' | 'warning' | 'sunset'
  lookupMiss: 'empty' | '404'
  legacyListShape: 'object' | 'array'
}

/** Default variants: what the docs say, or the newest evidence of each disagreement. */
export const DEFAULT_VARIANTS: EmulatorVariants = {
  perFileSuccessValue: 'imported',
  perFileStateKey: 'state',
  unknownJob: 'lost',
  reimport: 'skip',
  mediaTypeRequired: 'openapi',
  undetectedMimeType: 'content-type',
  webhookContext: 'echo',
  webhookContentType: 'application/json; charset=utf-8',
  deprecationHeader: 'deprecation',
  lookupMiss: 'empty',
  legacyListShape: 'object',
}

/**
 * A fault that answers some requests with an error instead of handling them.
 * - `count`: answer the next N matching requests with the error (decremented on each hit; 0 = spent).
 * - `probability`: when `count` is not set, answer each matching request with this probability (0..1).
 *   With neither, every matching request is answered with the error.
 * - `endpoints`: only these endpoints (default both).
 * - `kinds`: only the endpoints of these imports (default all three).
 * - `retryAfterSeconds`: send a `Retry-After` header with this value.
 * - `retryAfter`: send this `Retry-After` header as it is (e.g. an HTTP-date, RFC 9110 §10.2.3); wins
 *   over `retryAfterSeconds`.
 * - `forMs`: the fault answers only for this long after it was set (`setFaults` or construction), ms;
 *   then it is spent (e.g. status reads answered 403 for 30 s).
 */
export type RequestFault = {
  count?: number
  probability?: number
  endpoints?: EmulatorEndpoint[]
  kinds?: MediaKind[]
  retryAfterSeconds?: number
  retryAfter?: string
  forMs?: number
  /** Set by the emulator from `forMs`: the epoch ms after which the fault is spent. */
  until?: number
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
 * Switchable faults, for tests of a client. All default to off; each applies to all three imports.
 * - `latencyMs`: added before every response (ms).
 * - `rateLimit429`, `serverError5xx`: see {@link RateLimitFault}, {@link ServerErrorFault}; `null` = off.
 * - `dropWebhooks`: the job callback is not sent at all.
 * - `duplicateWebhooks`: the job callback is sent twice (same body, one after the other); the server's
 *   release notes show duplicate deliveries happen (§10).
 * - `stuckJobs`: jobs created while set stay `started` forever (no entries processed, no webhook).
 * - `failJobs`: jobs created while set end `{finished:true,state:'failed',id}` with no items. [F] §1.2
 * - `quota`: plan quota over all three imports; a POST whose entries would exceed `filesPerDay` accepted
 *   entries in the last 24 h answers 429 "Usage Limit Exceeded" with the docs' message. [F][OA] §5
 * - `fileFailureRate`: probability (0..1) that an entry ends `failed` with `Could not upload <kind>:
 *   emulated failure` without being downloaded.
 * - `rejectFiles`: a POST containing one of these entry ids is refused as a whole with `status`
 *   (400 or 422, default 422) naming each offending entry, as a validation rule of the real API would;
 *   `shape` picks the body: `documented` (default, `error_details` by JSON path), `error` (only
 *   `{"error": "files[N].id …"}`), `message` (only `{"message": …}`), or `text` (plain text).
 * - `redirect`, `answerWith`: request faults, see {@link RedirectFault}, {@link AnswerWithFault}.
 * - `acceptStatus`: the HTTP status of an accepted POST (default 200; e.g. 201 or 202), body `{"id"}`.
 * - `jobVisibilityDelayMs`: a job is unknown to the status endpoint (answered per the `unknownJob`
 *   variant: `lost` or 404) until it is this old, as a store that is not yet consistent would (ms).
 * - `lostJobs`: the next `count` jobs created run (and import their entries, and send their webhook) but
 *   the status endpoint never knows them (answered per the `unknownJob` variant).
 * - `nullOptionalFields`: status answers carry `null` in the optional fields (`startedAt`, the items, an
 *   item's `systemName`, `mediaId`, `reason`) and an unknown extra key.
 * - `omitResults`: a finished job's status leaves out its last `count` per-item results, in its first
 *   `reads` status answers once finished (every answer when `reads` is not set).
 * - `foreignResults`: a finished job's status lists one more result, for an id that was not in the job.
 * - `jobsStayStarted`: jobs created while set import their entries into the media library (and answer
 *   later re-imports `skipped`) but their status stays `started` forever, with no webhook: a busy server
 *   that finishes the work but not the job's bookkeeping, or a status that lags (§11.8).
 * - `editorChanges`: an editor changes an entry right after each `GET /mediaLibrary/{id}` (the next
 *   `count` reads, every read without a count): its `version` goes up by one and `property` (default
 *   `description`) becomes `value` (default `changed by an editor`), so a PATCH with the version just
 *   read answers 409 ([ML] §11.1).
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
  jobsStayStarted: boolean
  editorChanges: { count?: number; property?: string; value?: unknown } | null
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
  jobsStayStarted: false,
  editorChanges: null,
}

/** A pino-compatible logger (only these methods are used). Default: silent. */
export type EmulatorLogger = {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

/** Options of {@link createLivingdocsEmulator} (all optional; the defaults play a real Livingdocs). */
export type LivingdocsEmulatorOptions = {
  /**
   * Access tokens and their scopes. Default `{ [token]: ['public-api:write'] }`: the import scope only,
   * as the bridge needs by default; add `public-api:read` for the media library reads. [GS][ML] §3
   */
  tokens?: Record<string, string[]>
  /** Token used when `tokens` is not given, and returned by `startLivingdocsEmulator`. Default `emulator-token`. */
  token?: string
  /**
   * Served API versions. Default `v1`, `beta` and the released odd months `2025-03` … `2026-09`
   * ([VER] §4, §11.5); a newer date version (`2026-11`, upcoming) is an unknown path (404).
   */
  apiVersions?: string[]
  /**
   * Versions that answer 410 Gone. [VER] §4 Besides these, every `YYYY-MM` older than the oldest served date
   * version answers 410 (see `tooOldVersions`). Listing a served version here removes it.
   */
  removedVersions?: string[]
  /**
   * A `YYYY-MM` older than the oldest served date version (e.g. `2024-01`): `410` (default, as if removed,
   * [VER] §4) or `404` (never existed, an unknown path). A guess: no date version has been removed yet.
   */
  tooOldVersions?: 410 | 404
  /** The version `startLivingdocsEmulator` reports (must be served). Default `2026-09`, the newest released (§11.5). */
  apiVersion?: string
  /** Most entries per POST; more answers 400 `{files: ...}`. Default 1000 (the server's `import.jobs.batchSize`, §5). */
  maxFilesPerRequest?: number
  /**
   * Largest JSON request body in bytes; more answers 413. Default 512000: the server's
   * `httpServer.maxRequestBodySize: '500kb'` (§10) as the `bytes` package reads it (500 × 1024).
   */
  bodyLimitBytes?: number
  /** Timeout of one download (whole request and body), ms. Default 10000. */
  downloadTimeoutMs?: number
  /**
   * The file import's `files.uploadRestrictions.allowedMimeTypes` (§10): the MIME types (detected from the
   * bytes) a file import accepts; `type/*` matches a whole type. Default none: every type is allowed.
   * Images and videos have their own fixed rules ([I]: png, jpg, gif, svg; [V]: `video/*`).
   */
  allowedMimeTypes?: string[]
  /**
   * One `uploadRestrictions.maxFileSize` in bytes for the downloads of all three imports, in place of
   * each import's default (§11.6: files and videos `'100mb'` = 104857600, images `'15mb'` = 15728640,
   * webp and gif images 10MB = 10485760; a webp or gif image is held to the lower of this and 10MB).
   */
  maxFileSize?: number
  /** Older name of `maxFileSize` (used when `maxFileSize` is not set). */
  maxFileBytes?: number
  /** Entries processed at the same time within one job. Default 8. ([SC] `import.jobs.concurrency` §5) */
  fileConcurrency?: number
  /** Extra time every job stays `started` before its entries are processed, ms. Default 0. */
  jobDurationMs?: number
  /**
   * Extra random time, uniform in [0, jobDurationJitterMs), added to `jobDurationMs` per job, ms, so jobs
   * finish out of submission order. Drawn from `random`. Default 0.
   */
  jobDurationJitterMs?: number
  /**
   * The project config's `mediaTypes` [MT] §7, §10: an array of `{handle, type, metadata:[{handle, type,
   * config}]}`. Default: `file` (mediaFile), `image` (mediaImage), `video` (mediaVideo), each with the
   * docs' default metadata `title`, `caption`, `source`, `description` (`li-text`, none required).
   * The emulator's older record form (`{ file: { metadata: { title: { required: true } } } }`) is converted.
   * @throws at construction when two mediaTypes share a handle, or a type lacks its required handle
   */
  mediaTypes?: MediaTypeConfig[] | Record<string, LegacyMediaTypeConfig>
  /** Timeout of one webhook POST, ms. Default 10000. */
  webhookTimeoutMs?: number
  /** Extra webhook attempts after a failed one (network error or non-2xx). Default 0 (no retries). */
  webhookRetries?: number
  /** Pause between webhook attempts, ms. Default 500. */
  webhookRetryDelayMs?: number
  /**
   * Benchmarks only: do not download entry URLs; the URL's bytes stand in for the content, the MIME type
   * comes from the URL's extension, and no MIME, size or image-size check runs. Default false.
   */
  skipDownloads?: boolean
  /**
   * A server-side rate limit: at most this many requests per second to the import and status endpoints
   * (a fixed one-second window); requests over it answer 429 Usage Limit Exceeded with `Retry-After: 1`
   * [F][OA] §5. Default none.
   */
  rateLimitPerSecond?: number
  /**
   * Versions deprecated (their answers carry the variant `deprecationHeader`'s header). Default `v1` and
   * `beta` (release-2026-09, §11.5); add `2025-03` to play release-2026-11.
   */
  deprecatedVersions?: string[]
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
