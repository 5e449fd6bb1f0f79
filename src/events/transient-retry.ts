import pRetry from 'p-retry'
import { pRetryBackoff } from '../backoff.ts'
import { isBridgeError } from '../errors.ts'

/** Backoff of a decode that failed for a transient reason (the schema registry cannot be reached). */
export interface TransientRetryOptions {
  /** First wait, ms; each further wait doubles, with jitter. */
  minDelayMs: number
  /** Longest wait between two attempts, ms. */
  maxDelayMs: number
}

/** What the consumer offers while a record waits: keep the group membership, and whether to go on. */
export interface RetryControl {
  /** Sent between attempts, so a long outage does not cost the partition (kafkajs eachBatch heartbeat). */
  heartbeat(): Promise<void>
  /** False once the consumer stops or the partition is revoked: give up and let the error through. */
  shouldContinue(): boolean
}

/**
 * Wraps `decode` so that a transient failure (a `BridgeError` with `retryable: true`, e.g.
 * `SCHEMA_REGISTRY_UNAVAILABLE`) waits and tries again instead of reaching the DLQ, while the common
 * case stays one plain call: the backoff machinery (p-retry) is entered only after a first attempt
 * failed transiently. Waits grow exponentially from `minDelayMs` to `maxDelayMs`, each stretched by a
 * random factor in [1, 2) (p-retry's `randomize`, see `pRetryBackoff` in src/backoff.ts), without a
 * limit on attempts: the record keeps its place in the partition until the registry answers.
 *
 * @param decode gives its result at once or as a promise (the event decoder does so without a registry
 *   lookup); a result given at once passes through at once, so the common case costs no promise here
 * @param onRetry called before each wait with the error and the wait in ms (logs, metrics)
 * @returns `decodeOrWait(input, control)`: what `decode` gave (at once when it gave it at once); a
 *   promise that rejects with the last transient error once `control.shouldContinue()` is false, and at
 *   once with any non-retryable error (a decode that throws is a rejected promise, never a throw)
 */
export function withTransientRetry<I, R>(
  decode: (input: I) => R | Promise<R>,
  options: TransientRetryOptions,
  onRetry: (error: unknown, delayMs: number) => void,
): (input: I, control: RetryControl) => R | Promise<R> {
  async function afterFailure(input: I, control: RetryControl, err: unknown): Promise<R> {
    if (!isTransient(err) || !control.shouldContinue()) throw err
    onRetry(err, options.minDelayMs)
    await control.heartbeat().catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, options.minDelayMs))
    return pRetry(async () => decode(input), {
      ...pRetryBackoff({ minMs: options.minDelayMs, maxMs: options.maxDelayMs }),
      shouldRetry: ({ error }) => isTransient(error) && control.shouldContinue(),
      onFailedAttempt: async ({ error, retryDelay }) => {
        if (!isTransient(error) || !control.shouldContinue()) return
        onRetry(error, retryDelay)
        await control.heartbeat().catch(() => undefined)
      },
    })
  }
  return function decodeOrWait(input, control) {
    let first: R | Promise<R>
    try {
      first = decode(input)
    } catch (err) {
      return afterFailure(input, control, err)
    }
    return first instanceof Promise ? first.catch((err) => afterFailure(input, control, err)) : first
  }
}

function isTransient(err: unknown): boolean {
  return isBridgeError(err) && err.retryable
}
