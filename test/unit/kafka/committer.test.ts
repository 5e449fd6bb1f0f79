// The commit loop: what the consumer actually committed is what the tracker marks committed.
import { describe, expect, it } from 'vitest'
import { createCommitter } from '../../../src/kafka/committer.ts'
import { OffsetTracker } from '../../../src/kafka/offset-tracker.ts'
import { createMetrics } from '../../../src/metrics.ts'
import type { CommittableOffset } from '../../../src/model/records.ts'
import { silentLogger } from '../../support/log-lines.ts'

/** A tracker with records 0..2 of partitions 0 and 1 of `in`, all settled. */
function settledTracker(): OffsetTracker {
  const t = new OffsetTracker()
  for (const partition of [0, 1])
    for (const offset of ['0', '1', '2']) {
      t.track({ topic: 'in', partition, offset })
      t.settle({ topic: 'in', partition, offset })
    }
  return t
}

describe('createCommitter', () => {
  it('offers again an offset the consumer left out (its partition mid-rebalance), and commits it next time', async () => {
    // Given settled offsets on partitions 0 and 1, and a consumer that owns only partition 0 for now
    const offsets = settledTracker()
    let owned = new Set([0])
    const sent: CommittableOffset[][] = []
    const consumer = {
      async commit(ready: CommittableOffset[]) {
        const mine = ready.filter((o) => owned.has(o.partition))
        if (mine.length > 0) sent.push(mine)
        return mine
      },
    }
    const committer = createCommitter(
      { intervalMs: 60_000 },
      { offsets, consumer, metrics: createMetrics(), logger: silentLogger },
    )
    // When it commits
    await committer.commit()
    // Then partition 0 is committed and partition 1 is still offered
    expect(sent).toEqual([[{ topic: 'in', partition: 0, offset: '3' }]])
    expect(offsets.committable()).toEqual([{ topic: 'in', partition: 1, offset: '3' }])
    // When the join gives partition 1 back (kept) and the next interval commits
    owned = new Set([0, 1])
    await committer.commit()
    // Then partition 1's offset reaches the coordinator, and nothing is left to offer
    expect(sent.at(-1)).toEqual([{ topic: 'in', partition: 1, offset: '3' }])
    expect(committer.lastCommitted.map((o) => `${o.partition}@${o.offset}`)).toEqual(['0@3', '1@3'])
    expect(offsets.committable()).toEqual([])
  })

  it('commitNow sends at once, not behind a commit in flight (the start of a rebalance), and later commits wait for it', async () => {
    // Given a commit in flight that the coordinator has not answered yet
    const offsets = new OffsetTracker()
    const at = (offset: string) => ({ topic: 'in', partition: 0, offset })
    offsets.track(at('0'))
    offsets.settle(at('0'))
    const sent: string[] = []
    const answers: Array<() => void> = []
    const consumer = {
      commit: (ready: CommittableOffset[]) => {
        sent.push(ready.map((o) => o.offset).join(','))
        return new Promise<CommittableOffset[]>((resolve) => answers.push(() => resolve(ready)))
      },
    }
    const committer = createCommitter(
      { intervalMs: 60_000 },
      { offsets, consumer, metrics: createMetrics(), logger: silentLogger },
    )
    const first = committer.commit()
    await Promise.resolve()
    expect(sent).toEqual(['1'])

    // When more settles and a rebalance starts
    offsets.track(at('1'))
    offsets.settle(at('1'))
    const now = committer.commitNow()

    // Then its commit went out at once, in the same turn, beside the one in flight
    expect(sent).toEqual(['1', '2'])
    // And a commit asked after it waits for both
    offsets.track(at('2'))
    offsets.settle(at('2'))
    const next = committer.commit()
    await Promise.resolve()
    expect(sent).toEqual(['1', '2'])
    for (const answer of answers.splice(0)) answer()
    await Promise.all([first, now])
    await new Promise((r) => setImmediate(r))
    expect(sent).toEqual(['1', '2', '3'])
    for (const answer of answers.splice(0)) answer()
    await next
    expect(committer.lastCommitted).toEqual([at('3')])
  })

  it('tells what it committed (the job log takes the files below it out), and nothing when nothing moved', async () => {
    const told: CommittableOffset[][] = []
    const committer = createCommitter(
      { intervalMs: 60_000 },
      {
        offsets: settledTracker(),
        consumer: { commit: async (ready: CommittableOffset[]) => ready },
        onCommitted: (done) => told.push(done),
        metrics: createMetrics(),
        logger: silentLogger,
      },
    )
    await committer.commit()
    await committer.commit()
    expect(told).toEqual([
      [
        { topic: 'in', partition: 0, offset: '3' },
        { topic: 'in', partition: 1, offset: '3' },
      ],
    ])
  })
})
