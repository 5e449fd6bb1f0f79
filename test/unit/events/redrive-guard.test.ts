// The loop guard of redrives: a record whose redrive attempt header reached REDRIVE_MAX_ATTEMPTS is
// not decoded but dead-lettered with REDRIVE_LIMIT_REACHED; others pass to the decoder unchanged.
import { describe, expect, it } from 'vitest'
import {
  REDRIVE_ATTEMPT_HEADER,
  type RedriveVerdict,
  redriveAttempt,
  withRedriveGuard,
} from '../../../src/events/redrive-guard.ts'
import type { DecodeResult } from '../../../src/model/files.ts'
import type { ConsumedRecord, RecordHeader } from '../../../src/model/records.ts'

const attempt = (value: string): RecordHeader => [REDRIVE_ATTEMPT_HEADER, Buffer.from(value)]

const record = (headers: RecordHeader[]): ConsumedRecord => ({
  topic: 'in',
  partition: 0,
  offset: '7',
  key: null,
  value: Buffer.from('{}'),
  headers,
  timestamp: 1,
})

const decoded: DecodeResult = {
  ok: true,
  event: {} as never,
  bytes: 2,
  entry: Buffer.from('{}'),
}

/** A guard with `maxAttempts` over a decoder that counts its calls and passes the control through. */
function guarded(maxAttempts: number) {
  const calls: unknown[] = []
  const verdicts: RedriveVerdict[] = []
  const decode = withRedriveGuard(
    (_r: ConsumedRecord, control: string) => {
      calls.push(control)
      return decoded
    },
    { maxAttempts },
    (v) => verdicts.push(v),
  )
  return { decode, calls, verdicts }
}

describe('redriveAttempt', () => {
  it.each([
    [[], 0],
    [[attempt('1')], 1],
    [[['other', Buffer.from('9')] as RecordHeader, attempt('2')], 2],
    // A repeated header cannot hide a higher count
    [[attempt('5'), attempt('2')], 5],
    // Not a number, or null: as if absent
    [[attempt('two')], 0],
    [[attempt('-3')], 0],
    [[[REDRIVE_ATTEMPT_HEADER, null] as RecordHeader], 0],
    [[attempt(' 3 ')], 3],
    // Too long to be a count: over any limit
    [[attempt('99999999999999999999')], 999_999],
  ] as Array<[RecordHeader[], number]>)('%j -> %i', (headers, expected) => {
    expect(redriveAttempt(headers)).toBe(expected)
  })
})

describe('withRedriveGuard', () => {
  it('passes records without the header to the decoder and reports nothing', () => {
    const { decode, calls, verdicts } = guarded(3)
    expect(decode(record([]), 'c1')).toBe(decoded)
    expect(decode(record([['traceparent', Buffer.from('00-x')]]), 'c2')).toBe(decoded)
    expect(calls).toEqual(['c1', 'c2'])
    expect(verdicts).toEqual([])
  })

  it('decodes attempts below the limit, and dead-letters the attempt that reaches it', () => {
    // Given REDRIVE_MAX_ATTEMPTS=3: processed when first consumed, after redrive 1 and redrive 2
    const { decode, calls, verdicts } = guarded(3)
    expect(decode(record([attempt('1')]), 'a1')).toBe(decoded)
    expect(decode(record([attempt('2')]), 'a2')).toBe(decoded)
    // When redrive 3 (and a later one) arrive
    const third = decode(record([attempt('3')]), 'a3')
    const fourth = decode(record([attempt('4')]), 'a4')
    // Then neither is decoded; both get the loop guard's reason, naming the setting
    expect(calls).toEqual(['a1', 'a2'])
    expect(third).toEqual({
      ok: false,
      failure: {
        reason: 'REDRIVE_LIMIT_REACHED',
        message: expect.stringContaining('redrive attempt 3 reached REDRIVE_MAX_ATTEMPTS=3'),
      },
    })
    expect(fourth).toMatchObject({ failure: { reason: 'REDRIVE_LIMIT_REACHED' } })
    expect(verdicts).toEqual(['processed', 'processed', 'limit_reached', 'limit_reached'])
  })

  it('with REDRIVE_MAX_ATTEMPTS=1 stops the first redrive', () => {
    const { decode, calls } = guarded(1)
    expect(decode(record([attempt('1')]), 'x')).toMatchObject({
      failure: { reason: 'REDRIVE_LIMIT_REACHED' },
    })
    expect(calls).toEqual([])
  })
})
