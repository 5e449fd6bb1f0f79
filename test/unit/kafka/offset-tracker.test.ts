// The OffsetTracker: which offset is safe to commit per partition, whatever order records settle in.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareOffsets, OffsetTracker } from '../../../src/kafka/offset-tracker.ts'
import { Assignment } from '../../../src/model/assignment.ts'
import type { CommittableOffset, RecordPosition } from '../../../src/model/records.ts'

const pos = (offset: number | string | bigint, partition = 0, topic = 'in'): RecordPosition => ({
  topic,
  partition,
  offset: String(offset),
})

function trackAll(t: OffsetTracker, offsets: Array<number | string>, partition = 0, topic = 'in') {
  for (const o of offsets) expect(t.track(pos(o, partition, topic))).toBe(true)
}

/** The committable offset of one partition, or undefined. */
function committableOf(t: OffsetTracker, partition = 0, topic = 'in'): string | undefined {
  return t.committable().find((c) => c.topic === topic && c.partition === partition)?.offset
}

/** Deterministic PRNG (mulberry32) so a failure is reproducible. */
function rng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}

describe('contiguous prefix', () => {
  it('commits only past the contiguous settled prefix when records settle out of order', () => {
    // Given offsets 0..4 tracked
    const t = new OffsetTracker()
    trackAll(t, [0, 1, 2, 3, 4])
    // When 2 and 3 settle first
    expect(t.settle(pos(2))).toBe(false)
    expect(t.settle(pos(3))).toBe(false)
    // Then nothing is committable (0 is still open)
    expect(t.committable()).toEqual([])
    // When 0 settles, the next offset to read is 1
    expect(t.settle(pos(0))).toBe(true)
    expect(committableOf(t)).toBe('1')
    // When 1 settles, 1..3 are done: the next offset to read is 4
    expect(t.settle(pos(1))).toBe(true)
    expect(committableOf(t)).toBe('4')
    // When 4 settles, everything is done
    expect(t.settle(pos(4))).toBe(true)
    expect(committableOf(t)).toBe('5')
    expect(t.inFlight).toBe(0)
  })

  it('returns nothing before anything settled', () => {
    const t = new OffsetTracker()
    trackAll(t, [0, 1])
    expect(t.committable()).toEqual([])
  })

  it('handles gaps in the log: only tracked offsets count', () => {
    // Given offsets 10, 12, 15 (11, 13, 14 compacted away or transaction markers)
    const t = new OffsetTracker()
    trackAll(t, [10, 12, 15])
    // When 12 settles, then 10
    t.settle(pos(12))
    expect(t.committable()).toEqual([])
    t.settle(pos(10))
    // Then everything up to 12 is done: next to read is 13
    expect(committableOf(t)).toBe('13')
    // When 15 settles, next is 16
    t.settle(pos(15))
    expect(committableOf(t)).toBe('16')
  })

  it('ignores a second settle of the same offset', () => {
    const t = new OffsetTracker()
    trackAll(t, [0, 1, 2])
    expect(t.settle(pos(1))).toBe(false)
    expect(t.settle(pos(1))).toBe(false)
    expect(t.inFlight).toBe(2)
    t.settle(pos(0))
    expect(t.settle(pos(0))).toBe(false)
    expect(t.inFlight).toBe(1)
    expect(committableOf(t)).toBe('2')
  })

  it('ignores settles of unknown partitions', () => {
    const t = new OffsetTracker()
    trackAll(t, [0])
    expect(t.settle(pos(0, 7))).toBe(false)
    expect(t.inFlight).toBe(1)
    expect(t.committable()).toEqual([])
  })

  it('ignores a settle of an offset that was never tracked in a known partition', () => {
    // Given 10 and 12 tracked
    const t = new OffsetTracker()
    trackAll(t, [10, 12])
    // When 11, never tracked, settles
    const moved = t.settle(pos(11))
    // Then nothing changes
    expect(moved).toBe(false)
    expect(t.inFlight).toBe(2)
    expect(t.pendingByPartition()).toEqual({ 'in\u00000': 2 })
  })
})

