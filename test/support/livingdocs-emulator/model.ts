// Records of the emulator: media kinds, the project config's mediaTypes, jobs, media entries, webhooks, stats.
// "[F] §1.2" style references point to /work/shared/livingdocs-import-api.md (the contract sheet).

/**
 * The three asynchronous media imports: `file` → `/import/files` [F], `image` → `/import/images` [I],
 * `video` → `/import/videos` [V] (§7 "Related imports").
 */
export type MediaKind = 'file' | 'image' | 'video'

/** A mediaType's `type` in the project config. [MT] §7, §10 */
export type MediaTypeKind = 'mediaFile' | 'mediaImage' | 'mediaVideo'

/**
 * `config` of a metadata property, as the metadata plugins take it (content types and media types share
 * them, [MT] §7). Only the keys the emulator checks are typed; others are kept and ignored.
 */
export type MetadataPropertySettings = {
  /** Missing, `null` or `''` is an error. */
  required?: boolean
  /** The message of a missing required value (the docs' example: `Please provide a title`). [MT] */
  requiredErrorMessage?: string
  /** `li-text`: longest value in characters (UTF-16 code units, like `String.length`). */
  maxLength?: number
  /** `li-enum`: the allowed values are `dataProvider.items[].value`. */
  dataProvider?: { type?: string; items?: { label?: string; value: unknown }[] }
  [key: string]: unknown
}

/**
 * One metadata property of a mediaType: `{handle, type: 'li-text', config: {...}}` [MT] §7. The media types
 * page names the plugin `type`, the content types page `plugin`; either is read (`type` first).
 * Plugins whose stored value the emulator checks: `li-text`, `li-color` (string), `li-boolean`, `li-integer`,
 * `li-datetime` (ISO 8601 string), `li-enum`, `li-string-list`, `li-numeric-list`; any other plugin
 * accepts any value (only `required` applies).
 */
export type MetadataPropertyConfig = {
  handle: string
  type?: string
  plugin?: string
  config?: MetadataPropertySettings
}

/** One entry of the project config's `mediaTypes` array. [MT] §7, §10 */
export type MediaTypeConfig = {
  handle: string
  type: MediaTypeKind
  metadata?: MetadataPropertyConfig[]
  /**
   * Emulator only (not a Livingdocs key): reject metadata properties the mediaType does not declare.
   * Default false: undeclared properties are accepted (undocumented, a guess; see README).
   */
  strict?: boolean
}

/** A metadata rule of the emulator's older record form of `mediaTypes` (still accepted, see {@link LegacyMediaTypeConfig}). */
export type MetadataRule = {
  required?: boolean
  maxLength?: number
  /** `string` → `li-text` (also when absent), `boolean` → `li-boolean`, `number` → `li-integer`. */
  type?: 'string' | 'number' | 'boolean'
}

/**
 * The emulator's older, non-Livingdocs form of one mediaType: `mediaTypes: { file: { type, metadata: {
 * title: { required, maxLength } }, strict } }`. Converted to the array form at construction.
 */
export type LegacyMediaTypeConfig = {
  type?: MediaTypeKind
  metadata?: Record<string, MetadataRule>
  strict?: boolean
}

/** One metadata error in the shape of the media library import's `ValidationError`. [M] §7 */
export type MetadataError = { metadataProperty: string; message: string }

/** One validated batch entry (`files[]`, `images[]` or `videos[]`). [F] §1.1, [I][V] §7 */
export type FileInput = {
  id: string
  url: string
  fileName: string
  metadata: Record<string, unknown>
  /** The handle; defaulted per kind when the request may omit it (see README). */
  mediaType: string
}

/** The stored asset of an image or video result, as its status item nests it ([I][V] §7). */
export type AssetView = {
  originalUrl: string
  mimeType: string
  /** Images only: `originalUrl` with the image service's parameters. */
  url?: string
  /** Images only, pixels; absent when the bytes do not tell (e.g. an SVG without a size). */
  width?: number
  height?: number
  /** Images only. */
  imageService?: string
}

/** Per-item outcome as stored (the rendered form depends on the kind and the variants). [F] §1.2, [I][V] */
export type FileOutcome = {
  state: 'imported' | 'skipped' | 'failed'
  systemName: string
  externalId: string
  mediaId?: string
  reason?: string
  /** Imported and skipped items of the image and video imports: the entry's asset at that time. */
  asset?: AssetView
}

