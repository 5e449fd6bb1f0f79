import pRetry from 'p-retry'
import { type BackoffBounds, pRetryBackoff, STARTUP_BACKOFF } from './backoff.ts'

/** Options of {@link retryUntil}. */
export interface RetryUntilOptions {
  /** No attempt starts after this, epoch ms; the last error is then thrown. */
  deadline: number
  /** Whether a failure may pass (a timeout, a 5xx, a refused connection): only those are retried. */
  isTransient: (err: unknown) => boolean
  /** Told before each wait, with the failure and the wait in ms (one log line per wait). */
  onWait: (err: unknown, delayMs: number) => void
  /** Default {@link STARTUP_BACKOFF}: 500 ms doubling to 5 s, each stretched by a random factor in [1, 2). */
  backoff?: BackoffBounds
}

/**
 * Runs `attempt` until it succeeds, fails for a reason that does not pass, or `deadline` comes: the
 * start-up steps that talk to the broker or the schema registry (`STARTUP_TIMEOUT_MS`). Each step must
 * be idempotent: an attempt that timed out may have done its work (a registration the registry took but
 * did not answer), and the next attempt must then converge on the same state.
 *
 * @returns what the first successful attempt gave
 * @throws the error of the last attempt: at once when it is not transient, else once no time is left
 */
export function retryUntil<T>(attempt: () => Promise<T>, options: RetryUntilOptions): Promise<T> {
  return pRetry(attempt, {
    ...pRetryBackoff(options.backoff ?? STARTUP_BACKOFF),
    maxRetryTime: Math.max(0, options.deadline - Date.now()),
    shouldRetry: ({ error }) => options.isTransient(error),
    onFailedAttempt: ({ error, retryDelay }) => {
      if (retryDelay > 0 && options.isTransient(error)) options.onWait(error, retryDelay)
    },
  })
}