describe('committable() and markCommitted()', () => {
  it('offers only partitions that moved since markCommitted', () => {
    // Given two partitions with settled records
    const t = new OffsetTracker()
    trackAll(t, [0, 1, 2], 0)
    trackAll(t, [5, 6], 1)
    t.settle(pos(0, 0))
    t.settle(pos(5, 1))
    const first = t.committable()
    expect(first).toEqual(
      expect.arrayContaining<CommittableOffset>([
        { topic: 'in', partition: 0, offset: '1' },
        { topic: 'in', partition: 1, offset: '6' },
      ]),
    )
    expect(first).toHaveLength(2)
    // When they are committed
    t.markCommitted(first)
    // Then nothing is offered again
    expect(t.committable()).toEqual([])
    // When only partition 1 moves
    t.settle(pos(6, 1))
    // Then only partition 1 is offered
    expect(t.committable()).toEqual([{ topic: 'in', partition: 1, offset: '7' }])
  })

  it('keeps offering an offset until it is marked committed', () => {
    const t = new OffsetTracker()
    trackAll(t, [0])
    t.settle(pos(0))
    expect(t.committable()).toEqual([{ topic: 'in', partition: 0, offset: '1' }])
    expect(t.committable()).toEqual([{ topic: 'in', partition: 0, offset: '1' }])
  })

  it('offers again when a partition moves past an older commit', () => {
    const t = new OffsetTracker()
    trackAll(t, [0, 1])
    t.settle(pos(0))
    t.markCommitted(t.committable())
    t.settle(pos(1))
    expect(t.committable()).toEqual([{ topic: 'in', partition: 0, offset: '2' }])
  })

  it('ignores markCommitted for unknown partitions', () => {
    const t = new OffsetTracker()
    expect(() => t.markCommitted([{ topic: 'x', partition: 3, offset: '9' }])).not.toThrow()
    expect(t.committable()).toEqual([])
  })

  it('keeps topic names containing odd characters intact', () => {
    const t = new OffsetTracker()
    trackAll(t, [0], 12, 'legacy.file-created_v2')
    t.settle(pos(0, 12, 'legacy.file-created_v2'))
    expect(t.committable()).toEqual([{ topic: 'legacy.file-created_v2', partition: 12, offset: '1' }])
  })
})

describe('per-partition independence', () => {
  it('an open record in one partition does not hold back another', () => {
    const t = new OffsetTracker()
    trackAll(t, [0, 1], 0)
    trackAll(t, [0, 1], 1)
    trackAll(t, [0], 0, 'other')
    // When partition 1 settles fully and partition 0 not at all
    t.settle(pos(0, 1))
    t.settle(pos(1, 1))
    // Then only partition 1 is committable
    expect(t.committable()).toEqual([{ topic: 'in', partition: 1, offset: '2' }])
    expect(t.inFlight).toBe(3)
    expect(t.pendingByPartition()).toEqual({ 'in\u00000': 2, 'in\u00001': 0, 'other\u00000': 1 })
  })

  it('the same partition number on two topics is two partitions', () => {
    const t = new OffsetTracker()
    trackAll(t, [3], 0, 'a')
    expect(t.track(pos(3, 0, 'b'))).toBe(true)
    expect(t.isRedelivery(pos(3, 0, 'b'))).toBe(true)
    expect(t.isRedelivery(pos(4, 0, 'a'))).toBe(false)
  })
})

