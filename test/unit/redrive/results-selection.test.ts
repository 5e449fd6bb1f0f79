// Which FAILED files `npm run redrive -- results` sends again: a file's latest result decides; the
// selection by reason class and completion time; the redrive of the source record read.
import { describe, expect, it } from 'vitest'
import { redriveOfRecord } from '../../../scripts/redrive/dlq-selection.ts'
import {
  FailedResultSelector,
  pickOfFile,
  type ResultsSelection,
} from '../../../scripts/redrive/results-selection.ts'
import type { FailureClass } from '../../../src/model/failure-reasons.ts'
import type { FileImportResult } from '../../../src/outcome/outcome-event.ts'

let offset = 0
function result(
  externalId: string,
  state: FileImportResult['state'],
  reason: string | null,
  over: Partial<FileImportResult> = {},
): FileImportResult {
  return {
    systemName: 'legacy',
    externalId,
    state,
    mediaId: state === 'FAILED' ? null : 'm-1',
    reason,
    importJobId: 'job-1',
    sourceTopic: 'in',
    sourcePartition: 0,
    sourceOffset: offset++,
    eventTime: 0,
    completedAt: 1000,
    kind: 'FILE',
    ...over,
  }
}

function select(selection: Partial<ResultsSelection>, results: FileImportResult[]) {
  const selector = new FailedResultSelector({ classes: 'all', inputTopic: 'in', ...selection })
  for (const r of results) selector.add(r)
  return selector.finish()
}

const UPLOAD = 'Could not upload file: ECONNREFUSED'

describe('FailedResultSelector', () => {
  it('selects FAILED results by reason class and counts every class', () => {
    const found = select({ classes: new Set<FailureClass>(['upload', 'timeout']) }, [
      result('a', 'FAILED', UPLOAD),
      result('b', 'FAILED', 'timeout'),
      result('c', 'FAILED', 'Invalid mediaType: "x" is not configured'),
      result('d', 'SUCCESS', null),
    ])
    expect(found.selected.map((f) => f.result.externalId)).toEqual(['a', 'b'])
    expect(found.byClass.get('upload')).toEqual({ failed: 1, selected: 1 })
    expect(found.byClass.get('media-type')).toEqual({ failed: 1, selected: 0 })
    expect(found.states).toEqual({ SUCCESS: 1, SKIPPED: 0, FAILED: 3 })
    expect(found.skipped.notSelected).toBe(1)
  })

  it('selects by completion time: since inclusive, until exclusive', () => {
    const found = select(
      { sinceMs: 2000, untilMs: 4000 },
      [1000, 2000, 3000, 4000].map((t, i) => result(`f${i}`, 'FAILED', UPLOAD, { completedAt: t })),
    )
    expect(found.selected.map((f) => f.result.externalId)).toEqual(['f1', 'f2'])
  })

  it('takes a file only when its latest result is a selected FAILED one', () => {
    const found = select({ classes: new Set<FailureClass>(['upload']) }, [
      // imported later: done
      result('a', 'FAILED', UPLOAD),
      result('a', 'SUCCESS', null),
      // failed, imported, failed again: the latest goes
      result('b', 'FAILED', UPLOAD),
      result('b', 'SKIPPED', 'already exists'),
      result('b', 'FAILED', UPLOAD),
      // its latest failure is of another class
      result('c', 'FAILED', UPLOAD),
      result('c', 'FAILED', 'timeout'),
    ])
    expect(found.selected.map((f) => [f.result.externalId, f.source.offset])).toEqual([
      ['b', String(offset - 3)],
    ])
    expect(found.skipped.superseded).toBe(3)
  })

  it('counts a result published twice once, and never takes a record of another topic', () => {
    const twice = result('a', 'FAILED', UPLOAD)
    const found = select({}, [twice, { ...twice }, result('b', 'FAILED', UPLOAD, { sourceTopic: 'other' })])
    expect(found.selected.map((f) => f.result.externalId)).toEqual(['a'])
    expect(found.skipped).toMatchObject({ duplicate: 1, otherTopic: 1, superseded: 0 })
  })

  it('orders the files by source partition, then offset', () => {
    const found = select({}, [
      result('a', 'FAILED', UPLOAD, { sourcePartition: 1, sourceOffset: 2 }),
      result('b', 'FAILED', UPLOAD, { sourcePartition: 0, sourceOffset: 10 }),
      result('c', 'FAILED', UPLOAD, { sourcePartition: 0, sourceOffset: 9 }),
    ])
    expect(found.selected.map((f) => f.result.externalId)).toEqual(['c', 'b', 'a'])
  })
})

describe('the redrive of a FAILED file (pickOfFile, redriveOfRecord)', () => {
  it('sends the record read with the same key, value, headers and timestamp to its partition, one attempt more', () => {
    const file = { result: result('a', 'FAILED', UPLOAD), source: { topic: 'in', partition: 2, offset: '7' } }
    const pick = pickOfFile(file)
    expect(pick.at).toEqual({ partition: 2, offset: '7' })
    expect(pick.attempt).toBe(0)
    const redrive = redriveOfRecord(pick, {
      topic: 'in',
      partition: 2,
      offset: '7',
      key: Buffer.from('a'),
      value: Buffer.from('{"externalId":"a"}'),
      headers: [
        ['traceparent', Buffer.from('00-x')],
        ['redrive.attempt', Buffer.from('1')],
      ],
      timestamp: 42,
    })
    expect(redrive.pick.attempt).toBe(2)
    expect(redrive.message).toEqual({
      key: Buffer.from('a'),
      value: Buffer.from('{"externalId":"a"}'),
      headers: [
        ['traceparent', Buffer.from('00-x')],
        ['redrive.attempt', Buffer.from('2')],
      ],
      timestamp: 42,
      partition: 2,
    })
  })
})
