/**
 * Files on their way through the bridge: what the decoder makes of a record (a valid event, the reason
 * it cannot be used, or a filtered record), the pending file that waits for its import job, and the
 * batch that becomes one import request. The data flow is drawn in records.ts.
 */

import type { SpanContext } from '@opentelemetry/api'
import type { DlqReason } from '../errors.ts'
import type { RecordHeader, RecordPosition } from './records.ts'

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
 * once (`fileEntryJson` in src/import/file-entry.ts) as UTF-8 JSON and sent as is in the import
 * request, and `bytes`, its size plus a separator; or the reason it cannot be used.
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
  /**
   * The record's timestamp (its producer's or the broker's, epoch ms): within a partition's turn the
   * submit queue submits the batch with the oldest record first (src/jobs/batch-lanes.ts). Undefined in
   * files made without a record (tests).
   */
  producedAt?: number
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
  /**
   * The context of its record's `process` span when tracing is on and that span was recorded
   * (src/telemetry/): the batch, job and result spans link to it. Undefined otherwise.
   */
  recordSpan?: SpanContext | undefined
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
   * What closed the batch: its file or byte limit, its linger time, a drain (shutdown or rebalance);
   * `adopted`: rebuilt from the job log for a job another process submitted; `oversized`: one file too
   * large for any request, never sent.
   */
  closedBy: 'max-files' | 'max-bytes' | 'linger' | 'drain' | 'adopted' | 'oversized'
  /** When the batcher opened it (its first file came), epoch ms; undefined for adopted and unsent ones. */
  openedAt?: number
  /**
   * The context of its `import batch` span while tracing is on (src/telemetry/): the parent of the
   * span of each import job the batch (or a part of it) becomes. Undefined otherwise.
   */
  span?: SpanContext | undefined
}

/** The bytes of a batch of `files`: their entries plus {@link ENVELOPE_BYTES}. */
export function batchBytes(files: ReadonlyArray<Pick<PendingFile, 'bytes'>>): number {
  let bytes = ENVELOPE_BYTES
  for (const f of files) bytes += f.bytes
  return bytes
}