describe('redeliveries', () => {
  it('track() returns false for an offset at or below the last tracked one', () => {
    const t = new OffsetTracker()
    trackAll(t, [5, 6])
    expect(t.track(pos(6))).toBe(false)
    expect(t.track(pos(3))).toBe(false)
    expect(t.inFlight).toBe(2)
    expect(t.track(pos(7))).toBe(true)
    expect(t.inFlight).toBe(3)
  })

  it('a redelivery of a settled record stays skipped and does not rewind the committable offset', () => {
    const t = new OffsetTracker()
    trackAll(t, [0, 1])
    t.settle(pos(0))
    t.settle(pos(1))
    expect(t.track(pos(0))).toBe(false)
    expect(committableOf(t)).toBe('2')
    expect(t.inFlight).toBe(0)
  })

  it('isRedelivery() is true at or below the last tracked offset and false above it or for new partitions', () => {
    const t = new OffsetTracker()
    expect(t.isRedelivery(pos(0))).toBe(false)
    trackAll(t, [10])
    expect(t.isRedelivery(pos(9))).toBe(true)
    expect(t.isRedelivery(pos(10))).toBe(true)
    expect(t.isRedelivery(pos(11))).toBe(false)
    expect(t.isRedelivery(pos(10, 1))).toBe(false)
  })

  it('isRedelivery() does not track', () => {
    const t = new OffsetTracker()
    t.isRedelivery(pos(1))
    expect(t.inFlight).toBe(0)
    expect(t.track(pos(1))).toBe(true)
  })
})

describe('inFlight', () => {
  it('counts tracked, unsettled offsets over all partitions', () => {
    const t = new OffsetTracker()
    expect(t.inFlight).toBe(0)
    trackAll(t, [0, 1, 2], 0)
    trackAll(t, [0], 1)
    expect(t.inFlight).toBe(4)
    t.settle(pos(2, 0)) // out of order still counts as settled
    expect(t.inFlight).toBe(3)
    t.settle(pos(0, 1))
    expect(t.inFlight).toBe(2)
  })
})

describe('retainOnly: what a revoked partition had settled', () => {
  it('returns the settled offsets of each forgotten partition not committed yet', () => {
    // Given partition 0 with 1..5 tracked, 1 and 2 committed, 3 settled, 5 settled, 4 pending
    const t = new OffsetTracker()
    for (const o of ['1', '2', '3', '4', '5']) t.track({ topic: 'in', partition: 0, offset: o })
    t.track({ topic: 'in', partition: 1, offset: '9' })
    t.settle({ topic: 'in', partition: 0, offset: '1' })
    t.settle({ topic: 'in', partition: 0, offset: '2' })
    t.markCommitted(t.committable())
    t.settle({ topic: 'in', partition: 0, offset: '3' })
    t.settle({ topic: 'in', partition: 0, offset: '5' })

    // When partition 0 is revoked
    const forgotten = t.retainOnly(new Assignment([{ topic: 'in', partitions: [1] }]))

    // Then 3 and 5 come back (settled, above the commit at 3), not 4 (pending), nor partition 1
    expect(forgotten).toEqual([{ topic: 'in', partition: 0, offsets: ['3', '5'] }])
  })
})

describe('retainOnly (after a rebalance)', () => {
  it('drops revoked partitions: no committable offset, inFlight decreases, later settles ignored', () => {
    // Given partitions 0, 1 and 2, with settled and open records
    const t = new OffsetTracker()
    trackAll(t, [0, 1, 2], 0)
    trackAll(t, [0, 1, 2], 1)
    trackAll(t, [0], 2)
    t.settle(pos(0, 1)) // committable 1 for partition 1
    t.settle(pos(2, 1)) // settled out of order, must not count as in flight
    expect(t.inFlight).toBe(5)
    // When partition 1 is revoked
    t.retainOnly(new Assignment([{ topic: 'in', partitions: [0, 2] }]))
    // Then it offers no offset, its open record no longer counts
    expect(committableOf(t, 1)).toBeUndefined()
    expect(t.inFlight).toBe(4)
    // and a late settle of its records changes nothing
    expect(t.settle(pos(1, 1))).toBe(false)
    expect(t.committable()).toEqual([])
    expect(t.inFlight).toBe(4)
    // while the kept partitions work as before
    t.settle(pos(0, 0))
    expect(t.committable()).toEqual([{ topic: 'in', partition: 0, offset: '1' }])
  })

  it('drops every partition of a topic no longer listed', () => {
    const t = new OffsetTracker()
    trackAll(t, [0], 0, 'a')
    trackAll(t, [0], 0, 'b')
    t.retainOnly(new Assignment([{ topic: 'a', partitions: [0] }]))
    expect(t.inFlight).toBe(1)
    expect(t.pendingByPartition()).toEqual({ 'a\u00000': 1 })
  })

  it('forgets the last offset of a revoked partition, so a re-assignment tracks again', () => {
    const t = new OffsetTracker()
    trackAll(t, [0, 1, 2])
    t.retainOnly(Assignment.NONE)
    expect(t.inFlight).toBe(0)
    expect(t.isRedelivery(pos(1))).toBe(false)
    expect(t.track(pos(1))).toBe(true)
  })
})

