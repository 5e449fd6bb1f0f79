import type { PendingFile } from '../model/files.ts'
import { ALREADY_EXISTS, type BridgeFailure, type FileOutcome, resultState } from '../model/outcomes.ts'

/** The result event published per file (schemas/file-import-result.avsc). Times are epoch ms. */
export interface FileImportResult {
  systemName: string
  externalId: string
  state: 'SUCCESS' | 'SKIPPED' | 'FAILED'
  mediaId: string | null
  reason: string | null
  importJobId: string | null
  sourceTopic: string
  sourcePartition: number
  sourceOffset: number
  eventTime: number
  completedAt: number
  /** The Livingdocs import the file went to. */
  kind: 'FILE' | 'IMAGE' | 'VIDEO'
}

export { ALREADY_EXISTS }

const KIND_SYMBOLS = { file: 'FILE', image: 'IMAGE', video: 'VIDEO' } as const

/**
 * Longest `reason` of a result event, characters: the free text comes from Livingdocs (or the import
 * API's error body) and is cut here, so that a result event always fits the result topic's
 * `max.message.bytes` and can never hold back its partition's commits. Cut text ends with "…".
 */
export const MAX_REASON_CHARS = 1000

/**
 * Builds the result event of one file from its import outcome (pure).
 * `imported` -> SUCCESS, `skipped` -> SKIPPED (with the existing entry's mediaId, [GIT]), `failed` -> FAILED.
 *
 * @param file the consumed event and its source position
 * @param outcome the per-file outcome from the job status, or `{reason}` when the bridge itself
 *   decided the file failed (job failed, lost, or rejected)
 * @param importJobId the Livingdocs job id, or null when the file never reached a job
 * @param completedAt epoch ms
 * Offsets above 2^53 lose precision in `sourceOffset` (Avro longs are JS numbers in avsc).
 */
export function buildResultEvent(
  file: PendingFile,
  outcome: FileOutcome | BridgeFailure,
  importJobId: string | null,
  completedAt: number,
): FileImportResult {
  const state = resultState(outcome)
  return {
    systemName: file.event.systemName,
    externalId: file.event.externalId,
    state,
    mediaId: outcome.mediaId ?? null,
    reason: bounded(outcome.reason) ?? (state === 'FAILED' ? 'unknown' : null),
    importJobId,
    sourceTopic: file.position.topic,
    sourcePartition: file.position.partition,
    sourceOffset: Number(file.position.offset),
    eventTime: file.event.occurredAt,
    completedAt,
    kind: KIND_SYMBOLS[file.event.kind],
  }
}

/** Message key of a result event: `systemName:externalId`, so results of one file share a partition. */
export function resultKey(result: Pick<FileImportResult, 'systemName' | 'externalId'>): string {
  return `${result.systemName}:${result.externalId}`
}

function bounded(text: string | undefined): string | undefined {
  if (text === undefined || text.length <= MAX_REASON_CHARS) return text
  return `${text.slice(0, MAX_REASON_CHARS - 1)}…`
}
