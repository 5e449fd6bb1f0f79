import { isApiError } from '../errors.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { PendingFile } from '../model/files.ts'
import type { ConcludedVerdict, OpenVerdict } from './tracked-job.ts'

/**
 * What the job tracker says about a job at each step: one log line (and a metric where an operator must
 * act), worded here so that `job-tracker.ts` keeps only the control flow. Every function logs on the
 * job's own child logger (batch and job id bound) and decides nothing.
 */

/** A read kept the job followed: say why when it was not simply running. */
export function reportKept(logger: Logger, verdict: OpenVerdict, ageMs: number): void {
  if (verdict.kind === 'not-visible')
    logger.debug({ ageMs }, 'import job not known to Livingdocs yet; reading it again later')
  else if (verdict.kind === 'incomplete')
    logger.info(
      { missing: verdict.missing },
      'finished import job lists no result for some files; reading it once more',
    )
}

/** A status read failed and did not hold the reads: the poller reads it again. */
export function reportReadFailed(logger: Logger, err: unknown): void {
  const unreadable = isApiError(err) && err.answerClass === 'unreadable'
  logger.warn(
    { err },
    unreadable
      ? 'import job status has an unknown shape (logged without its values); the poller reads it again'
      : 'import job status read failed; the poller tries again',
  )
}

/**
 * A job finished: results for files not in its batch and files without a result are counted
 * (`bridge_job_results_unmatched_total`) and logged, then the job's end (its counts, or the job-level
 * failure with the status `state`), `ms` after its submit.
 */
export function reportFinished(
  logger: Logger,
  metrics: Metrics,
  verdict: ConcludedVerdict,
  end: { state: string; ms: number },
): void {
  const { unexpected, missing } = verdict
  if (unexpected !== undefined && unexpected.length > 0) {
    metrics.jobResultsUnmatched.inc({ kind: 'unexpected' }, unexpected.length)
    logger.warn(
      { count: unexpected.length, externalIds: unexpected.slice(0, 10).map((r) => r.externalId) },
      'finished import job reported results for files not in its batch; ignored',
    )
  }
  if (missing !== undefined && missing > 0) {
    metrics.jobResultsUnmatched.inc({ kind: 'missing' }, missing)
    logger.warn({ missing }, 'finished import job reported no result for some files, twice')
  }
  if (verdict.failure === undefined) logger.info({ ...verdict.counts, ms: end.ms }, 'import job finished')
  else logger.warn({ state: end.state }, verdict.failure)
}

/**
 * A job ran for `timeoutMs` of counted time (`job.countedMs`; `job.submittedAt` epoch ms):
 * `bridge_jobs_timed_out_total` and one warning.
 */
export function reportTimedOut(
  logger: Logger,
  metrics: Metrics,
  job: { submittedAt: number; countedMs: number },
  timeoutMs: number | undefined,
): void {
  metrics.jobsTimedOut.inc()
  const { submittedAt, countedMs } = job
  logger.warn(
    { ms: Date.now() - submittedAt, countedMs, timeoutMs },
    'import job did not finish in time; its files fail with reason timeout',
  )
}

/** A file whose entry alone exceeds any request's size: it gets FAILED without an import job. */
export function reportUnsendable(logger: Logger, file: PendingFile): void {
  logger.warn(
    { externalId: file.event.externalId, bytes: file.bytes },
    'file entry too large for any import request; FAILED',
  )
}
