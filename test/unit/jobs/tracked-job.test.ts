// TrackedJob: what a webhook and each status read mean for one import job, as a table of verdict x state.
import { describe, expect, it } from 'vitest'
import type { JobStatus } from '../../../src/import/import-client.ts'
import type { HoldMark } from '../../../src/jobs/api-gate.ts'
import type { StatusVerdict } from '../../../src/jobs/job-results.ts'
import {
  MAX_RESUBMITS,
  type NextStep,
  TrackedJob,
  type TrackedJobPolicy,
} from '../../../src/jobs/tracked-job.ts'
import type { Batch } from '../../../src/model/files.ts'
import { batchOfFiles, pendingFile } from '../../support/pending-file.ts'

const SUBMITTED_AT = 1_000_000

function batchOf(...ids: string[]): Batch {
  return batchOfFiles(ids.map((id) => pendingFile(id)))
}

function trackedJob(policy: Partial<TrackedJobPolicy> = {}, resubmits = 0): TrackedJob {
  return new TrackedJob(
    { id: 'j1', batch: batchOf('a'), submittedAt: SUBMITTED_AT, resubmits },
    { jobVisibilityGraceMs: 0, ...policy },
    SUBMITTED_AT + 5,
  )
}

const RUNNING: StatusVerdict = { kind: 'running' }
const NOT_VISIBLE: StatusVerdict = { kind: 'not-visible' }
const INCOMPLETE: StatusVerdict = { kind: 'incomplete', missing: 1 }
const RESUBMIT: StatusVerdict = { kind: 'resubmit' }
const CONCLUDED: StatusVerdict = { kind: 'concluded', outcomes: [] }

/**
 * The states a job can be in when a read returns, each made from a fresh job by its transitions; the
 * read returns at `SUBMITTED_AT + 1000`.
 */
const STATES: Record<string, () => TrackedJob> = {
  'no webhook': () => {
    const job = trackedJob()
    job.readStarted(SUBMITTED_AT + 10)
    return job
  },
  'webhook before the read': () => {
    const job = trackedJob()
    job.webhook()
    job.readStarted(SUBMITTED_AT + 10)
    return job
  },
  'webhook during the read': () => {
    const job = trackedJob()
    job.readStarted(SUBMITTED_AT + 10)
    job.webhook()
    return job
  },
  'running for jobTimeoutMs': () => {
    // followed at SUBMITTED_AT + 5 (its submit's answer): 5 ms counted at the read's start
    const job = trackedJob({ jobTimeoutMs: 5 })
    job.readStarted(SUBMITTED_AT + 10)
    return job
  },
}

const VERDICTS: Record<string, StatusVerdict> = {
  running: RUNNING,
  'not-visible': NOT_VISIBLE,
  incomplete: INCOMPLETE,
  resubmit: RESUBMIT,
  concluded: CONCLUDED,
}

describe('TrackedJob.readSaw: verdict x state -> one next step', () => {
  it.each<[string, string, NextStep['step'], boolean | undefined]>([
    ['running', 'no webhook', 'keep-following', false],
    ['running', 'webhook before the read', 'keep-following', true],
    ['running', 'webhook during the read', 'read-again', undefined],
    ['running', 'running for jobTimeoutMs', 'time-out', undefined],
    ['not-visible', 'no webhook', 'keep-following', false],
    ['not-visible', 'webhook before the read', 'keep-following', false],
    ['not-visible', 'webhook during the read', 'keep-following', false],
    ['not-visible', 'running for jobTimeoutMs', 'keep-following', false],
    ['incomplete', 'no webhook', 'keep-following', false],
    ['incomplete', 'webhook before the read', 'keep-following', false],
    ['incomplete', 'webhook during the read', 'keep-following', false],
    ['incomplete', 'running for jobTimeoutMs', 'keep-following', false],
    ['resubmit', 'no webhook', 'resubmit', undefined],
    ['resubmit', 'webhook before the read', 'resubmit', undefined],
    ['resubmit', 'webhook during the read', 'resubmit', undefined],
    ['resubmit', 'running for jobTimeoutMs', 'resubmit', undefined],
    ['concluded', 'no webhook', 'finish', undefined],
    ['concluded', 'webhook before the read', 'finish', undefined],
    ['concluded', 'webhook during the read', 'finish', undefined],
    ['concluded', 'running for jobTimeoutMs', 'finish', undefined],
  ])('%s, %s -> %s (slot taken back: %s)', (verdictName, state, expected, slotTakenBack) => {
    const verdict = VERDICTS[verdictName] as StatusVerdict
    const job = (STATES[state] as () => TrackedJob)()
    const step = job.readSaw(verdict, SUBMITTED_AT + 1000)
    expect(step.step).toBe(expected)
    if (step.step === 'keep-following') {
      expect(step.verdict).toBe(verdict)
      expect(step.slotTakenBack).toBe(slotTakenBack)
    }
    if (step.step === 'finish') expect(step.verdict).toBe(verdict)
    // Whatever the step, the read is over
    expect(job.isReading).toBe(false)
  })
})

