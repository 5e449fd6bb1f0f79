// The progress of a consumer group from Kafka's offsets: done and behind per partition and in total,
// the smoothed rate of the committed offsets' advance, and the ETA.
import { describe, expect, it } from 'vitest'
import type { OffsetsSnapshot, PartitionOffsets } from '../../../src/model/offsets.ts'
import { countsOf, etaOf, ProgressEstimator, progressOf } from '../../../src/progress/progress.ts'

const part = (
  partition: number,
  logStart: number,
  logEnd: number,
  committed: number | null,
): PartitionOffsets => ({
  partition,
  logStart: BigInt(logStart),
  logEnd: BigInt(logEnd),
  committed: committed === null ? null : BigInt(committed),
})

const snap = (at: number, partitions: PartitionOffsets[]): OffsetsSnapshot => ({
  topic: 'in',
  groupId: 'g',
  at,
  partitions,
})

describe('countsOf', () => {
  it.each([
    ['committed in the middle', part(0, 100, 1000, 400), { done: 300, behind: 600 }],
    ['never committed: everything in the log is behind', part(0, 100, 1000, null), { done: 0, behind: 900 }],
    [
      'committed below the log start (retention): from the log start',
      part(0, 100, 1000, 50),
      { done: 0, behind: 900 },
    ],
    ['drained', part(0, 0, 1000, 1000), { done: 1000, behind: 0 }],
    ['empty partition', part(0, 0, 0, null), { done: 0, behind: 0 }],
  ])('%s', (_what, offsets, counts) => {
    expect(countsOf(offsets)).toEqual(counts)
  })
})

describe('etaOf', () => {
  it('is 0 when nothing is behind, unknown without a rate, behind / rate otherwise', () => {
    expect(etaOf(0, null)).toBe(0)
    expect(etaOf(10, null)).toBeNull()
    expect(etaOf(10, 0)).toBeNull()
    expect(etaOf(100, 4)).toBe(25)
  })
})

describe('progressOf', () => {
  it('sums the partitions, and takes a total rate measured elsewhere for the ETA', () => {
    const p = progressOf(snap(0, [part(0, 0, 100, 40), part(1, 0, 50, null)]), { total: 10 })
    expect(p.partitions.map((x) => [x.partition, x.done, x.behind, x.total, x.ratePerSecond])).toEqual([
      [0, 40, 60, 100, null],
      [1, 0, 50, 50, null],
    ])
    expect(p.total).toEqual({ done: 40, behind: 110, total: 150, ratePerSecond: 10, etaSeconds: 11 })
  })
})

describe('ProgressEstimator', () => {
  it('has no rate at the first read, then the mean rate while younger than its window', () => {
    const e = new ProgressEstimator({ windowMs: 60_000 })
    expect(e.observe(snap(0, [part(0, 0, 10_000, 0)])).total.ratePerSecond).toBeNull()
    // 100/s for 1 s, then 300/s for 1 s: about the mean since the first read, 200/s (within 1%: the newer
    // second weighs a little more), not biased to 0 nor to the first step
    e.observe(snap(1000, [part(0, 0, 10_000, 100)]))
    const p = e.observe(snap(2000, [part(0, 0, 10_000, 400)]))
    const rate = p.total.ratePerSecond as number
    expect(Math.abs(rate - 200)).toBeLessThan(2)
    expect(p.partitions[0]?.etaSeconds).toBeCloseTo(9600 / rate, 6)
  })

  it('converges on a steady rate whatever the steps of the commits, and sums partitions', () => {
    // Given commits in steps: every 5 s partition 0 jumps by 500 and partition 1 by 250 (150/s together),
    // read every second, with a window of 2 minutes
    const e = new ProgressEstimator({ windowMs: 120_000 })
    let c0 = 0
    let c1 = 0
    let last = e.observe(snap(0, [part(0, 0, 1e6, 0), part(1, 0, 1e6, 0)]))
    for (let t = 1000; t <= 600_000; t += 1000) {
      if (t % 5000 === 0) {
        c0 += 500
        c1 += 250
      }
      last = e.observe(snap(t, [part(0, 0, 1e6, c0), part(1, 0, 1e6, c1)]))
    }
    // Then the rate is within 5% of 150/s and the ETA follows
    expect(last.total.ratePerSecond).toBeGreaterThan(142.5)
    expect(last.total.ratePerSecond).toBeLessThan(157.5)
    expect(last.total.etaSeconds).toBeCloseTo(last.total.behind / (last.total.ratePerSecond as number), 6)
  })

  it('starts a partition again when its committed offset moves back', () => {
    const e = new ProgressEstimator({ windowMs: 60_000 })
    e.observe(snap(0, [part(0, 0, 1000, 500)]))
    e.observe(snap(1000, [part(0, 0, 1000, 600)]))
    expect(e.observe(snap(2000, [part(0, 0, 1000, 100)])).partitions[0]?.ratePerSecond).toBeNull()
    expect(e.observe(snap(3000, [part(0, 0, 1000, 150)])).partitions[0]?.ratePerSecond).toBeCloseTo(50, 6)
  })

  it('counts a first commit from the log start', () => {
    const e = new ProgressEstimator({ windowMs: 60_000 })
    e.observe(snap(0, [part(0, 1000, 5000, null)]))
    const progress = e.observe(snap(2000, [part(0, 1000, 5000, 1400)]))
    expect(progress.total.ratePerSecond).toBeCloseTo(200, 6)
    expect(progress.total.behind).toBe(3600)
  })
})
