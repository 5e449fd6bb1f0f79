// JobLog: recording import jobs, reading the compacted log, and adopting running jobs after a rebalance.

import { afterEach, describe, expect, it, vi } from 'vitest'
import type { OutgoingMessage } from '../../../src/kafka/producer.ts'
import { createMetrics } from '../../../src/metrics.ts'
import type { Batch, PendingFile } from '../../../src/model/files.ts'
import type { ConsumedRecord, RecordPosition } from '../../../src/model/records.ts'
import { ADOPTION_TIMEOUT_MS } from '../../../src/replicas/adoptions.ts'
import { JobLog, type JobLogEntry } from '../../../src/replicas/job-log.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { batchOfFiles, fileAt, partitions, pos } from '../../support/pending-file.ts'

const logger = silentLogger

afterEach(() => {
  vi.useRealTimers()
})

function setup(
  options: {
    tracked?: string[]
    adoptAnswer?: boolean
    timeoutMs?: number
    publishedMaxAgeMs?: number
    expectPublished?: (positions: RecordPosition[]) => number
  } = {},
) {
  const metrics = createMetrics()
  const writes: Array<{ key: string; value: JobLogEntry | null }> = []
  const send = vi.fn(async (_topic: string, messages: OutgoingMessage[]) => {
    for (const m of messages)
      writes.push({
        key: String(m.key),
        value: m.value === null ? null : (JSON.parse(String(m.value)) as JobLogEntry),
      })
  })
  const adopted: Array<{ jobId: string; batch: Batch }> = []
  const tracker = {
    adopt: vi.fn((jobId: string, batch: Batch) => {
      adopted.push({ jobId, batch })
      return options.adoptAnswer ?? true
    }),
    tracks: vi.fn((jobId: string) => (options.tracked ?? []).includes(jobId)),
  }
  const released: PendingFile[] = []
  const log = new JobLog(
    { topic: 'job-log', adoptionTimeoutMs: options.timeoutMs, publishedMaxAgeMs: options.publishedMaxAgeMs },
    {
      send,
      tracker,
      release: (f) => released.push(f),
      expectPublished: options.expectPublished,
      metrics,
      logger,
    },
  )
  return { log, writes, send, tracker, adopted, released, metrics }
}

function entryRecord(entry: JobLogEntry | null, jobId = entry?.jobId ?? ''): ConsumedRecord {
  return {
    topic: 'job-log',
    partition: 0,
    offset: '0',
    key: Buffer.from(jobId),
    value: entry === null ? null : Buffer.from(JSON.stringify(entry)),
    headers: [],
    timestamp: 0,
  }
}

function entry(jobId: string, files: Array<[string, number, number]>): JobLogEntry {
  return {
    jobId,
    batchId: `batch-${jobId}`,
    systemName: 'archive',
    kind: 'file',
    submittedAt: 1,
    files: files.map(([externalId, partition, offset]) => ({
      topic: 'in',
      partition,
      offset: String(offset),
      externalId,
    })),
  }
}

const none = () => false

/** Reads a job-log entry of running job `jobId` with `files`, then has partition 0 newly assigned. */
function logJobAndAssignPartition0(log: JobLog, jobId: string, files: Array<[string, number, number]>): void {
  log.onRecord(entryRecord(entry(jobId, files)))
  log.onAssignment(partitions(0), partitions(0))
}

/** Consumes `f` as the pipeline does: observe, then the key sequencer releases it. */
function consume(log: JobLog, f: PendingFile): boolean {
  log.observe(f.position)
  return log.claim(f)
}