describe('TrackedJob webhooks', () => {
  it('a webhook with no read in flight means read now, and frees the slot once', () => {
    const job = trackedJob()
    expect(job.webhook()).toEqual({ meaning: 'read-now', freesSlot: true })
    expect(job.doneByWebhook).toBe(true)
    expect(job.webhook()).toEqual({ meaning: 'read-now', freesSlot: false })
  })

  it('a webhook during a read means read after it; a further one is only noted', () => {
    const job = trackedJob()
    job.readStarted(SUBMITTED_AT + 10)
    expect(job.webhook()).toEqual({ meaning: 'read-after-current', freesSlot: true })
    expect(job.recheck).toBe(true)
    expect(job.webhook()).toEqual({ meaning: 'noted', freesSlot: false })
  })

  it('a read that sees the job running after its webhook takes the slot back, and the next webhook frees it again', () => {
    const job = trackedJob()
    job.webhook()
    job.readStarted(SUBMITTED_AT + 10)
    expect(job.readSaw(RUNNING, SUBMITTED_AT + 20)).toEqual({
      step: 'keep-following',
      verdict: RUNNING,
      slotTakenBack: true,
    })
    expect(job.doneByWebhook).toBe(false)
    expect(job.webhook().freesSlot).toBe(true)
  })

  it('read-again keeps the slot free and clears the recheck; the read after it decides', () => {
    const job = trackedJob()
    job.readStarted(SUBMITTED_AT + 10)
    job.webhook()
    expect(job.readSaw(RUNNING, SUBMITTED_AT + 20)).toEqual({ step: 'read-again' })
    expect(job.recheck).toBe(false)
    expect(job.doneByWebhook).toBe(true)
    expect(job.readStarted(SUBMITTED_AT + 20)).toBe(true)
    expect(job.readSaw(RUNNING, SUBMITTED_AT + 30)).toMatchObject({
      step: 'keep-following',
      slotTakenBack: true,
    })
  })

  it('a recheck is kept over a read that did not see the job running', () => {
    const job = trackedJob()
    job.readStarted(SUBMITTED_AT + 10)
    job.webhook()
    job.readSaw(NOT_VISIBLE, SUBMITTED_AT + 20)
    expect(job.recheck).toBe(true)
    job.readStarted(SUBMITTED_AT + 30)
    expect(job.readSaw(RUNNING, SUBMITTED_AT + 40)).toEqual({ step: 'read-again' })
  })
})