describe('large offsets', () => {
  it('keeps offsets beyond 2^53 exact as strings', () => {
    // Given offsets around 2^53 + 1, which a double cannot hold
    const base = 2n ** 53n + 1n
    const t = new OffsetTracker()
    trackAll(t, [String(base), String(base + 1n), String(base + 2n)])
    // When the first two settle
    t.settle(pos(base + 1n))
    t.settle(pos(base))
    // Then the next offset is exactly base + 2
    expect(committableOf(t)).toBe('9007199254740995')
    // and a redelivery is recognised exactly at the boundary
    expect(t.isRedelivery(pos(base + 2n))).toBe(true)
    expect(t.isRedelivery(pos(base + 3n))).toBe(false)
  })

  it('handles the int64 maximum', () => {
    const max = 2n ** 63n - 1n
    const t = new OffsetTracker()
    trackAll(t, [String(max - 1n), String(max)])
    t.settle(pos(max - 1n))
    expect(committableOf(t)).toBe(String(max))
  })
})

describe('property: random settle order', () => {
  function check(count: number, seed: number, gaps: boolean) {
    const random = rng(seed)
    // Given `count` tracked offsets (with random gaps if asked)
    const offsets: bigint[] = []
    let next = 100n
    for (let i = 0; i < count; i++) {
      offsets.push(next)
      next += gaps ? BigInt(1 + Math.floor(random() * 3)) : 1n
    }
    const t = new OffsetTracker()
    for (const o of offsets) expect(t.track(pos(o))).toBe(true)
    // When they settle in a random order
    const open = new Set(offsets)
    let smallestOpenIndex = 0
    let previous = -1n
    for (const o of shuffle(offsets, random)) {
      t.settle(pos(o))
      open.delete(o)
      while (smallestOpenIndex < offsets.length && !open.has(offsets[smallestOpenIndex] as bigint)) {
        smallestOpenIndex++
      }
      const c = committableOf(t)
      const smallestOpen = offsets[smallestOpenIndex]
      // Then after every settle the committable offset never passes the smallest unsettled offset
      if (c !== undefined) {
        const value = BigInt(c)
        if (smallestOpen !== undefined) expect(value <= smallestOpen).toBe(true)
        // and it never goes backwards
        expect(value >= previous).toBe(true)
        previous = value
        // and it is exactly one past the last offset of the settled prefix
        if (smallestOpenIndex > 0) expect(value).toBe((offsets[smallestOpenIndex - 1] as bigint) + 1n)
      } else {
        expect(smallestOpenIndex).toBe(0)
      }
      expect(t.inFlight).toBe(open.size)
    }
    // and at the end it is the last offset + 1
    expect(committableOf(t)).toBe(String((offsets.at(-1) as bigint) + 1n))
    expect(t.inFlight).toBe(0)
  }

  it('1000 contiguous offsets settled in a random permutation', () => {
    for (const seed of [1, 2, 3]) check(1000, seed, false)
  })

  it('1000 offsets with gaps settled in a random permutation', () => {
    check(1000, 42, true)
  })

  it('5000 offsets, enough to compact the internal array, settled in a random permutation', () => {
    check(5000, 7, true)
  })

  it('5000 offsets settled in order (compaction path) then more tracked', () => {
    const t = new OffsetTracker()
    for (let i = 0; i < 5000; i++) t.track(pos(i))
    for (let i = 0; i < 4000; i++) t.settle(pos(i))
    expect(committableOf(t)).toBe('4000')
    expect(t.inFlight).toBe(1000)
    for (let i = 5000; i < 5010; i++) t.track(pos(i))
    for (let i = 5009; i >= 4000; i--) t.settle(pos(i))
    expect(committableOf(t)).toBe('5010')
    expect(t.inFlight).toBe(0)
    // below the compacted head: ignored
    expect(t.settle(pos(10))).toBe(false)
  })
})

