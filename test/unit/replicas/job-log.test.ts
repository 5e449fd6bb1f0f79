// JobLog: recording import jobs, reading the compacted log, and adopting running jobs after a rebalance.

import { afterEach, describe, expect, it, vi } from 'vitest'
import type { OutgoingMessage } from '../../../src/kafka/producer.ts'
import { createMetrics } from '../../../src/metrics.ts'
import type { Batch, PendingFile } from '../../../src/model/files.ts'
import type { ConsumedRecord, RecordPosition } from '../../../src/model/records.ts'
import { ADOPTION_TIMEOUT_MS } from '../../../src/replicas/adoptions.ts'
import { JobLog, type JobLogEntry } from '../../../src/replicas/job-log.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { pendingFile } from '../../support/pending-file.ts'

const logger = silentLogger

afterEach(() => {
  vi.useRealTimers()
})

function file(externalId: string, partition: number, offset: number): PendingFile {
  return { ...pendingFile(externalId), position: { topic: 'in', partition, offset: String(offset) } }
}

function setup(options: { tracked?: string[]; adoptAnswer?: boolean; timeoutMs?: number } = {}) {
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
    { topic: 'job-log', adoptionTimeoutMs: options.timeoutMs },
    { send, tracker, release: (f) => released.push(f), metrics, logger },
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

const partitions =
  (...ps: number[]) =>
  (p: RecordPosition) =>
    p.topic === 'in' && ps.includes(p.partition)
const none = () => false

/** Reads a job-log entry of running job `jobId` with `files`, then has partition 0 newly assigned. */
function logJobAndAssignPartition0(log: JobLog, jobId: string, files: Array<[string, number, number]>): void {
  log.onRecord(entryRecord(entry(jobId, files)))
  log.onAssignment(partitions(0), partitions(0))
}

const pos = (partition: number, offset: number): RecordPosition => ({
  topic: 'in',
  partition,
  offset: String(offset),
})

/** Consumes `f` as the pipeline does: observe, then the key sequencer releases it. */
function consume(log: JobLog, f: PendingFile): boolean {
  log.observe(f.position)
  return log.claim(f)
}

describe('JobLog writing', () => {
  it('records a started job keyed by job id with each file position and externalId, and tombstones it', async () => {
    // Given a job log
    const { log, writes } = setup()
    const b: Batch = {
      id: 'b1',
      systemName: 'archive',
      kind: 'file',
      files: [file('a', 0, 5), file('b', 2, 9)],
      bytes: 1224,
      closedBy: 'linger',
    }

    // When a job starts and later finishes
    log.started('job-1', b)
    log.finished('job-1', 'b1')
    await log.drain(1000)

    // Then the entry names the job, batch, systemName and files, and a tombstone follows
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
    expect(writes[1]).toEqual({ key: 'job-1', value: null })
  })

  it('tombstones the lost job when its batch is submitted again as a new job', async () => {
    // Given a batch whose first job was lost
    const { log, writes } = setup()
    const b: Batch = {
      id: 'b1',
      systemName: 'archive',
      kind: 'file',
      files: [file('a', 0, 1)],
      bytes: 1124,
      closedBy: 'linger',
    }
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
    const fa = file('a', 0, 5)
    const fb = file('b', 0, 6)
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
    expect(consume(log, file('z', 0, 7))).toBe(false)
  })

  it('adopts with the files still to come when some were below the committed offset', () => {
    // Given a logged job whose file at offset 2 was already committed (consumption restarts at 4)
    const { log, adopted } = setup()
    logJobAndAssignPartition0(log, 'j1', [
      ['a', 0, 2],
      ['b', 0, 5],
    ])

    // When offsets 4 and 5 are consumed
    expect(consume(log, file('other', 0, 4))).toBe(false)
    const fb = file('b', 0, 5)
    expect(consume(log, fb)).toBe(true)

    // Then the job is adopted with the one file that came again
    expect(adopted.map((a) => [a.jobId, a.batch.files])).toEqual([['j1', [fb]]])
  })

  it('tombstones a stale entry whose files were all committed, and adopts nothing', async () => {
    const { log, adopted, writes } = setup()
    logJobAndAssignPartition0(log, 'old', [['a', 0, 1]])
    expect(consume(log, file('x', 0, 10))).toBe(false)
    await log.drain(1000)
    expect(adopted).toEqual([])
    expect(writes).toEqual([{ key: 'old', value: null }])
  })

  it('leaves jobs this process follows, and partitions it owned before, alone', () => {
    const { log, adopted } = setup({ tracked: ['mine'] })
    log.onRecord(entryRecord(entry('mine', [['a', 0, 1]])))
    log.onRecord(entryRecord(entry('kept', [['b', 1, 1]])))
    log.onAssignment(partitions(0, 1), partitions(0))
    expect(consume(log, file('a', 0, 1))).toBe(false)
    expect(consume(log, file('b', 1, 1))).toBe(false)
    expect(adopted).toEqual([])
  })

  it('gives back held files when their partition is revoked before the adoption completes', () => {
    // Given an adoption holding one of two files
    const { log, adopted } = setup()
    logJobAndAssignPartition0(log, 'j1', [
      ['a', 0, 1],
      ['b', 0, 2],
    ])
    const fa = file('a', 0, 1)
    expect(consume(log, fa)).toBe(true)

    // When partition 0 is revoked
    const dropped = log.onAssignment(none, none)

    // Then the held file is handed back for dropping, and nothing is adopted or expected any more
    expect(dropped).toEqual([fa])
    expect(log.held).toBe(0)
    expect(consume(log, file('b', 0, 2))).toBe(false)
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
    const fa = file('a', 0, 1)
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
    const fa = file('a', 0, 1)
    consume(log, fa)
    log.observe(pos(0, 2))

    // When all but the last ms of its own default pass, it still holds the file; then it gives up
    await vi.advanceTimersByTimeAsync(ADOPTION_TIMEOUT_MS - 1)
    expect(released).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(released).toEqual([fa])
  })

  it('releases the files when the tracker refuses the adoption', () => {
    const { log, released } = setup({ adoptAnswer: false })
    logJobAndAssignPartition0(log, 'j1', [['a', 0, 1]])
    const fa = file('a', 0, 1)
    expect(consume(log, fa)).toBe(true)
    expect(released).toEqual([fa])
  })
})
