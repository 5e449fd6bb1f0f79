// judgeStatus and matchOutcomes: what each job status means for the files of its batch, as a table.
import { describe, expect, it } from 'vitest'
import type { JobStatus } from '../../../src/import/import-client.ts'
import {
  failedJob,
  type JobFacts,
  judgeStatus,
  matchOutcomes,
  unsentJob,
} from '../../../src/jobs/job-results.ts'
import { NO_RESULT_REASON, TIMEOUT_REASON } from '../../../src/model/failure-reasons.ts'
import type { Batch } from '../../../src/model/files.ts'
import type { FileOutcome } from '../../../src/model/outcomes.ts'
import { batchOfFiles, pendingFile } from '../../support/pending-file.ts'

function batchOf(...ids: string[]): Batch {
  return batchOfFiles(ids.map((id) => pendingFile(id)))
}

const item = (
  externalId: string,
  state: FileOutcome['state'],
  extra: Partial<FileOutcome> = {},
): FileOutcome => ({
  externalId,
  systemName: 'archive',
  state,
  mediaId: state === 'failed' ? undefined : `m-${externalId}`,
  reason: state === 'failed' ? 'Could not upload file' : undefined,
  ...extra,
})

const STARTED: JobStatus = { finished: false, state: 'started', startedAt: undefined }
const LOST: JobStatus = { finished: true, state: 'lost' }
const FAILED: JobStatus = { finished: true, state: 'failed' }
const SUCCESS: JobStatus = {
  finished: true,
  state: 'success',
  files: [item('a', 'imported'), item('b', 'skipped', { reason: 'already exists' }), item('c', 'failed')],
}

/** An old job (past the grace window) with resubmits left, read for the first time. */
const facts = (over: Partial<JobFacts> = {}): JobFacts => ({
  canResubmit: true,
  ageMs: 120_000,
  graceMs: 60_000,
  wasReadIncomplete: false,
  ...over,
})

describe('judgeStatus', () => {
  it.each([
    // status, resubmits left, verdict, per-file [state, reason] for a settled job
    ['started', STARTED, true, 'running', undefined],
    ['started, no resubmit left', STARTED, false, 'running', undefined],
    ['lost', LOST, true, 'resubmit', undefined],
    [
      'lost, no resubmit left',
      LOST,
      false,
      'concluded',
      [
        ['failed', 'import job lost'],
        ['failed', 'import job lost'],
        ['failed', 'import job lost'],
      ],
    ],
    [
      'failed as a whole',
      FAILED,
      true,
      'concluded',
      [
        ['failed', 'import job failed'],
        ['failed', 'import job failed'],
        ['failed', 'import job failed'],
      ],
    ],
    [
      'success',
      SUCCESS,
      true,
      'concluded',
      [
        ['imported', undefined],
        ['skipped', 'already exists'],
        ['failed', 'Could not upload file'],
      ],
    ],
  ] as const)('%s -> %s', (_name, status, canResubmit, kind, perFile) => {
    const verdict = judgeStatus(status, batchOf('a', 'b', 'c'), facts({ canResubmit }))
    expect(verdict.kind).toBe(kind)
    if (verdict.kind === 'concluded')
      expect(verdict.outcomes.map((o) => [o.outcome.state, o.outcome.reason])).toEqual(perFile)
  })

  it('names the job-level failure and counts the per-file states', () => {
    expect(judgeStatus(FAILED, batchOf('a'), facts())).toMatchObject({ failure: 'import job failed' })
    expect(judgeStatus(SUCCESS, batchOf('a', 'b', 'c'), facts())).toMatchObject({
      counts: { imported: 1, skipped: 1, failed: 1 },
    })
  })

  it('a lost job within the grace window after its submit is not visible yet: no resubmit, no FAILED', () => {
    expect(judgeStatus(LOST, batchOf('a'), facts({ ageMs: 1000 })).kind).toBe('not-visible')
    expect(judgeStatus(LOST, batchOf('a'), facts({ ageMs: 1000, canResubmit: false })).kind).toBe(
      'not-visible',
    )
    expect(judgeStatus(LOST, batchOf('a'), facts({ ageMs: 60_000 })).kind).toBe('resubmit')
    expect(judgeStatus(LOST, batchOf('a'), facts({ ageMs: 1000, graceMs: 0 })).kind).toBe('resubmit')
  })

  it('a finished job without results for some files is read once more, then those files FAILED', () => {
    const partial: JobStatus = { finished: true, state: 'success', files: [item('a', 'imported')] }
    expect(judgeStatus(partial, batchOf('a', 'b', 'c'), facts())).toEqual({ kind: 'incomplete', missing: 2 })
    const verdict = judgeStatus(partial, batchOf('a', 'b', 'c'), facts({ wasReadIncomplete: true }))
    expect(verdict).toMatchObject({ kind: 'concluded', missing: 2 })
    if (verdict.kind === 'concluded')
      expect(verdict.outcomes.map((o) => o.outcome.reason)).toEqual([
        undefined,
        NO_RESULT_REASON,
        NO_RESULT_REASON,
      ])
  })

  it('results for ids not in the batch are handed back as unexpected, never as outcomes', () => {
    const extra: JobStatus = {
      finished: true,
      state: 'success',
      files: [item('a', 'imported'), item('zz', 'imported'), item('a', 'skipped')],
    }
    const verdict = judgeStatus(extra, batchOf('a'), facts())
    expect(verdict).toMatchObject({ kind: 'concluded', missing: 0 })
    if (verdict.kind !== 'concluded') throw new Error('not concluded')
    expect(verdict.outcomes.map((o) => o.file.event.externalId)).toEqual(['a'])
    expect(verdict.unexpected?.map((r) => [r.externalId, r.state])).toEqual([
      ['a', 'skipped'],
      ['zz', 'imported'],
    ])
  })
})

