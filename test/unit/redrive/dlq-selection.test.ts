// Which DLQ records `npm run redrive -- dlq` sends again, and as what: selection by reason, failure
// time, source partition and offsets; one copy per source record (duplicates, redriven chains); the
// loop guard's records only when named; the headers a redriven record carries.
import { describe, expect, it } from 'vitest'
import {
  type DlqSelection,
  DlqSelector,
  redriveHeaders,
  redriveOfRecord,
} from '../../../scripts/redrive/dlq-selection.ts'
import type { ConsumedRecord, RecordHeader } from '../../../src/model/records.ts'

const text = (name: string, value: string): RecordHeader => [name, Buffer.from(value)]

let dlqOffset = 0
/** A DLQ record as the bridge writes it: the original headers, then the dlq.* set. */
function dlqRecord(
  failure: { reason: string; partition: number; offset: number; at?: string; topic?: string },
  extra: RecordHeader[] = [],
): ConsumedRecord {
  return {
    topic: 'in.dlq',
    partition: 0,
    offset: String(dlqOffset++),
    key: Buffer.from(`k-${failure.partition}-${failure.offset}`),
    value: Buffer.from(`v-${failure.partition}-${failure.offset}`),
    timestamp: 1000 + failure.offset,
    headers: [
      text('traceparent', '00-abc'),
      ...extra,
      text('dlq.reason', failure.reason),
      text('dlq.message', 'why'),
      text('dlq.source.topic', failure.topic ?? 'in'),
      text('dlq.source.partition', String(failure.partition)),
      text('dlq.source.offset', String(failure.offset)),
      text('dlq.failed.at', failure.at ?? '2026-12-01T10:00:00.000Z'),
    ],
  }
}

function select(selection: Partial<DlqSelection>, records: ConsumedRecord[]) {
  const selector = new DlqSelector({ reasons: 'all', inputTopic: 'in', ...selection })
  for (const r of records) selector.add(r)
  return selector.finish()
}

const sources = (r: ReturnType<typeof select>) =>
  r.selected.map((s) => `${s.source.partition}/${s.source.offset}`)

