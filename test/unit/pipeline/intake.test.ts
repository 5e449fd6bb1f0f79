// The intake: redelivery check, decode, track, DLQ or admit; one file per key; settle; drop on rebalance;
// backpressure on the files in flight.
import { trace } from '@opentelemetry/api'
import { describe, expect, it, vi } from 'vitest'
import { OffsetTracker } from '../../../src/kafka/offset-tracker.ts'
import { createMetrics } from '../../../src/metrics.ts'
import { Assignment } from '../../../src/model/assignment.ts'
import type { DecodeResult, Filtered, PendingFile } from '../../../src/model/files.ts'
import type { ConsumedRecord, RecordPosition } from '../../../src/model/records.ts'
import { createIntake } from '../../../src/pipeline/intake.ts'
import type { BridgeTracing } from '../../../src/telemetry/bridge-tracing.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { registryMetric } from '../../support/metric-value.ts'
import { pendingFile } from '../../support/pending-file.ts'
import { recordSpans } from '../../support/span-recorder.ts'

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

function setup(
  options: {
    maxFilesInFlight?: number
    maxBytesInFlight?: number
    held?: PendingFile[]
    syncDecode?: boolean
    tracing?: BridgeTracing
    regained?: {
      take(position: RecordPosition): 'new' | 'taken' | 'published'
      revoked(settled: Array<{ topic: string; partition: number; offsets: string[] }>): void
    }
  } = {},
) {
  const released: PendingFile[] = []
  const dlq: Array<[ConsumedRecord, string]> = []
  /** The span active when each DLQ record was handed on (its log line is written then). */
  const dlqSpans: Array<string | undefined> = []
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
    {
      maxFilesInFlight: options.maxFilesInFlight ?? 100,
      maxBytesInFlight: options.maxBytesInFlight ?? 1_000_000,
      resumeRatio: 0.5,
    },
    {
      decode,
      offsets,
      fetch,
      release: (file) => released.push(file),
      dropHeld: (isOwned) => {
        const dropped = (options.held ?? []).filter((f) => !isOwned(f.position))
        return dropped
      },
      deadLetter: (r, failure) => {
        dlq.push([r, failure.reason])
        dlqSpans.push(trace.getActiveSpan()?.spanContext().spanId)
      },
      observe: (p) => observed.push(p),
      regained: options.regained,
      metrics,
      logger: silentLogger,
      tracing: options.tracing,
    },
  )
  return { intake, released, dlq, dlqSpans, observed, fetch, decode, offsets, metrics }
}

