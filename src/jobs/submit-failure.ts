import { equalJitterMs } from '../backoff.ts'
import { type AnswerClass, isApiError } from '../errors.ts'
import type { ApiHoldCause } from '../metrics.ts'
import { type Batch, batchBytes } from '../model/files.ts'
import { boundedRetryAfterMs, type Hold, holdFor, REJECTED_REASON_PREFIX } from './job-results.ts'

/**
 * Wait before a batch is submitted again after its submit failed for a transient reason (network,
 * 429 with `Retry-After`, 5xx: the client already retried `API_MAX_RETRIES` times with backoff), or
 * before the batch of a lost job is submitted again, ms.
 */
export const RESUBMIT_DELAY_MS = 5_000

/**
 * Default of `API_HOLD_RECHECK_MS`: while the API refuses the credentials or the configuration, one
 * request asks again this often, so a fixed token or setting is noticed without a restart, ms.
 */
export const HOLD_RECHECK_MS = 30_000

/** Default of `API_MAX_HOLD_MS`: the longest wait before the API is asked again, ms (15 min). */
export const MAX_HOLD_MS = 900_000

/** First step of the quota backoff (doubling up to `API_MAX_HOLD_MS`, equal jitter), ms. */
export const QUOTA_FIRST_BACKOFF_MS = 60_000

/** Why the API refused a request it will refuse again until someone fixes something: hold. */
export interface Refusal {
  cause: Exclude<ApiHoldCause, 'quota'>
  /** The error message: the endpoint, the HTTP status and the API's own words. */
  problem: string
  /** The settings to check, e.g. `LIVINGDOCS_BASE_URL and LIVINGDOCS_API_VERSION`. */
  setting: string | undefined
}

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
export interface SubmitFailurePolicy {
  /** Wait before a transient failure is submitted again ({@link RESUBMIT_DELAY_MS} by default). */
  resubmitDelayMs: number
  /** While the API refuses the credentials or configuration, how often one request asks again. */
  holdRecheckMs: number
  /** The longest wait before the API is asked again: ceiling of the quota backoff and of a `Retry-After`. */
  maxHoldMs: number
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
  if (cls === 'quota') {
    const bounds = { minMs: Math.min(QUOTA_FIRST_BACKOFF_MS, policy.maxHoldMs), maxMs: policy.maxHoldMs }
    return { action: 'quota', retryInMs: equalJitterMs(Math.max(1, quotaStreak), bounds, random) }
  }
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
