// The backoff formulas of src/backoff.ts.
import { describe, expect, it } from 'vitest'
import { equalJitterMs, pRetryBackoff } from '../../src/backoff.ts'

describe('equalJitterMs', () => {
  const bounds = { minMs: 500, maxMs: 4000 }

  it('doubles each retry, with half of each step random, capped at maxMs', () => {
    expect([1, 2, 3, 4, 5].map((n) => equalJitterMs(n, bounds, () => 0))).toEqual([
      250, 500, 1000, 2000, 2000,
    ])
    expect([1, 2, 3, 4, 5].map((n) => equalJitterMs(n, bounds, () => 0.999999))).toEqual([
      500, 1000, 2000, 4000, 4000,
    ])
  })

  it('spreads concurrent retries (jitter) within [step / 2, step]', () => {
    const delays = new Set(Array.from({ length: 50 }, () => equalJitterMs(3, bounds)))
    expect(delays.size).toBeGreaterThan(10)
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(1000)
    for (const d of delays) expect(d).toBeLessThanOrEqual(2000)
  })
})

describe('pRetryBackoff', () => {
  it("gives p-retry's exponential options with randomize and no attempt limit", () => {
    expect(pRetryBackoff({ minMs: 10, maxMs: 100 })).toEqual({
      retries: Number.POSITIVE_INFINITY,
      factor: 2,
      minTimeout: 10,
      maxTimeout: 100,
      randomize: true,
    })
  })
})
