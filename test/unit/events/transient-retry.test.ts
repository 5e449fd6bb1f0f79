// withTransientRetry: a transient decode failure waits and retries (never a DLQ answer); the common case
// is a single call.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BridgeError } from '../../../src/errors.ts'
import { withTransientRetry } from '../../../src/events/transient-retry.ts'

const transient = () => new BridgeError('SCHEMA_REGISTRY_UNAVAILABLE', 'registry down', { retryable: true })

/** A decode that fails with `failures` errors in turn, then resolves to `'event'`. */
function flaky(failures: Error[]) {
  const calls: string[] = []
  const decode = async (input: string) => {
    calls.push(input)
    const next = failures.shift()
    if (next) throw next
    return 'event'
  }
  return { decode, calls }
}

function control(shouldContinue: () => boolean = () => true) {
  return { heartbeat: vi.fn(async () => {}), shouldContinue }
}

describe('withTransientRetry', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('passes a result given at once through at once (no promise), and retries a transient throw', async () => {
    const onRetry = vi.fn()
    const sync = withTransientRetry(
      (input: string) => `event ${input}`,
      { minDelayMs: 100, maxDelayMs: 1000 },
      onRetry,
    )
    expect(sync('r', control())).toBe('event r')
    let thrown = false
    const throwsOnce = withTransientRetry(
      (input: string) => {
        if (!thrown) {
          thrown = true
          throw transient()
        }
        return `event ${input}`
      },
      { minDelayMs: 100, maxDelayMs: 1000 },
      onRetry,
    )
    const pending = throwsOnce('r', control())
    expect(pending).toBeInstanceOf(Promise)
    await vi.runAllTimersAsync()
    expect(await pending).toBe('event r')
    expect(onRetry).toHaveBeenCalledTimes(1)
  })

  it('calls decode once when it succeeds: no wait, no retry callback', async () => {
    const { decode, calls } = flaky([])
    const onRetry = vi.fn()
    const c = control()
    expect(await withTransientRetry(decode, { minDelayMs: 100, maxDelayMs: 1000 }, onRetry)('r', c)).toBe(
      'event',
    )
    expect(calls).toEqual(['r'])
    expect(onRetry).not.toHaveBeenCalled()
    expect(c.heartbeat).not.toHaveBeenCalled()
  })

  it('retries transient failures with growing waits, heartbeating, until decode succeeds', async () => {
    // Given a registry that fails four times
    const { decode, calls } = flaky([transient(), transient(), transient(), transient()])
    const delays: number[] = []
    const c = control()
    const pending = withTransientRetry(decode, { minDelayMs: 100, maxDelayMs: 1000 }, (_e, ms) =>
      delays.push(ms),
    )('r', c)
    // When time passes
    await vi.runAllTimersAsync()
    // Then the fifth attempt's answer comes back, and each failure was reported with its wait
    expect(await pending).toBe('event')
    expect(calls).toHaveLength(5)
    expect(delays).toHaveLength(4)
    expect(delays[0]).toBe(100)
    for (const ms of delays) expect(ms).toBeLessThanOrEqual(1000)
    expect(c.heartbeat).toHaveBeenCalledTimes(4)
  })

  it('passes a non-retryable error through at once', async () => {
    const err = new BridgeError('UNDECODABLE_AVRO', 'bad body')
    const { decode, calls } = flaky([err])
    await expect(
      withTransientRetry(decode, { minDelayMs: 100, maxDelayMs: 1000 }, vi.fn())('r', control()),
    ).rejects.toBe(err)
    expect(calls).toHaveLength(1)
  })

  it('gives up with the transient error once the consumer stops (shouldContinue false)', async () => {
    // Given a registry that never answers, and a consumer that stops after the second attempt
    const { decode, calls } = flaky(Array.from({ length: 100 }, transient))
    let running = true
    const pending = withTransientRetry(decode, { minDelayMs: 100, maxDelayMs: 100 }, () => {
      if (calls.length >= 2) running = false
    })(
      'r',
      control(() => running),
    )
    const settled = Promise.resolve(pending).then(
      () => 'resolved',
      (e: unknown) => e,
    )
    await vi.runAllTimersAsync()
    // Then it rejects with the retryable error (the record is fetched again by the next owner)
    expect(await settled).toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE', retryable: true })
    expect(calls.length).toBeLessThanOrEqual(3)
  })
})
