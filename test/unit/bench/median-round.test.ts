// Which round of the bench's alternating baseline/instant rounds gives the reported cpuRatio.
import { describe, expect, it } from 'vitest'
import { medianRound } from '../../../scripts/bench/run.ts'

describe('medianRound', () => {
  it('picks the middle ratio of an odd number of rounds, wherever it ran', () => {
    expect(medianRound([2.1, 1.9, 2.4])).toBe(0)
    expect(medianRound([1.8, 2.3, 2.0, 2.2, 1.7])).toBe(2)
  })

  it('picks the upper of the two middle ratios of an even number (the less flattering)', () => {
    expect(medianRound([2.1, 1.9])).toBe(0)
    expect(medianRound([1.9, 2.0, 2.2, 1.8])).toBe(1)
  })

  it('gives the one round of one', () => {
    expect(medianRound([2.5])).toBe(0)
  })
})