describe('JobLog writing', () => {
  it('records a started job keyed by job id with each file position and externalId, marks its files published, and tombstones it once commits pass them', async () => {
    // Given a job log
    const { log, writes } = setup()
    const b: Batch = {
      id: 'b1',
      systemName: 'archive',
      kind: 'file',
      files: [fileAt('a', 0, 5), fileAt('b', 2, 9)],
      bytes: 1224,
      closedBy: 'linger',
    }

    // When a job starts and its results are published
    log.started('job-1', b)
    log.finished(
      'job-1',
      b,
      b.files.map((f) => f.position),
    )
    await log.drain(1000)

    // Then the entry names the job, batch, systemName and files, and is written again with both files published
    expect(writes).toHaveLength(2)
    expect(writes[0]?.key).toBe('job-1')
    expect(writes[0]?.value).toMatchObject({
      jobId: 'job-1',
      batchId: 'b1',
      systemName: 'archive',
      files: [
        { topic: 'in', partition: 0, offset: '5', externalId: 'a' },
        { topic: 'in', partition: 2, offset: '9', externalId: 'b' },
      ],
    })
    expect(writes[0]?.value?.files.some((f) => f.published !== undefined)).toBe(false)
    expect(writes[1]?.value?.files).toEqual([
      { topic: 'in', partition: 0, offset: '5', externalId: 'a', published: true },
      { topic: 'in', partition: 2, offset: '9', externalId: 'b', published: true },
    ])
    expect(log.publishedElsewhere('job-1', pos(0, 5))).toBe(true)

    // And a commit of partition 0 past its file takes that file out; one of partition 2 writes the tombstone
    log.committed([{ topic: 'in', partition: 0, offset: '6' }])
    log.committed([{ topic: 'in', partition: 2, offset: '9' }]) // not past offset 9 yet: nothing
    await log.drain(1000)
    expect(writes).toHaveLength(3)
    expect(writes[2]?.value?.files.map((f) => f.externalId)).toEqual(['b'])
    log.committed([{ topic: 'in', partition: 2, offset: '10' }])
    await log.drain(1000)
    expect(writes.slice(3)).toEqual([{ key: 'job-1', value: null }])
    expect(log.size).toBe(0)
  })

  it('tombstones the lost job when its batch is submitted again as a new job', async () => {
    // Given a batch whose first job was lost
    const { log, writes } = setup()
    const b = batchOfFiles([fileAt('a', 0, 1)])
    log.started('job-1', b)

    // When the same batch starts as another job
    log.started('job-2', b)
    await log.drain(1000)

    // Then the first job is tombstoned and the second recorded
    expect(writes.map((w) => [w.key, w.value === null])).toEqual([
      ['job-1', false],
      ['job-1', true],
      ['job-2', false],
    ])
  })

  it('forgets the batch of a job tombstoned by commits: a later job of that batch tombstones nothing', async () => {
    // Given a job whose only file a commit passed (its entry tombstoned)
    const { log, writes } = setup()
    const b = batchOfFiles([fileAt('a', 0, 1)])
    log.started('job-1', b)
    log.committed([{ topic: 'in', partition: 0, offset: '2' }])

    // When the same batch starts as another job
    log.started('job-2', b)
    await log.drain(1000)

    // Then job-1 is tombstoned once, and job-2 recorded
    expect(writes.map((w) => [w.key, w.value === null])).toEqual([
      ['job-1', false],
      ['job-1', true],
      ['job-2', false],
    ])
  })
})

