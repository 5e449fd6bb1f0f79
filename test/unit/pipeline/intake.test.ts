// The intake: redelivery check, decode, track, DLQ or admit; one file per key; settle; drop on rebalance;
// backpressure on the files in flight.
import { describe, expect, it, vi } from 'vitest'
import { OffsetTracker } from '../../../src/kafka/offset-tracker.ts'
import { createMetrics } from '../../../src/metrics.ts'
import { Assignment } from '../../../src/model/assignment.ts'
import type { DecodeResult, Filtered, PendingFile } from '../../../src/model/files.ts'
import type { ConsumedRecord, RecordPosition } from '../../../src/model/records.ts'
import { createIntake } from '../../../src/pipeline/intake.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { pendingFile } from '../../support/pending-file.ts'

const control = { heartbeat: async () => undefined, isRunning: () => true }

/** A record whose value is the externalId, `bad` for one the decoder refuses, `skip` for one it filters. */
function record(
  partition: number,
  offset: number,
  value: string,
  headers: Record<string, string> = {},
): ConsumedRecord {
  const list = Object.entries(headers).map(([n, v]) => [n, Buffer.from(v)] as const)
  return {
    topic: 'in',
    partition,
    offset: String(offset),
    key: null,
    value: Buffer.from(value),
    headers: list,
    timestamp: 0,
  }
}

function setup(options: { maxFilesInFlight?: number; held?: PendingFile[]; syncDecode?: boolean } = {}) {
  const released: PendingFile[] = []
  const dlq: Array<[ConsumedRecord, string]> = []
  const observed: RecordPosition[] = []
  const fetch = { pause: vi.fn(), resume: vi.fn() }
  const decodeNow = ({ value }: { value: Buffer | null }): DecodeResult | Filtered => {
    const id = String(value)
    if (id === 'bad') return { ok: false, failure: { reason: 'INVALID_JSON', message: 'not JSON' } }
    if (id === 'skip') return { ok: false, filtered: 'rejected' }
    const { event, entry, bytes } = pendingFile(id)
    return { ok: true, event, entry, bytes }
  }
  // As the decoder: at once (JSON, a known schema id), or a promise (a registry lookup)
  const decode = vi.fn((r: { value: Buffer | null }) =>
    options.syncDecode === true ? decodeNow(r) : Promise.resolve(decodeNow(r)),
  )
  const offsets = new OffsetTracker()
  const metrics = createMetrics()
  const intake = createIntake(
    { maxFilesInFlight: options.maxFilesInFlight ?? 100, resumeRatio: 0.5 },
    {
      decode,
      offsets,
      fetch,
      release: (file) => released.push(file),
      dropHeld: (isOwned) => {
        const dropped = (options.held ?? []).filter((f) => !isOwned(f.position))
        return dropped
      },
      deadLetter: (r, failure) => dlq.push([r, failure.reason]),
      observe: (p) => observed.push(p),
      metrics,
      logger: silentLogger,
    },
  )
  return { intake, released, dlq, observed, fetch, decode, offsets, metrics }
}