describe('property: any settle order', () => {
  it('never offers an offset past an unsettled record, and ends one past the last offset', () => {
    // Given ascending offsets with gaps (compaction, transaction markers), settled in any order, with
    // commits marked between some of the settles
    const scenario = fc
      .uniqueArray(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 60 })
      .map((raw) => [...raw].sort((a, b) => a - b))
      .chain((offsets) =>
        fc.tuple(
          fc.constant(offsets),
          fc.shuffledSubarray(offsets, { minLength: offsets.length }),
          fc.array(fc.boolean(), { minLength: offsets.length, maxLength: offsets.length }),
        ),
      )
    fc.assert(
      fc.property(scenario, ([offsets, order, commitAfter]) => {
        const t = new OffsetTracker()
        trackAll(t, offsets)
        const settled = new Set<number>()
        let highest = -1
        order.forEach((o, i) => {
          t.settle(pos(o))
          settled.add(o)
          const offered = t.committable()
          for (const c of offered) {
            // Then every tracked offset below an offered one is settled, and offers never move back
            for (const below of offsets.filter((x) => x < Number(c.offset)))
              expect(settled.has(below)).toBe(true)
            expect(Number(c.offset)).toBeGreaterThanOrEqual(highest)
            highest = Number(c.offset)
          }
          if (commitAfter[i]) t.markCommitted(offered)
        })
        // And once all settled, the last offer is one past the last offset, and nothing is in flight
        expect(highest).toBe((offsets.at(-1) as number) + 1)
        expect(t.inFlight).toBe(0)
      }),
      { numRuns: 300 },
    )
  })
})

describe('compareOffsets', () => {
  it('orders canonical decimal offsets as their int64 values, without parsing', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        (a, b) => {
          const sign = Math.sign(compareOffsets(String(a), String(b)))
          expect(sign).toBe(a < b ? -1 : a > b ? 1 : 0)
        },
      ),
      { numRuns: 5000 },
    )
    expect(compareOffsets('9', '10')).toBeLessThan(0)
    expect(compareOffsets('100', '99')).toBeGreaterThan(0)
  })
})

describe('passOver: offsets without a record (transaction markers)', () => {
  it('commits the log end of a drained partition whose last offset is a commit marker', () => {
    // Given records 0..2 of a transaction, all settled: one past the last record is committable
    const t = new OffsetTracker()
    trackAll(t, [0, 1, 2])
    for (const o of [0, 1, 2]) t.settle(pos(o))
    expect(committableOf(t)).toBe('3')
    // When the consumer passes over the commit marker at offset 3
    expect(t.passOver(pos(3))).toBe(true)
    // Then the log end, 4, is committable
    expect(committableOf(t)).toBe('4')
    expect(t.inFlight).toBe(0)
  })

  it('passes over a marker behind records still in flight only once they are settled', () => {
    // Given records 0 and 1 in flight, then a marker at 2 and an aborted range 3..5
    const t = new OffsetTracker()
    trackAll(t, [0, 1])
    expect(t.passOver(pos(2))).toBe(false)
    expect(t.passOver(pos(5))).toBe(false)
    expect(t.committable()).toEqual([])
    // When 1 settles, 0 still holds the commit
    t.settle(pos(1))
    expect(t.committable()).toEqual([])
    // When 0 settles, the commit moves past the marker and the aborted range
    t.settle(pos(0))
    expect(committableOf(t)).toBe('6')
    // And a record after the range is tracked as usual
    expect(t.track(pos(6))).toBe(true)
    t.settle(pos(6))
    expect(committableOf(t)).toBe('7')
  })

  it('ignores offsets at or below the last tracked one, and counts them as redeliveries after', () => {
    const t = new OffsetTracker()
    trackAll(t, [10, 11])
    expect(t.passOver(pos(11))).toBe(false)
    expect(t.passOver(pos(13))).toBe(false)
    expect(t.isRedelivery(pos(12))).toBe(true)
    expect(t.track(pos(14))).toBe(true)
  })

  it('commits past markers of a partition with nothing tracked yet (a restart over a stuck group)', () => {
    // Given a group committed at the marker's offset 7 (one short of the log end, kedacore/keda#5675)
    const t = new OffsetTracker()
    // When the consumer's first fetch holds the marker alone
    expect(t.passOver(pos(7))).toBe(true)
    // Then 8, the log end, is committable
    expect(committableOf(t)).toBe('8')
  })
})

