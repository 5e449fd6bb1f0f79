/**
 * A media library request that holds and asks again like the bridge's other calls of the API
 * (src/jobs/api-hold.ts, api-gate.ts), until it gets an answer its caller can act on.
 */

import { setTimeout as sleep } from 'node:timers/promises'
import { timerDelayMs } from '../backoff.ts'
import { type ApiEndpoint, isApiError } from '../errors.ts'
import type { Logger } from '../logging.ts'
import type { ApiGate } from './api-gate.ts'
import { boundedRetryAfterMs, type HoldPolicy, holdFor, quotaBackoffMs } from './api-hold.ts'

/** Options of {@link heldCall}. Durations in ms. */
export interface HeldCallPolicy extends HoldPolicy {
  /** The wait before asking again after a transient failure (no answer, 5xx, 429, unreadable). */
  retryDelayMs: number
}

/** What {@link heldCall} works with. */
export interface HeldCallDeps {
  gate: ApiGate
  logger: Logger
  /** Aborts every wait (shutdown): the call then rejects with the abort's reason. */
  signal: AbortSignal
}

/**
 * Runs `request` on `endpoint` until it gives an answer the caller can act on, and returns it:
 *
 * | failure (the answer's class) | what happens |
 * |---|---|
 * | `credentials`, `configuration` | `refusals: 'hold'`: the gate refuses `endpoint` (not ready, the alert, one error line naming the setting) and the request asks again every `API_HOLD_RECHECK_MS`; `refusals: 'throw'`: rethrown (the caller has another way) |
 * | `retry`, `unreadable`, no answer, anything not an `ApiError` | asks again after `retryDelayMs` or the `Retry-After` (which then holds every request, at most `API_MAX_HOLD_MS`) |
 * | `quota` (402, the plan's usage limit) | asks again after the quota backoff (60 s doubling, at most `API_MAX_HOLD_MS`) |
 * | any other (`entry-unknown`, `version-conflict`, `file-data`) | rethrown: it is about this file's entry |
 *
 * Before each attempt it waits until the gate lets `endpoint`'s requests go (a `Retry-After`, a refusal's
 * re-check). An accepted answer ends a refusal of `endpoint`.
 * @throws the failure of the rethrown classes; the abort reason when `deps.signal` aborts
 */
export async function heldCall<T>(
  endpoint: ApiEndpoint,
  request: () => Promise<T>,
  policy: HeldCallPolicy & { refusals: 'hold' | 'throw' },
  deps: HeldCallDeps,
): Promise<T> {
  let quotaStreak = 0
  for (;;) {
    const heldMs = deps.gate.heldUntil(endpoint) - Date.now()
    if (heldMs > 0) await sleep(timerDelayMs(heldMs), undefined, { signal: deps.signal })
    deps.signal.throwIfAborted()
    try {
      const answer = await request()
      deps.gate.accepted(endpoint)
      return answer
    } catch (err) {
      deps.signal.throwIfAborted()
      const hold = holdFor(err, policy)
      if (hold !== undefined) {
        if (policy.refusals === 'throw') throw err
        deps.gate.refuse(endpoint, hold)
        continue
      }
      const cls = isApiError(err) ? err.answerClass : 'retry'
      let waitMs: number
      if (cls === 'quota') waitMs = quotaBackoffMs(++quotaStreak, policy)
      else if (cls === 'retry' || cls === 'unreadable') {
        const retryAfterMs = boundedRetryAfterMs(err, policy)
        if (retryAfterMs !== undefined) deps.gate.holdAll(Date.now() + retryAfterMs)
        waitMs = Math.max(policy.retryDelayMs, retryAfterMs ?? 0)
      } else throw err
      deps.logger.warn({ err, endpoint, retryInMs: waitMs }, `media library ${endpoint} failed; asking again`)
      await sleep(timerDelayMs(waitMs), undefined, { signal: deps.signal })
    }
  }
}
