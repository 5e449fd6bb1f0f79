import type { DlqReason } from '../errors.ts'

/**
 * The data-flow vocabulary of the pipeline: what one stage hands the next. Stages import these types
 * from here, never from each other, so a stage can be read (and replaced) on its own.
 *
 *   ConsumedRecord ──decode──► PendingFile ──batch──► Batch ──import job──► SettledJob ──► result events
 *        │                                                                        │
 *        └──────────── DecodeFailure ──► DLQ record                               └─► FileOutcome per file
 *
 * Every record taken from the input topic is tracked by its {@link RecordPosition} until its result
 * event or DLQ record is acknowledged (then its offset may be committed), or until its partition is
 * revoked (then the new owner consumes it again).
 */

/**
 * A consumed record's place in its partition. `offset` is the canonical decimal string kafkajs gives
 * (Kafka offsets are int64, beyond a JS number's exact range).
 */
export interface RecordPosition {
  topic: string
  partition: number
  offset: string
}

/**
 * One record header as Kafka defines it (KIP-82): a UTF-8 name and a value of bytes or null. A record's
 * headers are an ordered list in which a name may repeat; the bridge keeps them so (src/kafka/record-format.ts).
 */
export type RecordHeader = readonly [name: string, value: Buffer | null]

/** A consumed record, free of Kafka client types. */
export interface ConsumedRecord {
  topic: string
  partition: number
  offset: string
  key: Buffer | null
  value: Buffer | null
  /** Every header of the record, in order, repeats and null values kept. Shared: never mutated. */
  headers: readonly RecordHeader[]
  /** Broker or producer timestamp, epoch ms. */
  timestamp: number
}

/**
 * Which Livingdocs import a file goes to ([F] §7): `file` → `/import/files`, `image` → `/import/images`,
 * `video` → `/import/videos`. A batch holds files of one kind.
 */
export type MediaKind = 'file' | 'image' | 'video'

/** Every {@link MediaKind}, in a fixed order (metric labels, tests). */
export const MEDIA_KINDS: readonly MediaKind[] = ['file', 'image', 'video']

/** A validated file-created event, ready to become one entry of an import request. */
export interface FileCreatedEvent {
  externalId: string
  url: string
  fileName: string
  mediaType: string
  /** The import this file goes to, from its mediaType, MIME type or URL (`resolveMediaKind`). */
  kind: MediaKind
  metadata: Record<string, unknown>
  /** The event's systemName, or the configured default. */
  systemName: string
  /** When the legacy system created the file, epoch ms. */
  occurredAt: number
}

/** Why a record cannot be used: a DLQ reason code (README, "Error codes") and a human-readable message. */
export interface DecodeFailure {
  reason: DlqReason
  message: string
  /** `MAPPING_FAILED`: the mapping's field whose expression failed (`url`, `filter`, …). */
  field?: string
}

/**
 * Why the mapping's filter skipped a record (src/mapping/): it gave `false`, or no value at all (what it
 * tests is not in the event). The `reason` label of `bridge_events_filtered_total`.
 */
export const FILTER_REASONS = ['rejected', 'no_value'] as const
export type FilterReason = (typeof FILTER_REASONS)[number]

/**
 * What the decoder makes of a record value: a valid event with `entry`, its `files[]` entry serialised
 * once (`fileEntryJson` in src/events/decode.ts) as UTF-8 JSON and sent as is in the import request, and
 * `bytes`, its size plus a separator; or the reason it cannot be used.
 */
export type DecodeResult =
  | { ok: true; event: FileCreatedEvent; bytes: number; entry: Buffer }
  | { ok: false; failure: DecodeFailure }

/** A record the mapping's filter skipped: no result event, no DLQ record; settled at once. */
export interface Filtered {
  ok: false
  filtered: FilterReason
}

/**
 * What a pending file keeps of its event: what the key sequencer, the batcher and the result event read.
 * URL, file name, mediaType and metadata live on only in its `entry`: a file waits for its job for
 * a while, and the parsed metadata it no longer held was most of what each one kept alive (measured:
 * about 8% of the bridge's CPU in the instant bench went to collecting it, see docs/benchmark.md).
 */
export type PendingEvent = Pick<FileCreatedEvent, 'externalId' | 'systemName' | 'kind' | 'occurredAt'>

/** One consumed, valid file-created event waiting for its import job. */
export interface PendingFile {
  event: PendingEvent
  position: RecordPosition
  /** When the bridge consumed the record, epoch ms. */
  consumedAt: number
  /** JSON size of its `files[]` entry plus a separator, bytes. */
  bytes: number
  /**
   * Its `files[]` entry as UTF-8 JSON, serialised once by the decoder and sent as is. Bytes, not a
   * string: a file waits for its job long enough to be moved to V8's old generation, and a Buffer's
   * bytes lie outside the heap the garbage collector copies and marks (a string of the ~550 bytes was
   * most of what a file kept on the heap).
   */
  entry: Buffer
  /** Record headers carried to the result event (the trace context), as they came: in order, bytes. */
  headers?: readonly RecordHeader[]
}

/** Bytes a batch reserves for the request envelope (systemName, webhook, context, brackets). */
export const ENVELOPE_BYTES = 1024

/** A batch that becomes one import request: one systemName, at most maxFiles files and maxBytes bytes. */
export interface Batch {
  /** Bridge-local batch id, for logs and the request `context`. */
  id: string
  systemName: string
  /** The import every file of the batch goes to. */
  kind: MediaKind
  files: PendingFile[]
  /** Sum of the entries' bytes plus {@link ENVELOPE_BYTES}. */
  bytes: number
  /**
   * Why the batch was closed (`adopted`: rebuilt from the job log for a job another process submitted;
   * `oversized`: one file too large for any request, never sent).
   */
  reason: 'max-files' | 'max-bytes' | 'linger' | 'drain' | 'adopted' | 'oversized'
}

/** The bytes of a batch of `files`: their entries plus {@link ENVELOPE_BYTES}. */
export function batchBytes(files: ReadonlyArray<Pick<PendingFile, 'bytes'>>): number {
  let bytes = ENVELOPE_BYTES
  for (const f of files) bytes += f.bytes
  return bytes
}

/** Per-file outcome of an import job, normalised over the documented variants ([F] §1.2, [GIT], [PR1209]). */
export interface FileOutcome {
  externalId: string
  systemName: string | undefined
  state: 'imported' | 'skipped' | 'failed'
  mediaId: string | undefined
  reason: string | undefined
}

/** An outcome the bridge decided itself (job failed, lost, timed out, or the file rejected). */
export interface BridgeFailure {
  state: 'failed'
  reason: string
  mediaId?: undefined
}

/** The outcome of every file of a settled job, in the batch's order. */
export interface SettledJob {
  /** The Livingdocs import job id, or null when the batch was rejected before a job existed. */
  jobId: string | null
  batch: Batch
  outcomes: Array<{ file: PendingFile; outcome: FileOutcome | BridgeFailure }>
}

/**
 * The first value of header `name` as UTF-8 text (invalid bytes become U+FFFD); undefined when the record
 * has no such header or its value is null. For headers that are text by their own standard (W3C
 * `traceparent`); headers that are copied are copied as bytes.
 */
export function headerText(headers: readonly RecordHeader[] | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined
  for (const [n, value] of headers) if (n === name) return value?.toString('utf8')
  return undefined
}
