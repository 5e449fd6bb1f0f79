/**
 * What became of each file of a batch: the outcome an import job reported for it, or the one the bridge
 * decided itself, and the settled job that carries them to the result events (src/outcome/).
 */

import type { Batch, PendingFile } from './files.ts'

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
