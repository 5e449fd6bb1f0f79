// The bench's CPU per event once warm: from the first progress sample past a quarter of the events.
import { describe, expect, it } from 'vitest'
import { WARM_FRACTION, warmCpuPer10k } from '../../../scripts/bench/figures.ts'

const sample = (results: number, cpuSeconds: number) => ({ atMs: 0, results, cpuSeconds })

describe('warmCpuPer10k', () => {
  it('counts the CPU and results from the first sample at a quarter of the events to the end', () => {
    expect(WARM_FRACTION).toBe(0.25)
    // 100k events: 3 s for the first 20k (warm-up), then 1 s per 20k; the run ends at 8 s
    const samples = [
      sample(0, 0.5),
      sample(20_000, 3),
      sample(40_000, 4),
      sample(60_000, 5),
      sample(80_000, 6),
    ]
    expect(warmCpuPer10k(samples, 100_000, 7)).toBeCloseTo(((7 - 4) * 10_000) / 60_000, 9)
  })

  it('gives nothing when no sample fell between a quarter of the events and the end', () => {
    expect(warmCpuPer10k([sample(0, 0), sample(10_000, 1), sample(100_000, 9)], 100_000, 9)).toBeUndefined()
    expect(warmCpuPer10k([], 100_000, 9)).toBeUndefined()
  })
})