describe('TrackedJob reads', () => {
  it('starts one read at a time and remembers when it was asked', () => {
    const job = trackedJob()
    expect(job.askedAt).toBe(SUBMITTED_AT + 5)
    expect(job.readStarted(SUBMITTED_AT + 100)).toBe(true)
    expect(job.isReading).toBe(true)
    expect(job.readStarted(SUBMITTED_AT + 200)).toBe(false)
    expect(job.askedAt).toBe(SUBMITTED_AT + 100)
    job.readFailed()
    expect(job.isReading).toBe(false)
    expect(job.readStarted(SUBMITTED_AT + 300)).toBe(true)
    expect(job.askedAt).toBe(SUBMITTED_AT + 300)
  })

  it('an incomplete finished read is remembered, so the next one settles', () => {
    const job = trackedJob()
    const finishedWithout: JobStatus = { finished: true, state: 'success', files: [] }
    expect(job.judge(finishedWithout, SUBMITTED_AT + 10)).toEqual({ kind: 'incomplete', missing: 1 })
    job.readSaw({ kind: 'incomplete', missing: 1 }, SUBMITTED_AT + 10)
    expect(job.wasReadIncomplete).toBe(true)
    expect(job.judge(finishedWithout, SUBMITTED_AT + 20)).toMatchObject({ kind: 'concluded', missing: 1 })
  })

  it.each([
    [0, undefined, 'resubmit'],
    [MAX_RESUBMITS - 1, undefined, 'resubmit'],
    [MAX_RESUBMITS, undefined, 'concluded'],
    [0, 0, 'concluded'],
    [4, 5, 'resubmit'],
  ])('a lost job of %i resubmits with maxResubmits %s -> %s', (resubmits, maxResubmits, kind) => {
    const job = trackedJob({ maxResubmits }, resubmits)
    expect(job.judge({ finished: true, state: 'lost' }, SUBMITTED_AT + 10).kind).toBe(kind)
  })

  it('a lost job within jobVisibilityGraceMs of its submit is not visible yet', () => {
    const job = trackedJob({ jobVisibilityGraceMs: 1000 })
    expect(job.judge({ finished: true, state: 'lost' }, SUBMITTED_AT + 999).kind).toBe('not-visible')
    expect(job.judge({ finished: true, state: 'lost' }, SUBMITTED_AT + 1000).kind).toBe('resubmit')
  })
})

