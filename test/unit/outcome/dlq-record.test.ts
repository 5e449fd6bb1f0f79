// The DLQ record of a MAPPING_FAILED event names the mapping's field in a header of its own; a record
// that failed before keeps exactly one set of dlq.* headers, the earlier set as previous.dlq.*.
import { describe, expect, it } from 'vitest'
import type { ConsumedRecord, RecordHeader } from '../../../src/model/records.ts'
import { DLQ_HEADERS, dlqCopy, withPreviousFailure } from '../../../src/outcome/dlq-record.ts'

const record: ConsumedRecord = {
  topic: 'in',
  partition: 0,
  offset: '4',
  key: null,
  value: Buffer.from('{}'),
  headers: [['h', Buffer.from('v')]],
  timestamp: 5,
}

describe('DLQ record', () => {
  it('adds dlq.mapping.field after the other DLQ headers when the failure names a field', () => {
    const failure = {
      reason: 'MAPPING_FAILED' as const,
      message: 'url: gave no value for this event',
      field: 'url',
    }
    const names = dlqCopy(record, failure, '2026-01-01T00:00:00.000Z').headers?.map(([n]) => n)
    expect(names).toEqual([
      'h',
      DLQ_HEADERS.reason,
      DLQ_HEADERS.message,
      DLQ_HEADERS.topic,
      DLQ_HEADERS.partition,
      DLQ_HEADERS.offset,
      DLQ_HEADERS.timestamp,
      DLQ_HEADERS.failedAt,
      'dlq.mapping.field',
    ])
    expect(dlqCopy(record, failure, 'x').headers?.at(-1)?.[1]).toEqual(Buffer.from('url'))
  })

  it('has no such header for other failures', () => {
    const names = dlqCopy(record, { reason: 'INVALID_JSON', message: 'x' }, 'x').headers?.map(([n]) => n)
    expect(names).not.toContain('dlq.mapping.field')
  })
})

describe('a record that failed before (redriven, or copied by hand with its DLQ headers)', () => {
  const text = (name: string, v: string): RecordHeader => [name, Buffer.from(v)]
  const failure = { reason: 'INVALID_EVENT' as const, message: 'url: not a URL' }
  const names = (headers: readonly RecordHeader[] | undefined) => headers?.map(([n]) => n) ?? []

  it('keeps exactly one set of dlq.* headers: the earlier set becomes previous.dlq.*, an older one is dropped', () => {
    // Given a record carrying the current DLQ set of its last failure and an older previous set
    const redriven: ConsumedRecord = {
      ...record,
      headers: [
        text('h', 'v'),
        text('previous.dlq.reason', 'EMPTY_VALUE'),
        text('dlq.reason', 'MAPPING_FAILED'),
        text('dlq.source.offset', '3'),
        text('redrive.attempt', '2'),
        text('dlq.mapping.field', 'url'),
      ],
    }
    // When it fails again
    const headers = dlqCopy(redriven, failure, '2026-01-02T00:00:00.000Z').headers
    // Then its own headers keep their order, the last failure's set follows renamed, then the new set
    expect(names(headers)).toEqual([
      'h',
      'redrive.attempt',
      'previous.dlq.reason',
      'previous.dlq.source.offset',
      'previous.dlq.mapping.field',
      DLQ_HEADERS.reason,
      DLQ_HEADERS.message,
      DLQ_HEADERS.topic,
      DLQ_HEADERS.partition,
      DLQ_HEADERS.offset,
      DLQ_HEADERS.timestamp,
      DLQ_HEADERS.failedAt,
    ])
    expect(headers?.find(([n]) => n === 'previous.dlq.reason')?.[1]?.toString()).toBe('MAPPING_FAILED')
    expect(headers?.filter(([n]) => n === DLQ_HEADERS.reason)).toHaveLength(1)
  })

  it('keeps a previous.dlq.* set as it came when the record has no current set (as npm run redrive sends it)', () => {
    const previous = [
      text('h', 'v'),
      text('previous.dlq.reason', 'MAPPING_FAILED'),
      text('redrive.attempt', '1'),
    ]
    expect(withPreviousFailure(previous)).toBe(previous)
    const headers = dlqCopy({ ...record, headers: previous }, failure, 'x').headers
    expect(names(headers).slice(0, 3)).toEqual(['h', 'previous.dlq.reason', 'redrive.attempt'])
    expect(names(headers).filter((n) => n.startsWith('previous.dlq.'))).toEqual(['previous.dlq.reason'])
  })

  it('copies the headers of a record that never failed as they are', () => {
    expect(withPreviousFailure(record.headers)).toBe(record.headers)
  })
})