describe('intake', () => {
  it.each([
    ['kept', [0]],
    ['revoked', [1]],
  ])(
    'leaves a record whose decode outlived a join unresolved (its partition %s), and takes it when fetched again',
    async (fate, partitions) => {
      // Given partition 0 owned and a record of it whose decode waits (a registry lookup)
      const s = setup()
      s.intake.onAssignment(new Assignment([{ topic: 'in', partitions: [0] }]))
      let decoded: (r: DecodeResult) => void = () => undefined
      s.decode.mockImplementationOnce(() => new Promise<DecodeResult>((resolve) => (decoded = resolve)))
      const taking = s.intake.onRecord(record(0, 5, 'a'), control)
      // When a join comes before the decode answers
      s.intake.onAssignment(new Assignment([{ topic: 'in', partitions }]))
      const { event, entry, bytes } = pendingFile('a')
      decoded({ ok: true, event, entry, bytes })
      // Then the record is not taken: not tracked (nothing to commit past it), no file handed on
      expect(await taking).toBe(false)
      expect(s.intake.inFlight).toBe(0)
      expect(s.released).toEqual([])
      // And fetched again by the owner of the new generation (a revoked partition: once assigned back),
      // it is taken as any record
      if (fate === 'revoked') s.intake.onAssignment(new Assignment([{ topic: 'in', partitions: [0] }]))
      expect(await s.intake.onRecord(record(0, 5, 'a'), control)).toBe(true)
      expect(s.released.map((f) => f.position.offset)).toEqual(['5'])
      expect(s.intake.inFlight).toBe(1)
    },
  )

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

  it('counts the bytes of the records in flight, pauses at MAX_BYTES_IN_FLIGHT and resumes at the low mark', async () => {
    // Given a budget of 30 bytes, resuming at 15
    const s = setup({ maxBytesInFlight: 30 })
    // When three records of 10 bytes (value 8, key 2) are taken, the third pauses the fetch
    const sized = (offset: number) => ({
      ...record(0, offset, `ten-b-${offset}`.padEnd(8, '.')),
      key: Buffer.from('k1'),
    })
    for (let i = 0; i < 3; i++) await s.intake.onRecord(sized(i), control)
    expect(s.offsets.bytesInFlight).toBe(30)
    expect(s.fetch.pause).toHaveBeenCalledTimes(1)
    expect(await registryMetric(s.metrics.registry, 'bridge_bytes_in_flight')).toBe(30)
    // Then settling one leaves 20 bytes (above the low mark), a second resumes it at 10
    const [f0, f1] = s.released as [PendingFile, PendingFile]
    s.intake.settle([f0.position], [f0])
    expect(s.fetch.resume).not.toHaveBeenCalled()
    s.intake.settle([f1.position], [f1])
    expect(s.fetch.resume).toHaveBeenCalledTimes(1)
    expect(s.offsets.bytesInFlight).toBe(10)
    // And a revoked partition's records leave the count
    s.intake.onAssignment(new Assignment([{ topic: 'in', partitions: [1] }]))
    expect(s.offsets.bytesInFlight).toBe(0)
  })

  it('sends a heartbeat after a decode that took a while, so slow mappings do not cost the partitions', async () => {
    vi.useFakeTimers()
    try {
      // Given a decode that takes 1.5 s (a mapping near its timeout) and one that is quick
      const s = setup()
      const heartbeat = vi.fn(async () => undefined)
      const slowControl = { heartbeat, isRunning: () => true }
      s.decode.mockImplementationOnce(
        (r) =>
          new Promise((resolve) =>
            setTimeout(() => resolve({ ...pendingFile(String(r.value)), ok: true }), 1500),
          ),
      )
      // When both records are taken
      const slow = s.intake.onRecord(record(0, 0, 'slow'), slowControl)
      await vi.advanceTimersByTimeAsync(1500)
      await slow
      await s.intake.onRecord(record(0, 1, 'quick'), slowControl)
      // Then one heartbeat went, after the slow one only
      expect(heartbeat).toHaveBeenCalledTimes(1)
      expect(s.released.map((f) => f.event.externalId)).toEqual(['slow', 'quick'])
    } finally {
      vi.useRealTimers()
    }
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

  it('while tracing, ends each record’s span once it is taken; the admitted file keeps the span’s context', async () => {
    // Given an intake that makes spans, its decodes at once or later
    for (const syncDecode of [true, false]) {
      const { tracing, named } = recordSpans()
      const s = setup({ tracing, syncDecode })
      // When a valid record and one for the DLQ come
      await s.intake.onRecord(record(0, 0, 'a'), control)
      await s.intake.onRecord(record(0, 1, 'bad'), control)
      // Then each has ended its span, the file carries its span's context, and the DLQ record was
      // handed on inside its record's span (its log line carries the span's ids)
      const spans = named('process in')
      expect(spans.map((x) => x.attributes['messaging.kafka.offset'])).toEqual([0, 1])
      expect(s.released[0]?.recordSpan).toEqual(spans[0]?.spanContext())
      expect(s.dlqSpans).toEqual([spans[1]?.spanContext().spanId])
      expect(trace.getActiveSpan()).toBeUndefined()
    }
  })

  it('without tracing, or when the sampler does not record, the file keeps no span', async () => {
    for (const tracing of [undefined, recordSpans('off').tracing]) {
      const s = setup({ tracing })
      await s.intake.onRecord(record(0, 0, 'a'), control)
      expect(s.released).toHaveLength(1)
      expect(s.released[0]?.recordSpan).toBeUndefined()
    }
  })
})

describe('what the intake holds, and offsets without records', () => {
  it('knows when the oldest record in flight was consumed, until every record is settled', async () => {
    // Given files a, b on partition 0 and c on partition 1 admitted
    const s = setup()
    s.intake.onAssignment(new Assignment([{ topic: 'in', partitions: [0, 1] }]))
    const before = Date.now()
    for (const [p, o, id] of [
      [0, 0, 'a'],
      [0, 1, 'b'],
      [1, 0, 'c'],
    ] as const)
      await s.intake.onRecord(record(p, o, id), control)
    const [a, b, c] = s.released as [PendingFile, PendingFile, PendingFile]
    // Then the oldest in flight is known, no earlier than the first consume
    expect(s.intake.oldestInFlightAt()).toBeGreaterThanOrEqual(before)
    // When a is settled, it is still known (b and c are in flight)
    s.intake.settle([a.position], [a])
    expect(s.intake.oldestInFlightAt()).not.toBeNull()
    // When b and c are settled, there is none
    s.intake.settle([b.position, c.position], [b, c])
    expect(s.intake.oldestInFlightAt()).toBeNull()
  })

  it('passes over an empty range (a commit marker) of an owned partition only, so it commits the log end', async () => {
    const s = setup()
    s.intake.onAssignment(new Assignment([{ topic: 'in', partitions: [0] }]))
    await s.intake.onRecord(record(0, 0, 'a'), control)
    const [a] = s.released as [PendingFile]
    s.intake.settle([a.position], [a])
    s.intake.onEmptyRange({ topic: 'in', partition: 0, offset: '1' })
    s.intake.onEmptyRange({ topic: 'in', partition: 5, offset: '9' })
    expect(s.offsets.committable()).toEqual([{ topic: 'in', partition: 0, offset: '2' }])
  })
})

describe('intake with files of followed jobs consumed again (a partition assigned back)', () => {
  it('tracks a taken file without admitting it, settles a published one at once, admits the others', async () => {
    // Given an intake whose regained files say: offset 1 taken, offset 2 published, the rest new
    const answers: Record<string, 'taken' | 'published'> = { '1': 'taken', '2': 'published' }
    const { intake, released, offsets, observed } = setup({
      syncDecode: true,
      regained: { take: (p) => answers[p.offset] ?? 'new', revoked: () => undefined },
    })
    intake.onAssignment(new Assignment([{ topic: 'in', partitions: [0] }]))

    // When records 1, 2 and 3 come
    for (const [offset, id] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ] as const)
      await intake.onRecord(record(0, offset, id), control)

    // Then only the new one goes on to the batcher, and only it is shown to the adoptions
    expect(released.map((f) => f.event.externalId)).toEqual(['c'])
    expect(observed.map((p) => p.offset)).toEqual(['3'])
    // And the taken one stays in flight until its job's results settle it; the published one is settled
    expect(offsets.inFlight).toBe(2)
    intake.settle([{ topic: 'in', partition: 0, offset: '1' }], [])
    expect(offsets.inFlight).toBe(1)
    expect(offsets.committable()).toEqual([{ topic: 'in', partition: 0, offset: '3' }])
  })
})