describe('oldestPendingAt', () => {
  it('is the consumption time of the oldest record still in flight, over all partitions, to the second', () => {
    // Given records consumed at t=0 s (0, 1), 1.5 s (2, 3) and 3 s (4) on partition 0, and 2 s on partition 1
    const t = new OffsetTracker()
    t.track(pos(0), 0, 0)
    t.track(pos(1), 0, 400)
    t.track(pos(2), 0, 1500)
    t.track(pos(3), 0, 1900)
    t.track(pos(4), 0, 3000)
    t.track(pos(0, 1), 0, 2000)
    // Then the oldest in flight was consumed at 0
    expect(t.oldestPendingAt()).toBe(0)
    // When 0 and 1 settle, the oldest is 2 (consumed at 1.5 s)
    t.settle(pos(0))
    t.settle(pos(1))
    expect(t.oldestPendingAt()).toBe(1500)
    // When 3 settles out of order, 2 still is
    t.settle(pos(3))
    expect(t.oldestPendingAt()).toBe(1500)
    // When 2 settles, 4 (3 s) is behind partition 1's record (2 s)
    t.settle(pos(2))
    expect(t.oldestPendingAt()).toBe(2000)
    // When everything settles, none is in flight
    t.settle(pos(4))
    t.settle(pos(0, 1))
    expect(t.oldestPendingAt()).toBeNull()
  })

  it('attributes a record to the start of its second: never younger than it is', () => {
    const t = new OffsetTracker()
    t.track(pos(0), 0, 10_000)
    t.track(pos(1), 0, 10_900)
    t.settle(pos(0))
    // Offset 1 shares the mark of offset 0 (less than a second apart)
    expect(t.oldestPendingAt()).toBe(10_000)
  })

  it('keeps its marks bounded by the records in flight when oldestPendingAt is never called', () => {
    // Given a partition consuming one record a second for an hour, each settled before the next comes
    const t = new OffsetTracker()
    for (let i = 0; i < 3600; i++) {
      t.track(pos(i), 0, i * 1000)
      t.settle(pos(i))
      // Then no more than the mark of the last record is held
      expect(t.marksHeld).toBe(1)
    }
    // And with ten records in flight, consumed a second apart, their ten marks and that one are held
    for (let i = 3600; i < 3610; i++) t.track(pos(i), 0, i * 1000)
    expect(t.marksHeld).toBe(11)
    // And when the first five settle, without a scrape, the marks of the five left are held
    for (let i = 3600; i < 3605; i++) t.settle(pos(i))
    expect(t.marksHeld).toBe(5)
    // And the oldest in flight is still dated by its own mark
    expect(t.oldestPendingAt()).toBe(3_605_000)
  })

  it('dates the oldest record in flight the same whether or not it was asked in between', () => {
    // Given two trackers fed the same records, settled out of order, one asked after every step
    const random = rng(7)
    const asked = new OffsetTracker()
    const unasked = new OffsetTracker()
    const offsets = Array.from({ length: 400 }, (_, i) => i)
    for (const o of offsets) {
      const at = o * 300
      asked.track(pos(o), 0, at)
      unasked.track(pos(o), 0, at)
      asked.oldestPendingAt()
    }
    for (const o of shuffle(offsets, random)) {
      asked.settle(pos(o))
      unasked.settle(pos(o))
      // Then both say the same
      expect(unasked.oldestPendingAt()).toBe(asked.oldestPendingAt())
    }
  })
})