describe('TrackedJob timeout clock: it runs only while the job can be read', () => {
  /** The mark of `begun` status holds, none in force (`inForce`: one is). */
  const mark = (begun: number, inForce = false): HoldMark => ({ begun, inForce })

  /**
   * Reads `job` from `at` for `ms` with `verdict` (or a failed read), `holds` status holds having begun
   * by its start and `holdsAfter` by its end (default the same), none in force unless `inForceAfter`.
   */
  function read(
    job: TrackedJob,
    at: number,
    verdict: StatusVerdict | 'failed',
    opts: { ms?: number; holds?: number; holdsAfter?: number; inForceAfter?: boolean } = {},
  ): NextStep | undefined {
    const holds = opts.holds ?? 0
    job.readStarted(at, mark(holds))
    if (verdict !== 'failed')
      return job.readSaw(verdict, at + (opts.ms ?? 0), mark(opts.holdsAfter ?? holds, opts.inForceAfter))
    job.readFailed()
    return undefined
  }

  it("counts from the submit's answer (not its start) to the first read that sees the job running", () => {
    const job = trackedJob({ jobTimeoutMs: 3000 })
    expect(job.lastGoodAt).toBe(SUBMITTED_AT + 5)
    read(job, SUBMITTED_AT + 1005, RUNNING)
    expect(job.countedMs).toBe(1000)
    expect(job.lastGoodAt).toBe(SUBMITTED_AT + 1005)
  })

  it('counts only the time between two reads that both saw the job running', () => {
    const job = trackedJob({ jobTimeoutMs: 3000 })
    read(job, SUBMITTED_AT + 1005, RUNNING)
    // an outage of ten seconds: failed reads
    for (let s = 2; s <= 11; s++) read(job, SUBMITTED_AT + s * 1000, 'failed')
    expect(job.lastGoodAt).toBeNull()
    expect(job.countedMs).toBe(1000)
    // the first read after it restarts the count, the next two add 2 s
    expect(read(job, SUBMITTED_AT + 12_000, RUNNING)).toMatchObject({ step: 'keep-following' })
    expect(job.countedMs).toBe(1000)
    expect(read(job, SUBMITTED_AT + 13_000, RUNNING)).toMatchObject({ step: 'keep-following' })
    expect(read(job, SUBMITTED_AT + 14_000, RUNNING)).toEqual({ step: 'time-out' })
    expect(job.countedMs).toBe(3000)
  })

  it('does not count the time a job was not visible', () => {
    const job = trackedJob({ jobTimeoutMs: 3000 })
    read(job, SUBMITTED_AT + 1000, NOT_VISIBLE)
    expect(job.lastGoodAt).toBeNull()
    read(job, SUBMITTED_AT + 5000, RUNNING)
    expect(job.countedMs).toBe(0)
    expect(read(job, SUBMITTED_AT + 8000, RUNNING)).toEqual({ step: 'time-out' })
  })

  it('does not count across a hold of the status reads, although this job was never read during it', () => {
    // Given a job seen running, then a hold of all status reads (another job's read refused) for 30 s
    const job = trackedJob({ jobTimeoutMs: 15_000 })
    read(job, SUBMITTED_AT + 1005, RUNNING)
    expect(job.countedMs).toBe(1000)
    // When the first read after the hold sees it running (one hold begun since the last sighting)
    expect(read(job, SUBMITTED_AT + 31_005, RUNNING, { holds: 1 })).toMatchObject({ step: 'keep-following' })
    // Then the 30 s are not counted, and the clock runs again from that read
    expect(job.countedMs).toBe(1000)
    read(job, SUBMITTED_AT + 36_005, RUNNING, { holds: 1 })
    expect(job.countedMs).toBe(6000)
  })

  it('counts up to the start of the read that sees it running, not its retries', () => {
    const job = trackedJob({ jobTimeoutMs: 3000 })
    // a read that starts at 1 s and, through the client's retries of 503s, answers 20 s later
    expect(read(job, SUBMITTED_AT + 1005, RUNNING, { ms: 20_000 })).toMatchObject({ step: 'keep-following' })
    expect(job.countedMs).toBe(1000)
    // from that read's end to the next read's start
    read(job, SUBMITTED_AT + 22_005, RUNNING)
    expect(job.countedMs).toBe(2000)
  })

  it('a hold that begins during a read that then sees the job running stops the clock from that read on', () => {
    const job = trackedJob({ jobTimeoutMs: 3000 })
    read(job, SUBMITTED_AT + 1005, RUNNING, { holds: 0, holdsAfter: 1 })
    expect(job.countedMs).toBe(1000)
    read(job, SUBMITTED_AT + 2005, RUNNING, { holds: 1 })
    expect(job.countedMs).toBe(2000)
  })

  it('a job first seen while the status reads are held counts nothing until a read after the hold sees it', () => {
    // Given a job whose submit was answered while the status reads were held (another job's read refused)
    const job = new TrackedJob(
      { id: 'j1', batch: batchOf('a'), submittedAt: SUBMITTED_AT, resubmits: 0 },
      { jobVisibilityGraceMs: 0, jobTimeoutMs: 15_000 },
      SUBMITTED_AT + 5,
      mark(1, true),
    )
    // When its first read, after the 30 s hold ended, sees it running
    expect(read(job, SUBMITTED_AT + 30_005, RUNNING, { holds: 1 })).toMatchObject({ step: 'keep-following' })
    // Then the hold is not counted; the clock runs from that read on
    expect(job.countedMs).toBe(0)
    read(job, SUBMITTED_AT + 35_005, RUNNING, { holds: 1 })
    expect(job.countedMs).toBe(5000)
  })

  it('a read that sees the job running while a hold is in force (the re-check) starts no count', () => {
    const job = trackedJob({ jobTimeoutMs: 15_000 })
    // the re-check read of a refusal, accepted: the refusal ends only after it
    read(job, SUBMITTED_AT + 30_005, RUNNING, { holds: 1, inForceAfter: true })
    expect(job.countedMs).toBe(0)
    read(job, SUBMITTED_AT + 35_005, RUNNING, { holds: 1 })
    expect(job.countedMs).toBe(0)
    read(job, SUBMITTED_AT + 40_005, RUNNING, { holds: 1 })
    expect(job.countedMs).toBe(5000)
  })

  it('an adopted job counts from its first read that sees it running, not from its adoption', () => {
    const job = new TrackedJob(
      { id: 'j1', batch: batchOf('a'), submittedAt: SUBMITTED_AT, resubmits: 0, adopted: true },
      { jobVisibilityGraceMs: 0, jobTimeoutMs: 3000 },
      SUBMITTED_AT,
    )
    expect(job.lastGoodAt).toBeNull()
    read(job, SUBMITTED_AT + 10_000, RUNNING)
    expect(job.countedMs).toBe(0)
  })

  it('never times out without jobTimeoutMs', () => {
    const job = trackedJob()
    for (let s = 1; s <= 10; s++)
      expect(read(job, SUBMITTED_AT + 5 + s * 3_600_000, RUNNING)?.step).toBe('keep-following')
    expect(job.countedMs).toBe(10 * 3_600_000)
  })
})