describe('DlqSelector', () => {
  it('selects by reason, counts every reason, and sends in source order per partition', () => {
    const result = select({ reasons: new Set(['MAPPING_FAILED']) }, [
      dlqRecord({ reason: 'MAPPING_FAILED', partition: 1, offset: 9 }),
      dlqRecord({ reason: 'INVALID_JSON', partition: 0, offset: 1 }),
      dlqRecord({ reason: 'MAPPING_FAILED', partition: 0, offset: 4 }),
      dlqRecord({ reason: 'MAPPING_FAILED', partition: 1, offset: 2 }),
    ])
    expect(sources(result)).toEqual(['0/4', '1/2', '1/9'])
    expect(Object.fromEntries(result.byReason)).toEqual({
      MAPPING_FAILED: { read: 3, selected: 3 },
      INVALID_JSON: { read: 1, selected: 0 },
    })
    expect(result.skipped.notSelected).toBe(1)
    expect(result.read).toBe(4)
  })

  it('selects by failure time: since inclusive, until exclusive; a record without a readable time is out', () => {
    const at = (h: number) => `2026-12-01T${String(h).padStart(2, '0')}:00:00.000Z`
    const records = [8, 9, 10, 11].map((h, i) =>
      dlqRecord({ reason: 'INVALID_EVENT', partition: 0, offset: i, at: at(h) }),
    )
    records.push(dlqRecord({ reason: 'INVALID_EVENT', partition: 0, offset: 9, at: 'garbage' }))
    const result = select({ sinceMs: Date.parse(at(9)), untilMs: Date.parse(at(11)) }, records)
    expect(sources(result)).toEqual(['0/1', '0/2'])
    expect(result.skipped.notSelected).toBe(3)
  })

  it('selects by source partition and an inclusive offset range', () => {
    const records = [0, 1, 2, 3].flatMap((o) =>
      [0, 1].map((p) => dlqRecord({ reason: 'EMPTY_VALUE', partition: p, offset: o })),
    )
    expect(sources(select({ partition: 1, fromOffset: 1n, toOffset: 2n }, records))).toEqual(['1/1', '1/2'])
  })

  it('sends one copy of a source record written to the DLQ twice', () => {
    const result = select({}, [
      dlqRecord({ reason: 'INVALID_JSON', partition: 0, offset: 3 }),
      dlqRecord({ reason: 'INVALID_JSON', partition: 0, offset: 3 }),
    ])
    expect(sources(result)).toEqual(['0/3'])
    expect(result.skipped.duplicate).toBe(1)
  })

  it('sends a record redriven and failed again once, as its latest DLQ record (whatever the read order)', () => {
    // Given the first failure at 0/3, its redrive at 0/7 failed again, and that one's redrive at 0/12 too
    const first = dlqRecord({ reason: 'MAPPING_FAILED', partition: 0, offset: 3 })
    const previous = (offset: number) => [
      text('previous.dlq.reason', 'MAPPING_FAILED'),
      text('previous.dlq.source.topic', 'in'),
      text('previous.dlq.source.partition', '0'),
      text('previous.dlq.source.offset', String(offset)),
      text('redrive.attempt', offset === 3 ? '1' : '2'),
    ]
    const second = dlqRecord({ reason: 'MAPPING_FAILED', partition: 0, offset: 7 }, previous(3))
    const third = dlqRecord({ reason: 'INVALID_EVENT', partition: 0, offset: 12 }, previous(7))
    // When all are read, in any order
    for (const order of [
      [first, second, third],
      [third, second, first],
    ]) {
      const result = select({}, order)
      // Then only the latest goes, with the next attempt number
      expect(sources(result)).toEqual(['0/12'])
      expect(result.selected[0]?.attempt).toBe(3)
      expect(result.skipped.superseded).toBe(2)
    }
    // And selecting by the earlier reason sends nothing: that chain's latest failure is another
    expect(select({ reasons: new Set(['MAPPING_FAILED']) }, [first, second, third]).selected).toEqual([])
  })

  it('leaves records of the loop guard alone unless their reason is named', () => {
    const guarded = dlqRecord({ reason: 'REDRIVE_LIMIT_REACHED', partition: 0, offset: 5 }, [
      text('redrive.attempt', '3'),
    ])
    const all = select({}, [guarded])
    expect(all.selected).toEqual([])
    expect(all.skipped.limitReached).toBe(1)
    const named = select({ reasons: new Set(['REDRIVE_LIMIT_REACHED']) }, [guarded])
    expect(named.selected.map((s) => s.attempt)).toEqual([4])
  })

  it('never sends records of another source topic, without their value, or without DLQ headers', () => {
    const noHeaders: ConsumedRecord = { ...dlqRecord({ reason: 'X', partition: 0, offset: 1 }), headers: [] }
    const result = select({}, [
      dlqRecord({ reason: 'INVALID_JSON', partition: 0, offset: 1, topic: 'other' }),
      dlqRecord({ reason: 'INVALID_JSON', partition: 0, offset: 2 }, [text('dlq.omitted', 'value')]),
      noHeaders,
    ])
    expect(result.selected).toEqual([])
    expect(result.skipped).toMatchObject({ otherTopic: 1, valueOmitted: 1, notDlq: 1 })
  })

  it('sends the same key, value and timestamp to the source partition, with the failure as previous.dlq.* and redrive.attempt', () => {
    const record = dlqRecord({ reason: 'MAPPING_FAILED', partition: 2, offset: 8 }, [text('x', 'y')])
    const [pick] = select({}, [record]).selected
    expect(pick?.at).toEqual({ partition: 0, offset: record.offset })
    // When the record is read again at its DLQ position to be sent
    const redrive = redriveOfRecord(pick as NonNullable<typeof pick>, record)
    expect(redrive.message.key).toEqual(record.key)
    expect(redrive.message.value).toEqual(record.value)
    expect(redrive.message.timestamp).toBe(1008)
    expect(redrive.message.partition).toBe(2)
    expect(redrive.message.headers?.map(([n, v]) => `${n}=${v?.toString()}`)).toEqual([
      'traceparent=00-abc',
      'x=y',
      'previous.dlq.reason=MAPPING_FAILED',
      'previous.dlq.message=why',
      'previous.dlq.source.topic=in',
      'previous.dlq.source.partition=2',
      'previous.dlq.source.offset=8',
      'previous.dlq.failed.at=2026-12-01T10:00:00.000Z',
      'redrive.attempt=1',
    ])
  })
})

describe('redriveHeaders', () => {
  it('replaces every redrive.attempt header by one, last', () => {
    const headers = redriveHeaders(
      [text('redrive.attempt', '1'), text('a', 'b'), text('redrive.attempt', '1')],
      2,
    )
    expect(headers.map(([n, v]) => `${n}=${v?.toString()}`)).toEqual(['a=b', 'redrive.attempt=2'])
  })
})