describe('JobLog after a fenced publish', () => {
  const b: Batch = {
    id: 'b1',
    systemName: 'archive',
    kind: 'file',
    files: [fileAt('a', 0, 5), fileAt('b', 2, 9), fileAt('c', 0, 6)],
    bytes: 1324,
    closedBy: 'linger',
  }
  const published = (w: { value: JobLogEntry | null } | undefined) =>
    w?.value?.files.map((f) => [f.externalId, f.published === true])

  it('marks the published files and keeps the files left to another replica unmarked', async () => {
    // Given a started job
    const { log, writes } = setup()
    log.started('job-1', b)

    // When its files of partition 0 alone were published (partition 2 was revoked)
    log.finished('job-1', b, [pos(0, 5), pos(0, 6)])
    await log.drain(1000)

    // Then the entry is written again with the files of partition 0 marked published, that of partition 2 not
    expect(writes).toHaveLength(2)
    expect(published(writes[1])).toEqual([
      ['a', true],
      ['b', false],
      ['c', true],
    ])
    expect(writes[1]?.value?.batchId).toBe('b1')
    expect(log.publishedElsewhere('job-1', pos(2, 9))).toBe(false)
  })

  it('works from the entry read from the topic (an adopter publishes its part), and tombstones once commits pass every file', async () => {
    // Given the entry of another replica's job, whose file of partition 2 this replica adopted
    const { log, writes } = setup()
    log.onRecord(
      entryRecord(
        entry('job-9', [
          ['a', 0, 5],
          ['b', 2, 9],
        ]),
      ),
    )
    const adopted: Batch = { ...b, files: [fileAt('b', 2, 9)], closedBy: 'adopted' }

    // When it published that file
    log.finished('job-9', adopted, [pos(2, 9)])
    await log.drain(1000)

    // Then the entry keeps the other replica's file unmarked and marks its own
    expect(published(writes[0])).toEqual([
      ['a', false],
      ['b', true],
    ])

    // And once the other replica marked its file too, commits past both files write the tombstone
    log.onRecord(
      entryRecord({
        ...entry('job-9', [
          ['a', 0, 5],
          ['b', 2, 9],
        ]),
        files: entry('job-9', [
          ['a', 0, 5],
          ['b', 2, 9],
        ]).files.map((f) => ({ ...f, published: true })),
      }),
    )
    log.committed([
      { topic: 'in', partition: 0, offset: '100' },
      { topic: 'in', partition: 2, offset: '100' },
    ])
    await log.drain(1000)
    expect(writes.slice(1)).toEqual([{ key: 'job-9', value: null }])
  })

  it('marks the published files in another logged job that holds them too (a file submitted twice)', async () => {
    // Given two logged jobs that hold the file at 0:5, one of them with another file too
    const { log, writes } = setup()
    log.onRecord(
      entryRecord(
        entry('job-1', [
          ['a', 0, 5],
          ['b', 0, 6],
        ]),
      ),
    )
    log.onRecord(entryRecord(entry('job-2', [['a', 0, 5]])))

    // When job-2's result for it is published
    log.finished('job-2', { ...b, id: 'batch-job-2', files: [fileAt('a', 0, 5)] }, [pos(0, 5)])
    await log.drain(1000)

    // Then job-1's entry marks it published, its other file not, and job-2's marks it too
    expect(writes.map((w) => [w.key, published(w)])).toEqual([
      [
        'job-1',
        [
          ['a', true],
          ['b', false],
        ],
      ],
      ['job-2', [['a', true]]],
    ])
    expect(log.publishedElsewhere('job-1', pos(0, 5))).toBe(true)
    expect(log.publishedElsewhere('job-1', pos(0, 6))).toBe(false)
  })

  it('writes its marks again when it reads the entry without them (another replica rewrote it at once)', async () => {
    // Given a replica that published the files of partition 0 of a logged job
    const { log, writes } = setup()
    log.onRecord(
      entryRecord(
        entry('job-1', [
          ['a', 0, 5],
          ['b', 2, 9],
        ]),
      ),
    )
    log.finished('job-1', b, [pos(0, 5)])
    await log.drain(1000)
    expect(writes).toHaveLength(1)

    // When it reads the entry as another replica wrote it from the older version, marking only its own file
    const other = entry('job-1', [
      ['a', 0, 5],
      ['b', 2, 9],
    ])
    log.onRecord(
      entryRecord({
        ...other,
        files: other.files.map((f) => (f.partition === 2 ? { ...f, published: true } : f)),
      }),
    )
    await log.drain(1000)

    // Then it writes the entry again with both marks, and says both are published
    expect(published(writes[1])).toEqual([
      ['a', true],
      ['b', true],
    ])
    expect(log.publishedElsewhere('job-1', pos(0, 5))).toBe(true)
    // And reading that back writes nothing more
    log.onRecord(entryRecord(writes[1]?.value ?? null, 'job-1'))
    await log.drain(1000)
    expect(writes).toHaveLength(2)
  })

  it('writes nothing for a job whose tombstone was read (its files were committed)', async () => {
    const { log, writes } = setup()
    log.onRecord(entryRecord(null, 'job-1'))
    log.finished('job-1', b, [pos(0, 5), pos(0, 6)])
    await log.drain(1000)
    expect(writes).toEqual([])
  })

  it('says a file was published when its entry marks it, no longer lists it, or the job was tombstoned', () => {
    const { log } = setup()
    log.onRecord(
      entryRecord(
        entry('job-1', [
          ['a', 0, 5],
          ['b', 2, 9],
          ['c', 2, 10],
        ]),
      ),
    )
    expect(log.publishedElsewhere('job-1', pos(0, 5))).toBe(false)
    expect(log.publishedElsewhere('job-unknown', pos(0, 5))).toBe(false)
    const marked = entry('job-1', [
      ['b', 2, 9],
      ['c', 2, 10],
    ])
    log.onRecord(
      entryRecord({
        ...marked,
        files: [
          { ...(marked.files[0] as JobLogEntry['files'][0]), published: true },
          marked.files[1] as JobLogEntry['files'][0],
        ],
      }),
    )
    expect(log.publishedElsewhere('job-1', pos(0, 5))).toBe(true)
    expect(log.publishedElsewhere('job-1', pos(2, 9))).toBe(true)
    expect(log.publishedElsewhere('job-1', pos(2, 10))).toBe(false)
    log.onRecord(entryRecord(null, 'job-1'))
    expect(log.publishedElsewhere('job-1', pos(2, 10))).toBe(true)
  })
})

