import type { JobStatus } from '../import/import-client.ts'
import type { Batch, FileOutcome, SettledJob } from '../pipeline/types.ts'

/** Reason of a file the finished job listed no result for. */
export const NO_RESULT_REASON = 'the finished import job reported no result for this file'

/** What a status read means for its job (see {@link judgeStatus}). */
export type StatusVerdict =
  /** Not finished: keep following it. */
  | { kind: 'running' }
  /** Livingdocs does not know the job (lost) and resubmits are left: submit its batch again. */
  | { kind: 'resubmit' }
  /**
   * Finished: one outcome per file of the batch, in batch order. `counts` tallies the per-file states
   * of a job that ran (`success`); `failure` is the job-level reason of one that did not.
   */
  | {
      kind: 'settled'
      outcomes: SettledJob['outcomes']
      counts?: { imported: number; skipped: number; failed: number }
      failure?: 'import job failed' | 'import job lost'
    }

/**
 * Judges a job's status against its batch (pure):
 *
 * | status | verdict |
 * |---|---|
 * | not finished (`started`) | running |
 * | `lost` (HTTP 404 or `state: "lost"`), `canResubmit` | resubmit |
 * | `success` | settled: each file's own result, matched by `externalId` ([F] §1.2); see {@link matchOutcomes} |
 * | `failed` (the job as a whole, no files) | settled: every file FAILED `import job failed` |
 * | `lost`, no resubmit left | settled: every file FAILED `import job lost` |
 *
 * @param canResubmit whether the batch has resubmits left (`maxResubmits` not reached)
 */
export function judgeStatus(status: JobStatus, batch: Batch, canResubmit: boolean): StatusVerdict {
  if (!status.finished) return { kind: 'running' }
  if (status.state === 'lost' && canResubmit) return { kind: 'resubmit' }
  if (status.state === 'success') return { kind: 'settled', ...matchOutcomes(batch, status.files) }
  const failure = status.state === 'failed' ? 'import job failed' : 'import job lost'
  return {
    kind: 'settled',
    failure,
    outcomes: batch.files.map((file) => ({ file, outcome: { state: 'failed', reason: failure } })),
  }
}

/**
 * Gives each file of `batch` its result from a finished job's `files[]`, matched by `externalId`. A
 * batch may hold one externalId more than once only in theory (the key sequencer keeps one per pair in
 * flight), so repeated ids take the results in order. A file without a result gets FAILED
 * {@link NO_RESULT_REASON}.
 */
export function matchOutcomes(
  batch: Batch,
  results: FileOutcome[],
): { outcomes: SettledJob['outcomes']; counts: { imported: number; skipped: number; failed: number } } {
  const byId = new Map<string, FileOutcome[]>()
  for (const r of results) {
    const list = byId.get(r.externalId)
    if (list === undefined) byId.set(r.externalId, [r])
    else list.push(r)
  }
  const counts = { imported: 0, skipped: 0, failed: 0 }
  const outcomes = batch.files.map((file) => {
    const outcome = byId.get(file.event.externalId)?.shift()
    if (outcome === undefined) {
      counts.failed++
      return { file, outcome: { state: 'failed' as const, reason: NO_RESULT_REASON } }
    }
    counts[outcome.state]++
    return { file, outcome }
  })
  return { outcomes, counts }
}
