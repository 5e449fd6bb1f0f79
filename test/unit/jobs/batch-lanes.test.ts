// BatchLanes: the submit queue's order. Partitions take turns (one batch each per round), the oldest
// record first within a partition and within a round, batches put back go first.

import { describe, expect, it } from 'vitest'
import { BatchLanes, type LaneEntry } from '../../../src/jobs/batch-lanes.ts'
import { testBatch } from '../../support/fake-import-client.ts'
import { pendingFile } from '../../support/pending-file.ts'

/** A waiting batch named `id` of one file on `partition`, whose record was produced at `oldest`. */
function entry(id: string, partition: number, oldest = 1000, topic = 'in'): LaneEntry {
  return {
    batch: testBatch(id, [`${id}-file`], 'linger', (e) => pendingFile(e, { partition, topic })),
    oldest,
  }
}

const ids = (entries: LaneEntry[]) => entries.map((e) => e.batch.id)

/** Takes every batch, in the order the lanes give them. */
function drain(lanes: BatchLanes<LaneEntry>): string[] {
  const out: string[] = []
  for (let e = lanes.take(); e !== undefined; e = lanes.take()) out.push(e.batch.id)
  return out
}

describe('BatchLanes', () => {
  it('gives a backlog produced at once one partition per turn, not one partition after another (the storm case)', () => {
    // Given the backlogs of three partitions, pushed partition after partition, all records as old
    const lanes = new BatchLanes<LaneEntry>()
    for (const p of [5, 1, 3]) for (let n = 0; n < 3; n++) lanes.push(entry(`p${p}-${n}`, p))

    // Then each round takes one batch of each partition, in each partition's order
    const shown = ids(lanes.ordered())
    expect(shown).toEqual(['p5-0', 'p1-0', 'p3-0', 'p5-1', 'p1-1', 'p3-1', 'p5-2', 'p1-2', 'p3-2'])
    expect(drain(lanes)).toEqual(shown)
  })

  it('takes batches in the order ordered() shows, and empties', () => {
    const lanes = new BatchLanes<LaneEntry>()
    for (const p of [0, 1]) for (let n = 0; n < 2; n++) lanes.push(entry(`p${p}-${n}`, p, 1000 + n))
    lanes.putBack(entry('retry', 1))
    lanes.putBackBehind(entry('withdrawn', 0))
    lanes.putBack(entry('hold', 1))
    const shown = ids(lanes.ordered())

    expect(lanes.size).toBe(7)
    expect(lanes.files).toBe(7)
    expect(drain(lanes)).toEqual(shown)
    expect(shown).toEqual(['hold', 'retry', 'withdrawn', 'p0-0', 'p1-0', 'p0-1', 'p1-1'])
    expect(lanes.size).toBe(0)
    expect(lanes.peek()).toBeUndefined()
  })

  it('serves the lane whose head record is oldest first within a round, and the oldest record first within a lane', () => {
    const lanes = new BatchLanes<LaneEntry>()
    lanes.push(entry('a-new', 0, 300))
    lanes.push(entry('a-old', 0, 100))
    lanes.push(entry('a-same', 0, 300))
    lanes.push(entry('b', 1, 200))
    lanes.push(entry('c-none', 2, 0))

    // c's batch has no timestamp (counts as oldest), then a's oldest (100), then b's (200); then a's
    // next two, ties in the order they came
    expect(drain(lanes)).toEqual(['c-none', 'a-old', 'b', 'a-new', 'a-same'])
  })

  it('lets a partition that gains batches (assigned by a rebalance) join the current round, not go before or after all', () => {
    // Given two partitions with backlogs, two rounds already served
    const lanes = new BatchLanes<LaneEntry>()
    for (const p of [0, 1]) for (let n = 0; n < 5; n++) lanes.push(entry(`p${p}-${n}`, p, 1000))
    expect([lanes.take(), lanes.take(), lanes.take(), lanes.take()].map((e) => e?.batch.id)).toEqual([
      'p0-0',
      'p1-0',
      'p0-1',
      'p1-1',
    ])

    // When a partition assigned now brings its backlog, whose records are older
    for (let n = 0; n < 3; n++) lanes.push(entry(`p7-${n}`, 7, 10))

    // Then it takes the turn of the round now (the others had theirs), then one per round with the
    // others, first in each as its records are the oldest
    expect(drain(lanes)).toEqual(['p7-0', 'p7-1', 'p0-2', 'p1-2', 'p7-2', 'p0-3', 'p1-3', 'p0-4', 'p1-4'])
  })

  it('does not let a partition that had nothing waiting take several turns in a row when it comes back', () => {
    // Given partition 0 served alone for many rounds while partition 1 had nothing
    const lanes = new BatchLanes<LaneEntry>()
    for (let n = 0; n < 6; n++) lanes.push(entry(`p0-${n}`, 0))
    for (let n = 0; n < 4; n++) lanes.take()

    // When partition 1 gets three batches
    for (let n = 0; n < 3; n++) lanes.push(entry(`p1-${n}`, 1))

    // Then partition 1 takes the turn of the round now, and the two alternate (partition 1 does not take
    // the rounds it missed)
    expect(drain(lanes)).toEqual(['p1-0', 'p0-4', 'p1-1', 'p0-5', 'p1-2'])
  })

  it('lets a batch of two partitions go at the first of their turns (it starts the second partition)', () => {
    // Given partition 2's backlog, and a batch that ends partition 2's records and starts partition 4's
    const lanes = new BatchLanes<LaneEntry>()
    for (let n = 0; n < 3; n++) lanes.push(entry(`p2-${n}`, 2))
    const files = [
      ...['p2-tail-a', 'p2-tail-b'].map((e) => pendingFile(e, { partition: 2 })),
      ...['p4-head-a', 'p4-head-b'].map((e) => pendingFile(e, { partition: 4 })),
    ]
    const mixed = { batch: { ...testBatch('mixed', []), files }, oldest: 1000 }
    lanes.push(mixed)
    lanes.push(entry('p4-next', 4))

    // Then it goes at partition 4's first turn, not behind partition 2's backlog, and once
    expect(ids(lanes.ordered())).toEqual(['p2-0', 'mixed', 'p2-1', 'p4-next', 'p2-2'])
    expect(drain(lanes)).toEqual(['p2-0', 'mixed', 'p2-1', 'p4-next', 'p2-2'])
    expect(lanes.size).toBe(0)
  })

  it('keeps partitions of different topics apart', () => {
    const lanes = new BatchLanes<LaneEntry>()
    for (let n = 0; n < 2; n++) lanes.push(entry(`a-${n}`, 0, 1000, 'a'))
    for (let n = 0; n < 2; n++) lanes.push(entry(`b-${n}`, 0, 1000, 'b'))

    expect(drain(lanes)).toEqual(['a-0', 'b-0', 'a-1', 'b-1'])
  })

  it('filters every entry, put-back ones first, and forgets a lane that empties', () => {
    // Given batches of partitions 0 and 1 and one put back
    const lanes = new BatchLanes<LaneEntry>()
    for (const p of [0, 1]) for (let n = 0; n < 2; n++) lanes.push(entry(`p${p}-${n}`, p))
    lanes.putBack(entry('retry', 1))

    // When the entries of partition 1 are removed
    const removed = lanes.filter((e) => (e.batch.files[0]?.position.partition === 1 ? null : e))

    // Then they come back in order, and partition 0's batches alone are left
    expect(ids(removed)).toEqual(['retry', 'p1-0', 'p1-1'])
    expect(lanes.size).toBe(2)
    expect([...lanes].map((e) => e.batch.id).sort()).toEqual(['p0-0', 'p0-1'])

    // And a later batch of partition 1 joins the current round as a new lane
    lanes.push(entry('p1-2', 1))
    expect(drain(lanes)).toEqual(['p0-0', 'p1-2', 'p0-1'])
  })
})