describe('intake', () => {
  it('admits valid records as pending files with their trace headers, and DLQs the others', async () => {
    const s = setup()
    await s.intake.onRecord(record(0, 0, 'a', { traceparent: 'tp', other: 'x' }), control)
    await s.intake.onRecord(record(0, 1, 'bad'), control)
    expect(s.released.map((f) => [f.event.externalId, f.position.offset, f.headers])).toEqual([
      ['a', '0', [['traceparent', Buffer.from('tp')]]],
    ])
    expect(s.dlq.map(([r, reason]) => [r.offset, reason])).toEqual([['1', 'INVALID_JSON']])
    expect(s.observed.map((p) => p.offset)).toEqual(['0', '1'])
    expect(s.intake.inFlight).toBe(2)
  })

  it('keeps of the event only what later stages read; URL, name and metadata live on in the entry JSON', async () => {
    const s = setup()
    await s.intake.onRecord(record(0, 0, 'a'), control)
    const [file] = s.released
    expect(file?.event).toEqual({
      externalId: 'a',
      systemName: 'archive',
      kind: 'file',
      occurredAt: 1_700_000_000_000,
    })
    expect(JSON.parse(file?.entry.toString() ?? '')).toMatchObject({
      id: 'a',
      url: 'https://files.example/a',
      metadata: {},
    })
  })

  it('takes a record at once, without a promise, when the decode gives its result at once', () => {
    const s = setup({ syncDecode: true })
    expect(s.intake.onRecord(record(0, 0, 'a'), control)).toBe(true)
    expect(s.intake.onRecord(record(0, 1, 'bad'), control)).toBe(true)
    expect(s.released.map((f) => f.event.externalId)).toEqual(['a'])
    expect(s.dlq.map(([r]) => r.offset)).toEqual(['1'])
  })

  it('carries trace headers as they came (order, repeats), up to 4 KiB of values', async () => {
    const s = setup()
    const big = 'b'.repeat(4095)
    const r = record(0, 0, 'a')
    const headers = [
      ['tracestate', Buffer.from('x=1')],
      ['other', Buffer.from('o')],
      ['traceparent', Buffer.from([0xff])],
      ['tracestate', Buffer.from(big)],
      ['tracestate', Buffer.from('y=2')],
    ] as const
    await s.intake.onRecord({ ...r, headers }, control)
    expect(s.released[0]?.headers).toEqual([headers[0], headers[2]])
  })

  it('settles a record the mapping filtered at once, so that its partition commits past it', async () => {
    // Given a file in flight, then two records the filter skips, then another file
    const s = setup()
    await s.intake.onRecord(record(0, 0, 'a'), control)
    await s.intake.onRecord(record(0, 1, 'skip'), control)
    await s.intake.onRecord(record(0, 2, 'skip'), control)
    await s.intake.onRecord(record(0, 3, 'b'), control)
    // Then they are neither released nor dead-lettered, and only the two files are in flight
    expect(s.released.map((f) => f.position.offset)).toEqual(['0', '3'])
    expect(s.dlq).toEqual([])
    expect(s.observed.map((p) => p.offset)).toEqual(['0', '1', '2', '3'])
    expect(s.intake.inFlight).toBe(2)
    expect((await s.metrics.eventsFiltered.get()).values).toContainEqual(
      expect.objectContaining({ labels: { reason: 'rejected' }, value: 2 }),
    )
    // When the first file settles, the commit moves past the filtered records up to the next file
    const [first] = s.released as [PendingFile]
    s.intake.settle([first.position], [first])
    expect(s.offsets.committable()).toEqual([{ topic: 'in', partition: 0, offset: '3' }])
  })

  it('skips a redelivered record it already has in hand, without decoding it again', async () => {
    const s = setup()
    await s.intake.onRecord(record(0, 5, 'a'), control)
    expect(await s.intake.onRecord(record(0, 5, 'a'), control)).toBe(true)
    expect(s.decode).toHaveBeenCalledTimes(1)
    expect(s.intake.inFlight).toBe(1)
  })

  it('releases one file per externalId at a time; the next once the first settles', async () => {
    const s = setup()
    await s.intake.onRecord(record(0, 0, 'a'), control)
    await s.intake.onRecord(record(0, 1, 'a'), control)
    expect(s.released).toHaveLength(1)
    const first = s.released[0] as PendingFile
    s.intake.settle([first.position], [first])
    expect(s.released.map((f) => f.position.offset)).toEqual(['0', '1'])
    expect(s.intake.inFlight).toBe(1)
  })

  it('pauses the fetch at MAX_FILES_IN_FLIGHT and resumes at the low mark', async () => {
    const s = setup({ maxFilesInFlight: 4 })
    for (let i = 0; i < 4; i++) await s.intake.onRecord(record(0, i, `f${i}`), control)
    expect(s.fetch.pause).toHaveBeenCalledTimes(1)
    const [f0, f1] = s.released as [PendingFile, PendingFile]
    s.intake.settle([f0.position], [f0])
    expect(s.fetch.resume).not.toHaveBeenCalled()
    s.intake.settle([f1.position], [f1])
    expect(s.fetch.resume).toHaveBeenCalledTimes(1)
  })

  it('drops the files of revoked partitions, freeing their keys and the backpressure', async () => {
    // Given a file of partition 1 held downstream, and a later file of its key parked behind it
    const held: PendingFile[] = []
    const s = setup({ maxFilesInFlight: 3, held })
    s.intake.onAssignment(new Assignment([{ topic: 'in', partitions: [0, 1] }]))
    await s.intake.onRecord(record(1, 0, 'a'), control)
    await s.intake.onRecord(record(0, 0, 'a'), control)
    await s.intake.onRecord(record(0, 1, 'b'), control)
    held.push(s.released[0] as PendingFile)
    expect(s.fetch.pause).toHaveBeenCalledTimes(1)
    // When partition 1 is revoked
    s.intake.onAssignment(new Assignment([{ topic: 'in', partitions: [0] }]))
    // Then the parked file of its key goes on, and fetching resumes (2 files left, low mark 1.5: no)
    expect(s.released.map((f) => `${f.position.partition}:${f.position.offset}`)).toEqual([
      '1:0',
      '0:1',
      '0:0',
    ])
    expect(s.intake.inFlight).toBe(2)
  })

  it('takes no record once stopped, and never resumes the fetch', async () => {
    const s = setup({ maxFilesInFlight: 1 })
    await s.intake.onRecord(record(0, 0, 'a'), control)
    s.intake.stop()
    expect(s.intake.isStopping).toBe(true)
    expect(await s.intake.onRecord(record(0, 1, 'b'), control)).toBe(false)
    const [f0] = s.released as [PendingFile]
    s.intake.settle([f0.position], [f0])
    expect(s.fetch.resume).not.toHaveBeenCalled()
  })
})
