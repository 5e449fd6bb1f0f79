/**
 * What a refused or throttled answer of the import API means for the next request (pure): a refusal of
 * our credentials or configuration holds the endpoint and one request re-checks after
 * `API_HOLD_RECHECK_MS` ({@link holdFor}); a `Retry-After` holds every request, at most
 * `API_MAX_HOLD_MS` ({@link boundedRetryAfterMs}); the plan's usage limit backs off from
 * {@link QUOTA_FIRST_BACKOFF_MS} ({@link quotaBackoffMs}). `ApiGate` keeps the holds in force.
 */

import { equalJitterMs } from '../backoff.ts'
import { type ApiError, isApiError } from '../errors.ts'
import type { ApiHoldCause } from '../metrics.ts'

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

/** Holding a request the API refused: re-check after `retryInMs`. */
export type Hold = { action: 'hold'; retryInMs: number } & Refusal

/** The timing of holds, ms: `API_HOLD_RECHECK_MS` and `API_MAX_HOLD_MS`. */
export interface HoldPolicy {
  /** While the API refuses the credentials or configuration, how often one request asks again. */
  holdRecheckMs: number
  /** The longest wait before the API is asked again: ceiling of the quota backoff and of a `Retry-After`. */
  maxHoldMs: number
}

/** True when `err` is an {@link ApiError} by which the API refuses our credentials or configuration. */
export function isRefusal(err: unknown): err is ApiError & { answerClass: Refusal['cause'] } {
  return isApiError(err) && (err.answerClass === 'credentials' || err.answerClass === 'configuration')
}

/**
 * The hold for `err` when it says the API refuses our credentials or configuration (a submit or a status
 * read alike), re-checked after `policy.holdRecheckMs` (`API_HOLD_RECHECK_MS`); undefined otherwise.
 */
export function holdFor(err: unknown, policy: Pick<HoldPolicy, 'holdRecheckMs'>): Hold | undefined {
  if (!isRefusal(err)) return
  return {
    action: 'hold',
    cause: err.answerClass,
    problem: err.message,
    setting: err.setting,
    retryInMs: policy.holdRecheckMs,
  }
}

/**
 * The `Retry-After` of `err`, ms, bounded by `policy.maxHoldMs` (`API_MAX_HOLD_MS`; RFC 9110 §10.2.3);
 * undefined without one.
 */
export function boundedRetryAfterMs(err: unknown, policy: Pick<HoldPolicy, 'maxHoldMs'>): number | undefined {
  const retryAfterMs = isApiError(err) ? err.retryAfterMs : undefined
  return retryAfterMs === undefined ? undefined : Math.min(retryAfterMs, policy.maxHoldMs)
}

/**
 * The wait after the `streak`-th quota answer in a row (429 without `Retry-After`, [F] §5), ms:
 * `QUOTA_FIRST_BACKOFF_MS · 2^(streak−1)` with equal jitter, at most `policy.maxHoldMs` (a ceiling below
 * the first step caps that too).
 * @param random a number in [0, 1) (Math.random; fixed in tests)
 */
export function quotaBackoffMs(
  streak: number,
  policy: Pick<HoldPolicy, 'maxHoldMs'>,
  random: () => number = Math.random,
): number {
  const bounds = { minMs: Math.min(QUOTA_FIRST_BACKOFF_MS, policy.maxHoldMs), maxMs: policy.maxHoldMs }
  return equalJitterMs(Math.max(1, streak), bounds, random)
}

/** What to do after a status read failed (see {@link decideStatusFailure}). */
export type StatusFailureAction =
  /** The API refuses our credentials or configuration: hold every request, re-check later. */
  | Hold
  /** Read again at the next poll (after `holdAllMs`, the bounded `Retry-After`, if the API asked). */
  | { action: 'retry'; holdAllMs: number | undefined }

/**
 * Decides what a failed status read means (pure), from the class of the answer: `credentials` and
 * `configuration` hold (like a submit), anything else (`retry`, `unreadable`, no answer, a bug) is read
 * again at the next poll. Either way the job keeps its files, and the time until a read succeeds again
 * does not count toward `JOB_TIMEOUT_MS`.
 */
export function decideStatusFailure(err: unknown, policy: HoldPolicy): StatusFailureAction {
  return holdFor(err, policy) ?? { action: 'retry', holdAllMs: boundedRetryAfterMs(err, policy) }
}
