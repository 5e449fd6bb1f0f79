import { afterEach, describe, expect, it, vi } from 'vitest'
import { Condition, drainInFlight, raceTimeout } from '../../src/timeouts.ts'

afterEach(() => {
  vi.useRealTimers()
})

describe('raceTimeout', () => {
  it('resolves with the promise when it settles first, and clears its timer', async () => {
    vi.useFakeTimers()
    await expect(raceTimeout(Promise.resolve('done'), 1000, 'timeout')).resolves.toBe('done')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('resolves with the timeout value when the time passes first', async () => {
    vi.useFakeTimers()
    const raced = raceTimeout(new Promise(() => {}), 1000, 'timeout')
    await vi.advanceTimersByTimeAsync(1000)
    await expect(raced).resolves.toBe('timeout')
  })

  it('rejects when the promise rejects first, and clears its timer', async () => {
    vi.useFakeTimers()
    await expect(raceTimeout(Promise.reject(new Error('boom')), 1000, 'timeout')).rejects.toThrow('boom')
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('drainInFlight', () => {
  it('waits for promises added while draining, and is true once the set is empty', async () => {
    const inFlight = new Set<Promise<unknown>>()
    const track = (p: Promise<unknown>) => {
      const tracked = p.finally(() => inFlight.delete(tracked))
      inFlight.add(tracked)
    }
    let later = false
    track(
      new Promise<void>((r) => setTimeout(r, 10)).then(() =>
        track(new Promise<void>((r) => setTimeout(r, 10)).then(() => (later = true))),
      ),
    )
    await expect(drainInFlight(inFlight, 1000)).resolves.toBe(true)
    expect(later).toBe(true)
  })

  it('is false when the set does not empty in time', async () => {
    vi.useFakeTimers()
    const drained = drainInFlight(new Set([new Promise(() => {})]), 500)
    await vi.advanceTimersByTimeAsync(500)
    await expect(drained).resolves.toBe(false)
  })
})

describe('Condition', () => {
  it('resolves every waiter once a check finds it holding, and false after the bound when it never holds', async () => {
    vi.useFakeTimers()
    let holds = false
    const idle = new Condition(() => holds)
    const first = idle.wait(1000)
    const second = idle.wait(1000)
    idle.check()
    holds = true
    idle.check()
    await expect(Promise.all([first, second])).resolves.toEqual([true, true])
    await expect(idle.wait(1000)).resolves.toBe(true)
    holds = false
    const late = idle.wait(500)
    await vi.advanceTimersByTimeAsync(500)
    await expect(late).resolves.toBe(false)
  })
})
