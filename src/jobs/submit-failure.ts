import { isApiError, isBridgeError } from '../errors.ts'
import { type Batch, batchBytes } from '../pipeline/types.ts'

/**
 * Wait before a batch is submitted again after its submit failed for a transient reason (network,
 * 429, 5xx: the client already retried `API_MAX_RETRIES` times with backoff), ms.
 */
export const RESUBMIT_DELAY_MS = 5_000

/**
 * How often the head batch is tried again while the API refuses the configuration (401, 403, 410), ms:
 * each try is one request, so a fixed token or scope is noticed within this without a restart.
 */
export const REFUSED_RECHECK_MS = 30_000

/** What to do with a batch whose submit failed (one verdict per error; see {@link decideSubmitFailure}). */
export type SubmitFailureAction =
  /** The API refuses our configuration or credentials: keep the batch, stop submitting, be not ready. */
  | { action: 'hold'; problem: string; retryInMs: number }
  /** The API rejects the batch's data: submit its halves to find the offending file. */
  | { action: 'split'; parts: [Batch, Batch] }
  /** The API rejects this single file: it gets FAILED with the API's message. */
  | { action: 'fail'; reason: string }
  /**
   * A transient failure: submit the batch again after `retryInMs`. `holdAllMs` is the server's
   * `Retry-After` when it asked every request to wait (RFC 9110 §10.2.3), else undefined.
   */
  | { action: 'retry'; retryInMs: number; holdAllMs: number | undefined }

/** Timing of {@link decideSubmitFailure}, ms. */
export interface SubmitFailurePolicy {
  /** Wait before a transient failure is submitted again ({@link RESUBMIT_DELAY_MS} by default). */
  resubmitDelayMs: number
}

/**
 * Decides what a failed submit means for its batch (pure). The error codes come from the import
 * client's reading of the final answer ([GS] §6, [VER] §4, [F] §5):
 *
 * | error | action |
 * |---|---|
 * | `API_UNAUTHORIZED`, `API_FORBIDDEN`, `API_VERSION_GONE` (401, 403, 410) | hold; try again after max(resubmit delay, {@link REFUSED_RECHECK_MS}) |
 * | `API_BAD_REQUEST` (400, 413, 422, other 4xx), more than one file | split in halves |
 * | `API_BAD_REQUEST`, one file | fail that file with the API's message |
 * | anything else (network, 408, 429, 5xx, an answer without a job id, a bug) | retry after max(resubmit delay, Retry-After) |
 *
 * @param err what `submit` rejected with
 * @param batch the batch that was submitted
 */
export function decideSubmitFailure(
  err: unknown,
  batch: Batch,
  policy: SubmitFailurePolicy,
): SubmitFailureAction {
  if (isBridgeError(err, 'API_UNAUTHORIZED', 'API_FORBIDDEN', 'API_VERSION_GONE')) {
    return {
      action: 'hold',
      problem: err.message,
      retryInMs: Math.max(policy.resubmitDelayMs, REFUSED_RECHECK_MS),
    }
  }
  if (isBridgeError(err, 'API_BAD_REQUEST')) {
    if (batch.files.length === 1)
      return { action: 'fail', reason: `rejected by the import API: ${err.message}` }
    return { action: 'split', parts: splitBatch(batch) }
  }
  const holdAllMs = isApiError(err) ? err.retryAfterMs : undefined
  return {
    action: 'retry',
    retryInMs: Math.max(policy.resubmitDelayMs, holdAllMs ?? 0),
    holdAllMs,
  }
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
