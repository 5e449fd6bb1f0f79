// The DLQ record of a MAPPING_FAILED event names the mapping's field in a header of its own.
import { describe, expect, it } from 'vitest'
import type { ConsumedRecord } from '../../../src/model/records.ts'
import { DLQ_HEADERS, dlqCopy } from '../../../src/outcome/dlq-record.ts'

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
