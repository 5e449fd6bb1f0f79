// RegainedFiles: files of jobs this replica still follows, consumed again on a partition assigned back.

import { describe, expect, it } from 'vitest'
import { createMetrics } from '../../../src/metrics.ts'
import type { PendingFile } from '../../../src/model/files.ts'
import { RegainedFiles } from '../../../src/pipeline/regained-files.ts'
import { metricValue } from '../../support/e2e-world.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { fileAt, partitions, pos } from '../../support/pending-file.ts'

function setup() {
  const metrics = createMetrics()
  return { regained: new RegainedFiles({ metrics, logger: silentLogger }), metrics }
}

describe('RegainedFiles', () => {
  const followed = [
    { jobId: 'j1', file: fileAt('a', 0, 10) },
    { jobId: 'j1', file: fileAt('b', 0, 11) },
    { jobId: 'j2', file: fileAt('c', 1, 5) },
  ]

  it('takes back the followed files of a partition assigned anew, and only those', async () => {
    // Given a replica that follows jobs with files on partitions 0 and 1, and gets partition 0 back
    const { regained, metrics } = setup()
    expect(regained.onAssignment(followed, partitions(0, 1), partitions(0))).toBe(2)

    // When the partition's records come again
    // Then the followed files are taken, other records go the normal way
    expect(regained.take(pos(0, 10))).toBe('taken')
    expect(regained.take(pos(0, 11))).toBe('taken')
    expect(regained.take(pos(0, 12))).toBe('new')
    expect(regained.take(pos(1, 5))).toBe('new')
    // And a record is taken once
    expect(regained.take(pos(0, 10))).toBe('new')
    expect(metricValue(await metrics.registry.metrics(), 'bridge_files_regained_total')).toBe(2)
  })

  it('settles at once a file whose job published its results before the file came again', () => {
    // Given partition 0 assigned back while its job runs
    const { regained } = setup()
    regained.onAssignment(followed, partitions(0), partitions(0))

    // When the job's results are acknowledged before the first file comes again
    regained.published([followed[0]?.file as PendingFile])

    // Then that file is settled when it comes, the other is taken
    expect(regained.take(pos(0, 10))).toBe('published')
    expect(regained.take(pos(0, 11))).toBe('taken')
  })

  it('forgets the files of a partition revoked again, and files below a later consumed offset', () => {
    // Given partition 0 assigned back
    const { regained } = setup()
    regained.onAssignment(followed, partitions(0), partitions(0))
    expect(regained.size).toBe(2)

    // When a later offset comes first (the files lay below the committed offset)
    expect(regained.take(pos(0, 20))).toBe('new')

    // Then nothing is expected any more
    expect(regained.size).toBe(0)

    // And after the partition is assigned back again and then revoked, nothing is expected either
    regained.onAssignment(followed, partitions(0), partitions(0))
    regained.onAssignment(followed, partitions(1), () => false)
    expect(regained.size).toBe(0)
    expect(regained.take(pos(0, 10))).toBe('new')
  })

  it('settles, when its partition comes back, a record whose result it published after the partition was revoked', () => {
    // Given a replica that owned partition 0, whose records 3 and 4 were settled but not committed when it
    // was revoked, and which published the result of record 7 after that
    const { regained } = setup()
    regained.onAssignment([], partitions(0), partitions(0))
    regained.onAssignment([], partitions(1), () => false)
    regained.revoked([{ topic: 'in', partition: 0, offsets: ['3', '4'] }])
    regained.published([fileAt('x', 0, 7)])
    expect(regained.take(pos(0, 3))).toBe('new')

    // When partition 0 is assigned back and its records come again from the committed offset 4
    regained.onAssignment([], partitions(0, 1), partitions(0))

    // Then 4 and 7 are settled at once, the others imported
    expect(regained.take(pos(0, 4))).toBe('published')
    expect(regained.take(pos(0, 5))).toBe('new')
    expect(regained.take(pos(0, 7))).toBe('published')
    expect(regained.size).toBe(0)
  })

  it('settles the records the job log marks published on a newly owned partition, also files of a followed job, and none of other partitions', async () => {
    // Given partition 0 newly assigned while this replica follows j1 (files 0:10 and 0:11)
    const { regained, metrics } = setup()
    regained.onAssignment(followed, partitions(0), partitions(0))

    // When the job log says 0:10, 0:13 and 1:5 were published (1 is not owned)
    expect(regained.expectPublished([pos(0, 10), pos(0, 13), pos(1, 5)])).toBe(1)

    // Then 0:10 and 0:13 are settled when they come, 0:11 is taken, the rest goes the normal way
    expect(regained.take(pos(0, 10))).toBe('published')
    expect(regained.take(pos(0, 11))).toBe('taken')
    expect(regained.take(pos(0, 12))).toBe('new')
    expect(regained.take(pos(0, 13))).toBe('published')
    expect(regained.take(pos(1, 5))).toBe('new')
    expect(metricValue(await metrics.registry.metrics(), 'bridge_files_regained_total')).toBe(3)
  })
})

describe('RegainedFiles: offsets below a consumed one', () => {
  it('forgets expected offsets passed over by a gap in the log, not only on the first take', () => {
    // Given partition 0 assigned back with files expected at 5, 6 and 8
    const { regained } = setup()
    const jobFiles = [5, 6, 8].map((o) => ({ jobId: 'j1', file: fileAt(`f${o}`, 0, o) }))
    regained.onAssignment(jobFiles, partitions(0), partitions(0))

    // When 5 comes, then 8 (6 is gone from the log: compaction, or an offset without a record)
    expect(regained.take(pos(0, 5))).toBe('taken')
    expect(regained.size).toBe(2)
    expect(regained.take(pos(0, 8))).toBe('taken')

    // Then 6 is forgotten too
    expect(regained.size).toBe(0)
  })

  it('sweeps offsets expected after a take, below the next consumed one', () => {
    // Given files expected at 10, 20 and 30 of partition 0, and record 10 already taken
    const { regained } = setup()
    const jobFiles = [10, 20, 30].map((o) => ({ jobId: 'j1', file: fileAt(`f${o}`, 0, o) }))
    regained.onAssignment(jobFiles, partitions(0), partitions(0))
    expect(regained.take(pos(0, 10))).toBe('taken')

    // When the job log then marks 15 and 25 published
    expect(regained.expectPublished([pos(0, 15), pos(0, 25)])).toBe(2)

    // Then a later record forgets 15, which lay below it, and keeps the others
    expect(regained.take(pos(0, 20))).toBe('taken')
    expect(regained.size).toBe(2)
    expect(regained.take(pos(0, 26))).toBe('new')
    expect(regained.size).toBe(1)
    expect(regained.take(pos(0, 30))).toBe('taken')
    expect(regained.size).toBe(0)
  })

  it('orders offsets by value, not as text', () => {
    // Given files expected at 9 and 100 of partition 0
    const { regained } = setup()
    const jobFiles = [9, 100].map((o) => ({ jobId: 'j1', file: fileAt(`f${o}`, 0, o) }))
    regained.onAssignment(jobFiles, partitions(0), partitions(0))

    // When 10 comes first, then 100: 9 lay below the committed offset, 100 did not
    expect(regained.take(pos(0, 10))).toBe('new')
    expect(regained.size).toBe(1)
    expect(regained.take(pos(0, 100))).toBe('taken')
  })
})