describe('JobLog after commits', () => {
  it('takes files below a commit of this process out of an entry read later (put back by a concurrent rewrite)', async () => {
    // Given a replica that committed partition 0 up to offset 10 and owns it
    const { log, writes } = setup()
    log.onAssignment(partitions(0), partitions(0))
    log.committed([{ topic: 'in', partition: 0, offset: '10' }])

    // When it reads an entry with a file of partition 0 below that, and one of partition 1
    log.onRecord(
      entryRecord(
        entry('j1', [
          ['a', 0, 5],
          ['b', 1, 3],
        ]),
      ),
    )
    log.onRecord(entryRecord(entry('j2', [['c', 0, 9]])))
    await log.drain(1000)

    // Then the first is written again without the committed file, the second tombstoned
    expect(writes.map((w) => [w.key, w.value?.files.map((f) => f.externalId) ?? null])).toEqual([
      ['j1', ['b']],
      ['j2', null],
    ])
  })

  it('forgets the commits of partitions it no longer owns', async () => {
    const { log, writes } = setup()
    log.onAssignment(partitions(0), partitions(0))
    log.committed([{ topic: 'in', partition: 0, offset: '10' }])
    log.onAssignment(partitions(1), partitions(1))
    log.onRecord(entryRecord(entry('j1', [['a', 0, 5]])))
    await log.drain(1000)
    expect(writes).toEqual([])
  })

  it('tombstones an entry of published files older than its maximum age, on its first file\u2019s owner', async () => {
    // Given two old entries of published files, the first on an owned partition, the other not, and a running one
    vi.useFakeTimers()
    const { log: owner, writes } = setup({ publishedMaxAgeMs: 3_600_000 })
    const old = (jobId: string, partition: number, publishedFile: boolean): JobLogEntry => ({
      ...entry(jobId, [['a', partition, 1]]),
      submittedAt: Date.now(),
      files: [{ topic: 'in', partition, offset: '1', externalId: 'a', published: publishedFile }],
    })
    owner.onRecord(entryRecord(old('mine', 0, true)))
    owner.onRecord(entryRecord(old('theirs', 1, true)))
    owner.onRecord(entryRecord(old('running', 0, false)))
    owner.onAssignment(partitions(0), none)

    // When more than the maximum age passes
    await vi.advanceTimersByTimeAsync(3_600_000 + 60_000)
    await owner.drain(1000)
    owner.close()

    // Then the owned all-published entry alone is tombstoned
    expect(writes).toEqual([{ key: 'mine', value: null }])
  })
})

describe('JobLog reading', () => {
  it('keeps the latest entry per job and forgets tombstoned and malformed ones', () => {
    const { log } = setup()
    log.onRecord(entryRecord(entry('j1', [['a', 0, 1]])))
    log.onRecord(entryRecord(entry('j2', [['b', 0, 2]])))
    log.onRecord(entryRecord(null, 'j1'))
    log.onRecord({ ...entryRecord(null, 'j3'), value: Buffer.from('{"jobId":') })
    log.onRecord({ ...entryRecord(null, 'j4'), value: Buffer.from('{"jobId":"j4"}') })
    expect(log.size).toBe(1)
  })

  it('reads entries with and without the published mark (written before it existed)', () => {
    const { log } = setup()
    const raw = (jobId: string, fileJson: string) => ({
      ...entryRecord(null, jobId),
      value: Buffer.from(
        `{"jobId":"${jobId}","batchId":"b","systemName":"archive","submittedAt":1,"files":[${fileJson}]}`,
      ),
    })
    log.onRecord(raw('old', '{"topic":"in","partition":0,"offset":"5","externalId":"a"}'))
    log.onRecord(raw('new', '{"topic":"in","partition":0,"offset":"6","externalId":"b","published":true}'))
    expect(log.size).toBe(2)
    expect(log.publishedElsewhere('old', pos(0, 5))).toBe(false)
    expect(log.publishedElsewhere('new', pos(0, 6))).toBe(true)
  })
})

