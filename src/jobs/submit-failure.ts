import { type AnswerClass, isApiError } from '../errors.ts'
import { REJECTED_REASON_PREFIX } from '../model/failure-reasons.ts'
import { type Batch, batchBytes } from '../model/files.ts'
import { boundedRetryAfterMs, type Hold, type HoldPolicy, holdFor, quotaBackoffMs } from './api-hold.ts'

/** What to do with a batch whose submit failed (one verdict per answer class, {@link decideSubmitFailure}). */
export type SubmitFailureAction =
  /** The API refuses our credentials or configuration: keep the batch, stop requests, be not ready. */
  | Hold
  /** The API rejects the batch's data: submit its halves to find the offending file. */
  | { action: 'split'; parts: [Batch, Batch] }
  /** The API rejects this single file's data: it gets FAILED with the API's message. */
  | { action: 'fail'; reason: string }
  /**
   * Ask again after `retryInMs`. `holdAllMs` is the server's `Retry-After`, bounded by `API_MAX_HOLD_MS`,
   * when it asked every request to wait (RFC 9110 §10.2.3), else undefined.
   */
  | { action: 'retry'; retryInMs: number; holdAllMs: number | undefined }
  /** The plan's usage limit (429 without `Retry-After`, [F] §5): submit again after a long backoff. */
  | { action: 'quota'; retryInMs: number }

/** Timing of {@link decideSubmitFailure}, ms. */
export interface SubmitFailurePolicy extends HoldPolicy {
  /** Wait before a transient failure is submitted again (`RESUBMIT_DELAY_MS` of the submit queue). */
  resubmitDelayMs: number
}

/**
 * Decides what a failed submit means for its batch (pure), from the class `classifyAnswer` gave the
 * answer (src/import/api-answer.ts):
 *
 * | class | action |
 * |---|---|
 * | `credentials`, `configuration` | hold: keep the batch; one request asks again every `holdRecheckMs` |
 * | `batch-data` (several files) | split in halves |
 * | `file-data` (one file), or `batch-data` of a batch that is one file by now | fail that file with the API's message |
 * | `quota` | submit again after `QUOTA_FIRST_BACKOFF_MS · 2^(n−1)`, equal jitter, at most `maxHoldMs` (n: quota answers in a row) |
 * | `retry`, `unreadable`, anything else (a bug) | submit again after max(resubmit delay, `Retry-After`), the `Retry-After` at most `maxHoldMs` |
 *
 * No file is FAILED for our configuration, our credentials or the API's hiccups: only `file-data` fails one.
 *
 * @param err what `submit` rejected with
 * @param batch the batch that was submitted
 * @param quotaStreak quota answers in a row, this one included (1 for the first)
 */
export function decideSubmitFailure(
  err: unknown,
  batch: Batch,
  policy: SubmitFailurePolicy,
  quotaStreak = 1,
  random: () => number = Math.random,
): SubmitFailureAction {
  const hold = holdFor(err, policy)
  if (hold !== undefined) return hold
  const cls: AnswerClass = isApiError(err) ? err.answerClass : 'retry'
  if (isApiError(err) && (cls === 'batch-data' || cls === 'file-data')) {
    if (batch.files.length === 1) return { action: 'fail', reason: `${REJECTED_REASON_PREFIX}${err.message}` }
    return { action: 'split', parts: splitBatch(batch) }
  }
  if (cls === 'quota') return { action: 'quota', retryInMs: quotaBackoffMs(quotaStreak, policy, random) }
  const holdAllMs = boundedRetryAfterMs(err, policy)
  return { action: 'retry', retryInMs: Math.max(policy.resubmitDelayMs, holdAllMs ?? 0), holdAllMs }
}

/**
 * The two halves of `batch` (the first one larger by one for an odd count), with ids `<id>.1` and
 * `<id>.2` and their own byte counts. @throws Error for a batch of fewer than two files
 */
export function splitBatch(batch: Batch): [Batch, Batch] {
  if (batch.files.length < 2) throw new Error(`a batch of ${batch.files.length} file cannot be split`)
  const half = Math.ceil(batch.files.length / 2)
  const part = (files: Batch['files'], n: number): Batch => ({
    ...batch,
    id: `${batch.id}.${n}`,
    files,
    bytes: batchBytes(files),
  })
  return [part(batch.files.slice(0, half), 1), part(batch.files.slice(half), 2)]
}