describe('matchOutcomes', () => {
  it('matches by externalId whatever the order of the results', () => {
    const { outcomes } = matchOutcomes(batchOf('a', 'b'), [item('b', 'imported'), item('a', 'skipped')])
    expect(outcomes.map((o) => [o.file.event.externalId, o.outcome.state])).toEqual([
      ['a', 'skipped'],
      ['b', 'imported'],
    ])
  })

  it('gives a file without a result FAILED with the reason that says so', () => {
    const { outcomes, counts, missing } = matchOutcomes(batchOf('a', 'b'), [item('a', 'imported')])
    expect(outcomes[1]?.outcome).toEqual({ state: 'failed', reason: NO_RESULT_REASON })
    expect(counts).toEqual({ imported: 1, skipped: 0, failed: 1 })
    expect(missing).toBe(1)
  })

  it('hands repeated externalIds their results in order', () => {
    const { outcomes } = matchOutcomes(batchOf('a', 'a'), [item('a', 'imported'), item('a', 'skipped')])
    expect(outcomes.map((o) => o.outcome.state)).toEqual(['imported', 'skipped'])
  })
})

describe('failedJob and unsentJob', () => {
  it('fails every file of a batch with one reason, in batch order, with or without a job', () => {
    const batch = batchOf('a', 'b')
    const job = failedJob('j1', batch, TIMEOUT_REASON)
    expect(job.jobId).toBe('j1')
    expect(job.batch).toBe(batch)
    expect(job.outcomes.map((o) => [o.file, o.outcome])).toEqual([
      [batch.files[0], { state: 'failed', reason: 'timeout' }],
      [batch.files[1], { state: 'failed', reason: 'timeout' }],
    ])
    expect(failedJob(null, batch, 'x').jobId).toBeNull()
  })

  it('settles a file that can never be sent alone, without a job, in an oversized batch named after its offset', () => {
    const file = {
      ...pendingFile('big', { bytes: 600_000 }),
      position: { topic: 'in', partition: 3, offset: '42' },
    }
    const job = unsentJob(file, 'the entry is larger than any import request')
    expect(job.jobId).toBeNull()
    expect(job.batch).toMatchObject({
      id: 'unsent-3-42',
      systemName: 'archive',
      kind: 'file',
      bytes: 600_000,
    })
    expect(job.batch.closedBy).toBe('oversized')
    expect(job.outcomes).toEqual([
      { file, outcome: { state: 'failed', reason: 'the entry is larger than any import request' } },
    ])
  })
})