describe('JobLog adoption', () => {
  it('adopts a running job once its files of newly assigned partitions are consumed again', async () => {
    // Given a logged job with two files on partition 0 and one on partition 1
    const { log, adopted, metrics } = setup()
    log.onRecord(
      entryRecord(
        entry('j1', [
          ['a', 0, 5],
          ['c', 1, 3],
          ['b', 0, 6],
        ]),
      ),
    )

    // When partition 0 is newly assigned and its records are consumed again, in a different order
    expect(log.onAssignment(partitions(0), partitions(0))).toEqual([])
    const fa = fileAt('a', 0, 5)
    const fb = fileAt('b', 0, 6)
    log.observe(fa.position)
    log.observe(fb.position)
    expect(log.claim(fb)).toBe(true)
    expect(adopted).toHaveLength(0)
    expect(log.claim(fa)).toBe(true)

    // Then the job is adopted with its two files of partition 0, in the job's order
    expect(adopted).toHaveLength(1)
    expect(adopted[0]?.jobId).toBe('j1')
    expect(adopted[0]?.batch).toMatchObject({ id: 'batch-j1', systemName: 'archive', closedBy: 'adopted' })
    expect(adopted[0]?.batch.files).toEqual([fa, fb])
    expect((await metrics.jobsAdopted.get()).values[0]?.value).toBe(1)
    // And later records go the normal way
    expect(consume(log, fileAt('z', 0, 7))).toBe(false)
  })

  it('adopts with the files still to come when some were below the committed offset', () => {
    // Given a logged job whose file at offset 2 was already committed (consumption restarts at 4)
    const { log, adopted } = setup()
    logJobAndAssignPartition0(log, 'j1', [
      ['a', 0, 2],
      ['b', 0, 5],
    ])

    // When offsets 4 and 5 are consumed
    expect(consume(log, fileAt('other', 0, 4))).toBe(false)
    const fb = fileAt('b', 0, 5)
    expect(consume(log, fb)).toBe(true)

    // Then the job is adopted with the one file that came again
    expect(adopted.map((a) => [a.jobId, a.batch.files])).toEqual([['j1', [fb]]])
  })

  it('tombstones a stale entry whose files were all committed, and adopts nothing', async () => {
    const { log, adopted, writes } = setup()
    logJobAndAssignPartition0(log, 'old', [['a', 0, 1]])
    expect(consume(log, fileAt('x', 0, 10))).toBe(false)
    await log.drain(1000)
    expect(adopted).toEqual([])
    expect(writes).toEqual([{ key: 'old', value: null }])
  })

  it('takes the committed files of a newly owned partition out of an entry whose other files may still run', async () => {
    // Given a logged job with a file on partition 0, committed, and one on partition 1, owned elsewhere
    const { log, adopted, writes } = setup()
    logJobAndAssignPartition0(log, 'j1', [
      ['a', 0, 1],
      ['b', 1, 1],
    ])

    // When a later offset of partition 0 comes first
    expect(consume(log, fileAt('x', 0, 10))).toBe(false)
    await log.drain(1000)

    // Then the entry keeps the file of partition 1 (no tombstone: a replica following the job publishes it)
    expect(adopted).toEqual([])
    expect(writes.map((w) => [w.key, w.value?.files.map((f) => f.externalId) ?? null])).toEqual([
      ['j1', ['b']],
    ])
    expect(log.publishedElsewhere('j1', pos(1, 1))).toBe(false)
  })

  it('leaves jobs this process follows, and partitions it owned before, alone', () => {
    const { log, adopted } = setup({ tracked: ['mine'] })
    log.onRecord(entryRecord(entry('mine', [['a', 0, 1]])))
    log.onRecord(entryRecord(entry('kept', [['b', 1, 1]])))
    log.onAssignment(partitions(0, 1), partitions(0))
    expect(consume(log, fileAt('a', 0, 1))).toBe(false)
    expect(consume(log, fileAt('b', 1, 1))).toBe(false)
    expect(adopted).toEqual([])
  })

  it('gives back held files when their partition is revoked before the adoption completes', () => {
    // Given an adoption holding one of two files
    const { log, adopted } = setup()
    logJobAndAssignPartition0(log, 'j1', [
      ['a', 0, 1],
      ['b', 0, 2],
    ])
    const fa = fileAt('a', 0, 1)
    expect(consume(log, fa)).toBe(true)

    // When partition 0 is revoked
    const dropped = log.onAssignment(none, none)

    // Then the held file is handed back for dropping, and nothing is adopted or expected any more
    expect(dropped).toEqual([fa])
    expect(log.held).toBe(0)
    expect(consume(log, fileAt('b', 0, 2))).toBe(false)
    expect(adopted).toEqual([])
  })

  it('releases held files to the batcher when the rest does not come in time', async () => {
    // Given an adoption holding one file and waiting for another that never comes
    vi.useFakeTimers()
    const { log, released, adopted } = setup({ timeoutMs: 1000 })
    logJobAndAssignPartition0(log, 'j1', [
      ['a', 0, 1],
      ['b', 0, 2],
    ])
    const fa = fileAt('a', 0, 1)
    consume(log, fa)
    log.observe(pos(0, 2)) // consumed, but held elsewhere (e.g. parked in the key sequencer)

    // When the adoption timeout passes
    await vi.advanceTimersByTimeAsync(1000)

    // Then the held file goes the normal way and the job is not adopted
    expect(released).toEqual([fa])
    expect(adopted).toEqual([])
  })

  it('waits ADOPTION_TIMEOUT_MS for the rest when its options name no timeout', async () => {
    // Given an adoption of a job log without adoptionTimeoutMs, holding one file and waiting for another
    vi.useFakeTimers()
    const { log, released } = setup()
    logJobAndAssignPartition0(log, 'j1', [
      ['a', 0, 1],
      ['b', 0, 2],
    ])
    const fa = fileAt('a', 0, 1)
    consume(log, fa)
    log.observe(pos(0, 2))

    // When all but the last ms of its own default pass, it still holds the file; then it gives up
    await vi.advanceTimersByTimeAsync(ADOPTION_TIMEOUT_MS - 1)
    expect(released).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(released).toEqual([fa])
  })

  it('settles files marked published when they come again instead of adopting their job for them', () => {
    // Given a job whose file at 0:5 was published and whose file at 0:6 was not, and a job of published files alone
    const expected: RecordPosition[][] = []
    const { log, adopted } = setup({
      expectPublished: (positions) => {
        expected.push(positions)
        return positions.length
      },
    })
    const j1 = entry('j1', [
      ['a', 0, 5],
      ['b', 0, 6],
      ['x', 1, 1],
    ])
    log.onRecord(
      entryRecord({
        ...j1,
        files: j1.files.map((f) => (f.offset === '5' || f.partition === 1 ? { ...f, published: true } : f)),
      }),
    )
    const j2 = entry('j2', [['c', 0, 7]])
    log.onRecord(entryRecord({ ...j2, files: j2.files.map((f) => ({ ...f, published: true })) }))

    // When partition 0 is newly assigned
    log.onAssignment(partitions(0), partitions(0))

    // Then the published files of partition 0 are told to be settled when they come again
    expect(expected).toEqual([[pos(0, 5), pos(0, 7)]])
    // And the adoption waits for the unpublished file alone (the published ones never reach it)
    const fb = fileAt('b', 0, 6)
    expect(consume(log, fb)).toBe(true)
    expect(adopted.map((a) => a.jobId)).toEqual(['j1'])
  })

  it('releases the files when the tracker refuses the adoption', () => {
    const { log, released } = setup({ adoptAnswer: false })
    logJobAndAssignPartition0(log, 'j1', [['a', 0, 1]])
    const fa = fileAt('a', 0, 1)
    expect(consume(log, fa)).toBe(true)
    expect(released).toEqual([fa])
  })
})