/** A job as recorded by the emulator (returned by `getJob`, a copy). */
export type JobRecord = {
  id: string
  /** Which import created the job. */
  kind: MediaKind
  apiVersion: string
  systemName: string
  webhook?: string
  context?: Record<string, unknown>
  /** The batch's entries, whatever the kind (`files`, `images` or `videos` of the request). */
  files: FileInput[]
  state: 'started' | 'success' | 'failed'
  finished: boolean
  /**
   * Why the job ends as it does: `stuck`, `failed` and `stays-started` (imported, reported `started`
   * forever) come from faults; `cancelled` from close()/reset().
   */
  fault?: 'stuck' | 'failed' | 'stays-started' | 'cancelled'
  /** The `lostJobs` fault: the status endpoint never knows this job. */
  hidden?: boolean
  /** Status answers given for this job once it finished with `success` (for `omitResults.reads`). */
  finishedReads?: number
  startedAt: Date
  finishedAt?: Date
  /** Per-item outcomes in request order, present once finished with `success`. */
  results?: FileOutcome[]
  /** Number of webhook POSTs that got a 2xx answer. */
  webhooksDelivered: number
}

/** An entry of the emulated media library. [ML] §7 */
export type MediaEntry = {
  /** The `mediaId`. */
  id: string
  version: number
  kind: MediaKind
  systemName: string
  externalId: string
  /** The mediaType handle. */
  mediaType: string
  fileName: string
  metadata: Record<string, unknown>
  /** The URL the bytes were downloaded from. */
  url: string
  /** Where the emulated storage keeps the asset (an `.invalid` host: never fetched). */
  originalUrl: string
  /** sha256 (hex) of the downloaded bytes. */
  contentHash: string
  /** bytes */
  size: number
  /** Detected from the bytes (server v237.2.35, §10). */
  mimeType: string
  /** Images: pixels, when the bytes tell. */
  width?: number
  height?: number
  /** Set by a PATCH `archive` ([ML] §11.1). */
  archived?: boolean
  createdAt: Date
  updatedAt: Date
}

/** One `PATCH /mediaLibrary/{id}` the emulator answered (`stats().mediaPatches`). [ML] §11.1 */
export type MediaPatch = {
  mediaId: string
  /** The `version` the request carried (absent: none). */
  version?: number
  /** The request's `patches`, as sent. */
  patches: unknown
  /** The answer's HTTP status (200, 400, 404, 409). */
  status: number
  at: Date
}

/** The import callback body (undocumented shape, see README). [F][D] §2, §9, [DPA] */
export type WebhookBody = {
  id: string
  source: 'livingdocs-file-import' | 'livingdocs-image-import' | 'livingdocs-video-import'
  state: 'success' | 'failed'
  overview: { total: number; details: { imported: number; skipped: number; failed: number } }
  context?: Record<string, unknown>
}

/** One webhook delivery attempt. */
export type WebhookDelivery = {
  jobId: string
  url: string
  body: WebhookBody
  /** The content-type header sent; absent when none was sent (variant `webhookContentType: null`). */
  contentType?: string
  /** HTTP status of the answer; absent on a network error. */
  status?: number
  error?: string
  at: Date
}

/** Counters for tests (a snapshot; see `stats()`). */
export type EmulatorStats = {
  /**
   * Requests answered, by label and status, e.g. `{ 'POST /import/images': { 200: 3, 401: 1 } }`. Labels:
   * `POST /import/<files|images|videos>`, `GET /import/<files|images|videos>/status`, `other` for the rest.
   */
  requests: Record<string, Record<number, number>>
  /** Requests answered per label, all statuses. */
  requestTotals: Record<string, number>
  /**
   * Every request to an import endpoint (not `other`), in answer order: when it arrived (epoch ms), its
   * label and status. What a budget test counts per second.
   */
  requestLog: Array<{ at: number; label: string; status: number }>
  jobsCreated: number
  jobsFinished: number
  /** Batch entries processed, all kinds. */
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
  /** Every media library PATCH that reached the handler (past auth and version), in order. */
  mediaPatches: MediaPatch[]
}
