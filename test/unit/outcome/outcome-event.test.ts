// buildResultEvent / resultKey: one result event per file from its import outcome.
import { describe, expect, it } from 'vitest'
import { fileEntryJson } from '../../../src/import/file-entry.ts'
import type { PendingFile } from '../../../src/model/files.ts'
import type { FileOutcome } from '../../../src/model/outcomes.ts'
import { buildResultEvent, MAX_REASON_CHARS, resultKey } from '../../../src/outcome/outcome-event.ts'

const event = {
  externalId: 'ext-9',
  url: 'https://files.example/9.pdf',
  fileName: '9.pdf',
  mediaType: 'file',
  kind: 'file' as const,
  metadata: {},
  systemName: 'archive',
  occurredAt: 1_700_000_000_123,
}
const file: PendingFile = {
  event,
  entry: Buffer.from(fileEntryJson(event)),
  position: { topic: 'legacy.file-created', partition: 3, offset: '4711' },
  consumedAt: 1_700_000_001_000,
  bytes: 120,
}

const COMPLETED = 1_700_000_009_999

function outcome(o: Partial<FileOutcome> & Pick<FileOutcome, 'state'>): FileOutcome {
  return { externalId: 'ext-9', systemName: 'archive', mediaId: undefined, reason: undefined, ...o }
}

describe('buildResultEvent', () => {
  it('imported -> SUCCESS with the mediaId and no reason, source position and times carried', () => {
    // Given an imported outcome of job j1
    // When building the result
    const r = buildResultEvent(file, outcome({ state: 'imported', mediaId: 'm-1' }), 'j1', COMPLETED)
    // Then every field is set from the file, the outcome and the arguments
    expect(r).toEqual({
      systemName: 'archive',
      externalId: 'ext-9',
      state: 'SUCCESS',
      mediaId: 'm-1',
      reason: null,
      importJobId: 'j1',
      sourceTopic: 'legacy.file-created',
      sourcePartition: 3,
      sourceOffset: 4711,
      eventTime: 1_700_000_000_123,
      completedAt: COMPLETED,
      kind: 'FILE',
    })
  })

  it('skipped -> SKIPPED with the existing mediaId and the reason', () => {
    const r = buildResultEvent(
      file,
      outcome({ state: 'skipped', mediaId: 'm-old', reason: 'already exists' }),
      'j1',
      COMPLETED,
    )
    expect(r).toMatchObject({
      state: 'SKIPPED',
      mediaId: 'm-old',
      reason: 'already exists',
      importJobId: 'j1',
    })
  })

  it('skipped without a reason -> reason null (not "unknown")', () => {
    const r = buildResultEvent(file, outcome({ state: 'skipped', mediaId: 'm-old' }), 'j1', COMPLETED)
    expect(r.reason).toBeNull()
  })

  it('failed -> FAILED with the reason and no mediaId', () => {
    const r = buildResultEvent(
      file,
      outcome({ state: 'failed', reason: 'Could not upload file: HTTP 404' }),
      'j2',
      COMPLETED,
    )
    expect(r).toMatchObject({
      state: 'FAILED',
      mediaId: null,
      reason: 'Could not upload file: HTTP 404',
      importJobId: 'j2',
    })
  })

  it('failed without a reason -> reason "unknown"', () => {
    expect(buildResultEvent(file, outcome({ state: 'failed' }), 'j2', COMPLETED).reason).toBe('unknown')
  })

  it('a failure the bridge decided, before any job -> FAILED with a null job id', () => {
    const r = buildResultEvent(
      file,
      { state: 'failed', reason: 'API_BAD_REQUEST: files[0].url' },
      null,
      COMPLETED,
    )
    expect(r).toMatchObject({
      state: 'FAILED',
      mediaId: null,
      reason: 'API_BAD_REQUEST: files[0].url',
      importJobId: null,
      sourceTopic: 'legacy.file-created',
      sourcePartition: 3,
      sourceOffset: 4711,
      completedAt: COMPLETED,
    })
  })

  it("takes systemName and externalId from the consumed event, not from the API's outcome", () => {
    const r = buildResultEvent(
      file,
      outcome({ state: 'imported', mediaId: 'm', externalId: 'other', systemName: 'other' }),
      'j',
      COMPLETED,
    )
    expect([r.systemName, r.externalId]).toEqual(['archive', 'ext-9'])
  })
})

describe('bounded free text', () => {
  it('cuts a reason longer than MAX_REASON_CHARS, so a result event always fits its topic', () => {
    const long = 'x'.repeat(1_000_000)
    const r = buildResultEvent(file, outcome({ state: 'failed', reason: long }), 'j', COMPLETED)
    expect(r.reason).toHaveLength(MAX_REASON_CHARS)
    expect(r.reason?.endsWith('…')).toBe(true)
    const exact = 'y'.repeat(MAX_REASON_CHARS)
    expect(buildResultEvent(file, outcome({ state: 'failed', reason: exact }), 'j', 1).reason).toBe(exact)
  })
})

describe('resultKey', () => {
  it('is systemName:externalId', () => {
    expect(resultKey({ systemName: 'archive', externalId: 'ext-9' })).toBe('archive:ext-9')
  })

  it('is the same for every result of one file', () => {
    const a = buildResultEvent(file, outcome({ state: 'failed', reason: 'x' }), 'j1', 1)
    const b = buildResultEvent(file, outcome({ state: 'imported', mediaId: 'm' }), 'j2', 2)
    expect(resultKey(a)).toBe(resultKey(b))
    expect(resultKey(a)).toBe('archive:ext-9')
  })
})
