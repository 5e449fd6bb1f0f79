/**
 * Every backoff of the bridge, in one place. Two formulas are in use:
 *
 * 1. {@link equalJitterMs}, for the import API (undici's retry interceptor, `src/import/retry-policy.ts`):
 *    step `minMs · 2^(attempt−1)` capped at `maxMs`, half of it fixed and half random ("equal jitter",
 *    AWS Architecture Blog, "Exponential Backoff and Jitter"): replicas hit by the same outage spread
 *    out, and no retry comes sooner than half its step.
 * 2. {@link pRetryBackoff}, for waits that p-retry runs (decoding while the schema registry is down,
 *    publishing while the broker is down, start-up steps: {@link STARTUP_BACKOFF}): p-retry's own formula with `randomize`, `minMs · 2^(attempt−1)`
 *    times a random factor in [1, 2), capped at `maxMs` (sindresorhus/p-retry, `calculateDelay`). Not
 *    "full jitter": a wait is never shorter than its step.
 *
 * Fixed waits of the job tracker (a resubmit after a failed submit, the re-check of a refused token)
 * are settings or named constants in `src/jobs/`, not formulas; the quota backoff of a submit uses (1).
 * `API_MAX_HOLD_MS` bounds a `Retry-After` and the quota backoff; a timer armed with a wait the API
 * chose goes through {@link timerDelayMs}, so none is longer than {@link MAX_TIMER_DELAY_MS}.
 */

/**
 * The longest delay a Node.js timer takes, ms (2^31 − 1, about 24.8 days): a longer one fires after 1
 * ms with a `TimeoutOverflowWarning`. Timers armed with a wait the API chose (the submit queue's) go
 * through {@link timerDelayMs}.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1

/** `delayMs` as a timer can take it: at least 0, at most {@link MAX_TIMER_DELAY_MS}. */
export function timerDelayMs(delayMs: number): number {
  return Math.min(MAX_TIMER_DELAY_MS, Math.max(0, Number.isFinite(delayMs) ? delayMs : MAX_TIMER_DELAY_MS))
}

/** Bounds of an exponential backoff, ms. */
export interface BackoffBounds {
  /** The first step, ms; each further step doubles. */
  minMs: number
  /** The largest step, ms. */
  maxMs: number
}

/**
 * The wait before retry number `attempt` (1-based) with equal jitter: `step / 2 + random · step / 2`,
 * `step = min(maxMs, minMs · 2^(attempt−1))`.
 *
 * @param random a source in [0, 1) (default `Math.random`)
 * @returns ms, an integer in [step / 2, step]
 */
export function equalJitterMs(
  attempt: number,
  bounds: BackoffBounds,
  random: () => number = Math.random,
): number {
  const step = Math.min(bounds.maxMs, bounds.minMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(step / 2 + random() * (step / 2))
}

/**
 * p-retry options for an exponential backoff between `minMs` and `maxMs`: factor 2, `randomize` (a
 * factor in [1, 2)), no limit on attempts; the caller stops the retries through p-retry's `signal` or
 * `shouldRetry`.
 */
export function pRetryBackoff(bounds: BackoffBounds) {
  return {
    retries: Number.POSITIVE_INFINITY,
    factor: 2,
    minTimeout: bounds.minMs,
    maxTimeout: bounds.maxMs,
    randomize: true,
  } as const
}

/**
 * Backoff of a start-up step that failed for a transient reason (a broker or registry that does not
 * answer yet, or answers 5xx): from 500 ms up to 5 s, until the step succeeds or `STARTUP_TIMEOUT_MS`
 * is spent (src/retry-until.ts).
 */
export const STARTUP_BACKOFF: BackoffBounds = { minMs: 500, maxMs: 5_000 }

/**
 * Backoff of a result or DLQ send the producer could not deliver (kafkajs already retried inside):
 * from 500 ms up to 30 s, until the broker takes it or the publisher is closed.
 */
export const PUBLISH_BACKOFF: BackoffBounds = { minMs: 500, maxMs: 30_000 }
