import type { JobStatus } from '../import/import-client.ts'
import { JOB_FAILED_REASON, JOB_LOST_REASON, NO_RESULT_REASON } from '../model/failure-reasons.ts'
import type { Batch, PendingFile } from '../model/files.ts'
import type { ConcludedJob, FileOutcome } from '../model/outcomes.ts'

/** What a status read means for its job (see {@link judgeStatus}). */
export type StatusVerdict =
  /** Not finished: keep following it. */
  | { kind: 'running' }
  /** Not known yet, within the grace window after the submit: read it again later. */
  | { kind: 'not-visible' }
  /** Livingdocs does not know the job (lost) and resubmits are left: submit its batch again, later. */
  | { kind: 'resubmit' }
  /** Finished, but files of the batch have no result: read it once more before deciding. */
  | { kind: 'incomplete'; missing: number }
  /**
   * Finished: one outcome per file of the batch, in batch order. `counts` tallies the per-file states
   * of a job that ran (`success`); `failure` is the job-level reason of one that did not; `unexpected`
   * are results for ids not in the batch (logged and counted, never published); `missing` the files
   * without a result (FAILED {@link NO_RESULT_REASON}).
   */
  | {
      kind: 'concluded'
      outcomes: ConcludedJob['outcomes']
      counts?: { imported: number; skipped: number; failed: number }
      failure?: typeof JOB_FAILED_REASON | typeof JOB_LOST_REASON
      unexpected?: FileOutcome[]
      missing?: number
    }

/** What {@link judgeStatus} knows about the job besides its status. */
export interface JobFacts {
  /** Whether the batch has resubmits left (`maxResubmits` not reached). */
  canResubmit: boolean
  /** Time since the job was submitted (or adopted), ms. */
  ageMs: number
  /** How long after its submit a job may be unknown without being lost (`JOB_VISIBILITY_GRACE_MS`). */
  graceMs: number
  /** Whether a finished status with missing results was read once already. */
  wasReadIncomplete: boolean
}

/**
 * Judges a job's status against its batch (pure):
 *
 * | status | verdict |
 * |---|---|
 * | not finished (`started`) | running |
 * | `lost` (HTTP 404 or `state: "lost"`) within `graceMs` of the submit | not-visible: read again later |
 * | `lost` after it, `canResubmit` | resubmit |
 * | `lost` after it, no resubmit left | concluded: every file FAILED `import job lost` |
 * | `success`, every file of the batch has a result | concluded: each file's own result, matched by `externalId` ([F] §1.2) |
 * | `success`, files without a result, first such read | incomplete: read once more |
 * | `success`, files without a result, read before | concluded: those FAILED {@link NO_RESULT_REASON} |
 * | `failed` (the job as a whole, no files) | concluded: every file FAILED `import job failed` |
 */
export function judgeStatus(status: JobStatus, batch: Batch, facts: JobFacts): StatusVerdict {
  if (!status.finished) return { kind: 'running' }
  if (status.state === 'lost') {
    if (facts.ageMs < facts.graceMs) return { kind: 'not-visible' }
    if (facts.canResubmit) return { kind: 'resubmit' }
  }
  if (status.state === 'success') {
    const matched = matchOutcomes(batch, status.files)
    if (matched.missing > 0 && !facts.wasReadIncomplete)
      return { kind: 'incomplete', missing: matched.missing }
    return { kind: 'concluded', ...matched }
  }
  const failure = status.state === 'failed' ? JOB_FAILED_REASON : JOB_LOST_REASON
  return {
    kind: 'concluded',
    failure,
    outcomes: batch.files.map((file) => ({ file, outcome: { state: 'failed', reason: failure } })),
  }
}

/**
 * Gives each file of `batch` its result from a finished job's `files[]`, matched by `externalId`. A
 * batch may hold one externalId more than once only in theory (the key sequencer keeps one per pair in
 * flight), so repeated ids take the results in order. A file without a result gets FAILED
 * {@link NO_RESULT_REASON}; results left over (an id not in the batch, or one more than the batch has)
 * come back as `unexpected`.
 */
export function matchOutcomes(
  batch: Batch,
  results: FileOutcome[],
): {
  outcomes: ConcludedJob['outcomes']
  counts: { imported: number; skipped: number; failed: number }
  unexpected: FileOutcome[]
  missing: number
} {
  const byId = new Map<string, FileOutcome[]>()
  for (const r of results) {
    const list = byId.get(r.externalId)
    if (list === undefined) byId.set(r.externalId, [r])
    else list.push(r)
  }
  const counts = { imported: 0, skipped: 0, failed: 0 }
  let missing = 0
  const outcomes = batch.files.map((file) => {
    const outcome = byId.get(file.event.externalId)?.shift()
    if (outcome === undefined) {
      counts.failed++
      missing++
      return { file, outcome: { state: 'failed' as const, reason: NO_RESULT_REASON } }
    }
    counts[outcome.state]++
    return { file, outcome }
  })
  return { outcomes, counts, unexpected: [...byId.values()].flat(), missing }
}

/** Job `jobId` (null: never a job) of `batch` concluded with every file FAILED `reason`. */
export function failedJob(jobId: string | null, batch: Batch, reason: string): ConcludedJob {
  return {
    jobId,
    batch,
    outcomes: batch.files.map((file) => ({ file, outcome: { state: 'failed', reason } })),
  }
}

/**
 * A file that can never be sent (its entry alone exceeds the request size) concluded as FAILED `reason`,
 * without an import job (`importJobId` null), in a batch of its own (`oversized`).
 */
export function unsentJob(file: PendingFile, reason: string): ConcludedJob {
  const batch: Batch = {
    id: `unsent-${file.position.partition}-${file.position.offset}`,
    systemName: file.event.systemName,
    kind: file.event.kind,
    files: [file],
    bytes: file.bytes,
    closedBy: 'oversized',
  }
  return failedJob(null, batch, reason)
}
