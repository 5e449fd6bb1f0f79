/**
 * What became of each file of a batch: the outcome an import job reported for it, or the one the bridge
 * decided itself, and the concluded job that carries them to the result events (src/outcome/).
 */

import type { Span } from '@opentelemetry/api'
import type { Batch, PendingFile } from './files.ts'

/**
 * The reason Livingdocs gives a file whose `systemName`/`externalId` was imported before ([F] §1.2
 * example, §10): the file is SKIPPED with the existing `mediaId` and not updated, whatever changed
 * (`ON_EXISTING=metadata` then updates its metadata, src/jobs/existing-entries.ts).
 */
export const ALREADY_EXISTS = 'already exists'

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

/**
 * The state a result event gives an outcome (schemas/file-import-result.avsc `state`): `imported` is
 * SUCCESS, `skipped` SKIPPED, every failure FAILED.
 */
export function resultState(outcome: FileOutcome | BridgeFailure): 'SUCCESS' | 'SKIPPED' | 'FAILED' {
  return outcome.state === 'imported' ? 'SUCCESS' : outcome.state === 'skipped' ? 'SKIPPED' : 'FAILED'
}

/**
 * A concluded import job: every file of its batch has an outcome (Livingdocs' own, or one the bridge
 * decided: the job failed, was lost, timed out, or the file was rejected), in the batch's order. Its
 * records are *settled* only later, once their result events are acknowledged by Kafka (src/outcome/).
 */
export interface ConcludedJob {
  /** The Livingdocs import job id, or null when the batch was rejected before a job existed. */
  jobId: string | null
  batch: Batch
  outcomes: Array<{ file: PendingFile; outcome: FileOutcome | BridgeFailure }>
  /**
   * The job's `import job` span while tracing is on (src/telemetry/), still open: its results' send
   * spans are its children, and the outcome publisher ends it once they are acknowledged.
   */
  span?: Span | undefined
}
