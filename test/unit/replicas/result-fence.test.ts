// ResultFence: with the job log on, a concluded job's results are published by the owner of each file's
// partition, decided after a rebalance ends.

import { describe, expect, it, vi } from 'vitest'
import { createMetrics } from '../../../src/metrics.ts'
import type { PendingFile } from '../../../src/model/files.ts'
import type { ConcludedJob } from '../../../src/model/outcomes.ts'
import type { RecordPosition } from '../../../src/model/records.ts'
import { ResultFence } from '../../../src/replicas/result-fence.ts'
import { metricValue } from '../../support/e2e-world.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { fileAt } from '../../support/pending-file.ts'

function job(jobId: string | null, files: PendingFile[]): ConcludedJob {
  return {
    jobId,
    batch: { id: `batch-${jobId}`, systemName: 'archive', kind: 'file', files, bytes: 0, closedBy: 'linger' },
    outcomes: files.map((f) => ({
      file: f,
      outcome: {
        externalId: f.event.externalId,
        systemName: 'archive',
        state: 'imported' as const,
        mediaId: `m-${f.event.externalId}`,
        reason: undefined,
      },
    })),
  }
}

function setup(options: { owned: number[]; elsewhere?: string[] }) {
  const metrics = createMetrics()
  const ownership = {
    rebalancing: false,
    owned: options.owned,
    owns(p: RecordPosition) {
      return this.owned.includes(p.partition)
    },
  }
  const published: ConcludedJob[] = []
  const settled: Array<{ positions: RecordPosition[]; files: string[] }> = []
  const released: string[] = []
  const finished: Array<{ jobId: string; published: string[]; elsewhere: string[] }> = []
  const offsets = (ps: RecordPosition[]) => ps.map((p) => `${p.partition}:${p.offset}`)
  const fence = new ResultFence({
    ownership,
    publishedElsewhere: (_jobId, p) => (options.elsewhere ?? []).includes(`${p.partition}:${p.offset}`),
    publish: vi.fn(async (j: ConcludedJob) => {
      published.push(j)
      return true
    }),
    settle: (positions, files) => settled.push({ positions, files: files.map((f) => f.event.externalId) }),
    release: (files) => released.push(...files.map((f) => f.event.externalId)),
    finished: (jobId, _job, p, e) => finished.push({ jobId, published: offsets(p), elsewhere: offsets(e) }),
    metrics,
    logger: silentLogger,
  })
  return { fence, ownership, published, settled, released, finished, metrics }
}

const ids = (j: ConcludedJob | undefined) => j?.outcomes.map((o) => o.file.event.externalId)
const flush = () => new Promise((r) => setImmediate(r))

describe('ResultFence', () => {
  it('publishes the files of owned partitions, leaves the others to their new owner and keeps them in the job log', async () => {
    // Given a replica that owns partition 0 but no longer partition 1
    const { fence, published, settled, released, finished, metrics } = setup({ owned: [0] })

    // When a job with files on both concludes
    fence.conclude(job('j1', [fileAt('a', 0, 1), fileAt('b', 1, 7), fileAt('c', 0, 2)]))
    await flush()

    // Then only the files of partition 0 are published
    expect(published.map(ids)).toEqual([['a', 'c']])
    // And the left file releases its key, and is not settled as published
    expect(released).toEqual(['b'])
    expect(settled).toEqual([])
    // And the job log is told what was published: it keeps the left file (no tombstone)
    expect(finished).toEqual([{ jobId: 'j1', published: ['0:1', '0:2'], elsewhere: [] }])
    const text = await metrics.registry.metrics()
    expect(metricValue(text, 'bridge_results_fenced_total{outcome="left_to_owner"}')).toBe(1)
  })

  it('publishes nothing for a job whose partitions were all revoked', async () => {
    const { fence, published, finished } = setup({ owned: [] })
    fence.conclude(job('j1', [fileAt('a', 1, 1)]))
    await flush()
    expect(published).toEqual([])
    expect(finished).toEqual([])
  })

  it('settles without a second result the files another replica published per the job log', async () => {
    // Given a replica that owns partition 0, where the job log says file a's result was published
    const { fence, published, settled, finished, metrics } = setup({ owned: [0], elsewhere: ['0:1'] })

    // When the job concludes here too
    fence.conclude(job('j1', [fileAt('a', 0, 1), fileAt('b', 0, 2)]))
    await flush()

    // Then a is settled (its offset may be committed) and only b is published
    expect(published.map(ids)).toEqual([['b']])
    expect(settled).toEqual([{ positions: [{ topic: 'in', partition: 0, offset: '1' }], files: ['a'] }])
    expect(finished).toEqual([{ jobId: 'j1', published: ['0:2'], elsewhere: ['0:1'] }])
    const text = await metrics.registry.metrics()
    expect(metricValue(text, 'bridge_results_fenced_total{outcome="published_elsewhere"}')).toBe(1)
  })

  it('decides a job that concluded during a rebalance by the assignment of the next join', async () => {
    // Given a replica in the middle of a rebalance, owning partitions 0 and 1 before it
    const { fence, ownership, published } = setup({ owned: [0, 1] })
    ownership.rebalancing = true

    // When a job concludes then
    fence.conclude(job('j1', [fileAt('a', 0, 1), fileAt('b', 1, 1)]))
    await flush()

    // Then nothing is published until the join
    expect(published).toEqual([])
    expect(fence.waiting).toBe(1)

    // When the join assigns partition 1 alone
    ownership.rebalancing = false
    ownership.owned = [1]
    fence.joined()
    await flush()

    // Then the file of partition 1 is published
    expect(published.map(ids)).toEqual([['b']])
    expect(fence.waiting).toBe(0)
  })

  it('does not tell the job log about a publish that was not acknowledged, nor about a file without a job', async () => {
    // Given a publisher closed before the acknowledgement (it resolves false)
    const finished: string[] = []
    const published: ConcludedJob[] = []
    const fence = new ResultFence({
      ownership: { rebalancing: false, owns: () => true },
      publishedElsewhere: () => false,
      publish: async (j) => {
        published.push(j)
        return j.jobId !== 'j1'
      },
      settle: () => undefined,
      release: () => undefined,
      finished: (jobId) => finished.push(jobId),
      metrics: createMetrics(),
      logger: silentLogger,
    })

    // When a job and a file never sent conclude
    fence.conclude(job('j1', [fileAt('a', 0, 1)]))
    fence.conclude(job(null, [fileAt('x', 0, 3)]))
    await flush()

    // Then both are published, and the job log hears of neither
    expect(published.map(ids)).toEqual([['a'], ['x']])
    expect(finished).toEqual([])
  })
})
