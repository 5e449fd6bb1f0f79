// The JobTracker against a scripted fake ImportClient: concurrency, settlement, webhooks, polling, failures.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type AnswerClass, BridgeError } from '../../../src/errors.ts'
import type { JobStatus } from '../../../src/import/import-client.ts'
import { JobTracker, type JobTrackerOptions } from '../../../src/jobs/job-tracker.ts'
import { createMetrics, type Metrics } from '../../../src/metrics.ts'
import type { Batch } from '../../../src/model/files.ts'
import type { ConcludedJob, FileOutcome } from '../../../src/model/outcomes.ts'
import {
  apiError,
  testBatch as batch,
  batchIdOf,
  entryId,
  type FakeImportClient,
  fakeImportClient,
  idsOf,
  JOB_TRACKER_OPTIONS,
  namedFile,
} from '../../support/fake-import-client.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { registryMetric } from '../../support/metric-value.ts'
import { resetPendingFileOffsets } from '../../support/pending-file.ts'

function imported(externalId: string, mediaId = `m-${externalId}`): FileOutcome {
  return { externalId, systemName: 'archive', state: 'imported', mediaId, reason: undefined }
}

function success(...files: FileOutcome[]): JobStatus {
  return { finished: true, state: 'success', files }
}

const STARTED: JobStatus = { finished: false, state: 'started', startedAt: undefined }

interface Setup {
  tracker: JobTracker
  client: FakeImportClient
  metrics: Metrics
  settled: ConcludedJob[]
}

function setup(options: Partial<JobTrackerOptions> = {}, start = true): Setup {
  const client = fakeImportClient()
  const metrics = createMetrics()
  const settled: ConcludedJob[] = []
  const tracker = new JobTracker(
    { ...JOB_TRACKER_OPTIONS, ...options },
    {
      client: client.client,
      logger: silentLogger,
      metrics,
      onConcluded: (job) => settled.push(job),
    },
  )
  if (start) tracker.start()
  trackers.push(tracker)
  return { tracker, client, metrics, settled }
}

const trackers: JobTracker[] = []

/** Lets pending promise callbacks run without moving the clock. */
const flush = () => vi.advanceTimersByTimeAsync(0)

const outcomeStates = (job: ConcludedJob | undefined) =>
  job?.outcomes.map((o) => [o.file.event.externalId, o.outcome.state, o.outcome.reason])

/** Submits `b` and answers the submit with `jobId`. */
async function submitAs(s: Setup, b: Batch, jobId: string): Promise<void> {
  const before = s.client.submits.length
  s.tracker.enqueue(b)
  const call = s.client.submits[before]
  expect(batchIdOf(call)).toBe(b.id)
  call?.resolve(jobId)
  await flush()
}

beforeEach(() => {
  vi.useFakeTimers()
  resetPendingFileOffsets()
})
afterEach(() => {
  for (const t of trackers.splice(0)) t.close()
  vi.useRealTimers()
})

describe('JobTracker submitting', () => {
  it('submits at most maxJobsInFlight jobs at once and the rest in order as jobs finish', async () => {
    // Given at most two jobs in flight and four batches
    const s = setup({ maxJobsInFlight: 2 })
    for (const id of ['b1', 'b2', 'b3', 'b4']) s.tracker.enqueue(batch(id, [`${id}-f`]))

    // Then only the first two are submitted, even once their jobs exist
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2'])
    expect(s.tracker.jobsInFlight).toBe(2)
    s.client.submits[0]?.resolve('j1')
    s.client.submits[1]?.resolve('j2')
    await flush()
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2'])
    expect(s.tracker.jobsInFlight).toBe(2)
    expect(s.tracker.filesPending).toBe(4)

    // When job j2 finishes
    expect(s.tracker.notify('j2')).toBe(true)
    s.client.statuses[0]?.resolve(success(imported('b2-f')))
    await flush()

    // Then b3 goes out, b4 still waits
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2', 'b3'])
    expect(s.tracker.jobsInFlight).toBe(2)

    // When j1 finishes
    s.tracker.notify('j1')
    s.client.statuses[1]?.resolve(success(imported('b1-f')))
    await flush()

    // Then b4 goes out
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2', 'b3', 'b4'])
    expect(s.settled.map((j) => j.jobId)).toEqual(['j2', 'j1'])
  })

  it('a raised MAX_JOBS_IN_FLIGHT submits at once; a lowered one keeps the jobs and waits until below it', async () => {
    // Given one job slot, a job running in it and three batches waiting
    const s = setup({ maxJobsInFlight: 1 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    for (const id of ['b2', 'b3', 'b4']) s.tracker.enqueue(batch(id, [`${id}-f`]))
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1'])
    // When this replica's share grows to 3 (a rebalance)
    s.tracker.setMaxJobsInFlight(3)
    // Then two more go out at once
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2', 'b3'])
    s.client.submits[1]?.resolve('j2')
    s.client.submits[2]?.resolve('j3')
    await flush()
    // When it shrinks to 1 again, the three jobs are kept and followed
    s.tracker.setMaxJobsInFlight(1)
    expect(s.tracker.jobsInFlight).toBe(3)
    expect(s.tracker.tracks('j1') && s.tracker.tracks('j2') && s.tracker.tracks('j3')).toBe(true)
    // Then j1 and j2 finishing free no slot for b4; j3 finishing does
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve(success(imported('a')))
    s.tracker.notify('j2')
    s.client.statuses[1]?.resolve(success(imported('b2-f')))
    await flush()
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2', 'b3'])
    s.tracker.notify('j3')
    s.client.statuses[2]?.resolve(success(imported('b3-f')))
    await flush()
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2', 'b3', 'b4'])
  })

  it("frees a job's slot on its webhook, submitting the next batch before the job's status is read", async () => {
    // Given one job slot, a job running in it and a batch waiting
    const s = setup({ maxJobsInFlight: 1 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    s.tracker.enqueue(batch('b2', ['b']))
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1'])

    // When the job's webhook says it is done
    expect(s.tracker.notify('j1')).toBe(true)

    // Then the waiting batch is submitted before the status read starts, and j1 holds no slot
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2'])
    expect(s.client.status).toHaveBeenCalledTimes(1)
    expect(s.client.submit.mock.invocationCallOrder[1]).toBeLessThan(
      s.client.status.mock.invocationCallOrder[0] as number,
    )
    s.client.submits[1]?.resolve('j2')
    await flush()
    expect(s.tracker.jobsInFlight).toBe(1)
    expect(await registryMetric(s.metrics.registry, 'bridge_jobs_in_flight')).toBe(1)

    // And j1 still settles from its status read
    s.client.statuses[0]?.resolve(success(imported('a')))
    await flush()
    expect(s.settled.map((j) => j.jobId)).toEqual(['j1'])
    expect(s.tracker.jobsInFlight).toBe(1)
  })

  it('takes the slot back when the status read after a webhook still sees the job running', async () => {
    // Given one job slot, a job whose webhook came, the batch that took its slot, and one more waiting
    const s = setup({ maxJobsInFlight: 1 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    s.tracker.enqueue(batch('b2', ['b']))
    s.tracker.notify('j1')
    s.client.submits[1]?.resolve('j2')
    await flush()
    s.tracker.enqueue(batch('b3', ['c']))

    // When j1's read says it is still running
    s.client.statuses[0]?.resolve(STARTED)
    await flush()

    // Then j1 and j2 both hold slots again: b3 waits until one of them is done
    expect(s.tracker.jobsInFlight).toBe(2)
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2'])
    s.tracker.notify('j2')
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2'])
    s.tracker.notify('j1')
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2', 'b3'])
  })

  it('counts submitted batches and jobs in flight in the metrics', async () => {
    // Given a tracker and its metrics
    const s = setup()
    expect(await registryMetric(s.metrics.registry, 'bridge_batches_submitted_total')).toBe(0)

    // When two batches are submitted and become jobs
    await submitAs(s, batch('b1', ['a']), 'j1')
    await submitAs(s, batch('b2', ['b']), 'j2')

    // Then both are counted and two jobs are in flight
    expect(await registryMetric(s.metrics.registry, 'bridge_batches_submitted_total')).toBe(2)
    expect((await s.metrics.batchesSubmitted.get()).values[0]?.value).toBe(2)
    expect(await registryMetric(s.metrics.registry, 'bridge_jobs_in_flight')).toBe(2)

    // When one job finishes
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve(success(imported('a')))
    await flush()

    // Then one job is in flight
    expect(await registryMetric(s.metrics.registry, 'bridge_jobs_in_flight')).toBe(1)
    expect((await s.metrics.jobsInFlight.get()).values[0]?.value).toBe(1)
  })
})

describe('JobTracker settling', () => {
  it('settles a file too large for any request at once, without a job, and submits nothing', async () => {
    // Given a tracker
    const s = setup()

    // When the batcher refuses a file
    s.tracker.refuse(namedFile('big'), 'the entry is larger than any import request')

    // Then it settles FAILED with that reason, without a job, and nothing is pending or submitted
    expect(s.settled.map((j) => [j.jobId, j.batch.closedBy])).toEqual([[null, 'oversized']])
    expect(outcomeStates(s.settled[0])).toEqual([
      ['big', 'failed', 'the entry is larger than any import request'],
    ])
    expect(s.client.submit).not.toHaveBeenCalled()
    expect(await s.tracker.waitIdle(0)).toBe(true)
  })

  it('settles a finished success job with per-file outcomes matched by externalId', async () => {
    // Given a job of three files, two of which share an externalId
    const s = setup()
    await submitAs(s, batch('b1', ['a', 'b', 'a']), 'j1')

    // When its status is finished with the results in another order
    s.tracker.notify('j1')
    const first: FileOutcome = imported('a', 'm-a-1')
    const second: FileOutcome = {
      externalId: 'a',
      systemName: 'archive',
      state: 'skipped',
      mediaId: 'm-a-1',
      reason: 'already exists',
    }
    const forB: FileOutcome = {
      externalId: 'b',
      systemName: 'archive',
      state: 'failed',
      mediaId: undefined,
      reason: 'download failed',
    }
    s.client.statuses[0]?.resolve(success(forB, first, second))
    await flush()

    // Then the batch settles once, each file with its outcome (the shared id in order)
    expect(s.settled).toHaveLength(1)
    const job = s.settled[0]
    expect(job?.jobId).toBe('j1')
    expect(job?.batch.id).toBe('b1')
    expect(job?.outcomes.map((o) => o.outcome)).toEqual([first, forB, second])
    expect(job?.outcomes.map((o) => o.file)).toEqual(job?.batch.files)
    expect(s.tracker.jobsInFlight).toBe(0)
    expect(s.tracker.filesPending).toBe(0)
  })

  it('reads a finished job that lists no result for a file once more, then fails that file', async () => {
    // Given a job of two files
    const s = setup()
    await submitAs(s, batch('b1', ['a', 'b']), 'j1')

    // When the finished status only lists one of them
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve(success(imported('b')))
    await flush()

    // Then nothing is settled yet; the next poll reads it once more
    expect(s.settled).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(s.client.status).toHaveBeenCalledTimes(2)
    s.client.statuses[1]?.resolve(success(imported('b')))
    await flush()

    // Then the missing one fails with a reason, the other is imported, and the metric counts it
    expect(outcomeStates(s.settled[0])).toEqual([
      ['a', 'failed', 'the finished import job reported no result for this file'],
      ['b', 'imported', undefined],
    ])
    expect(
      (await s.metrics.jobResultsUnmatched.get()).values.find((v) => v.labels.kind === 'missing')?.value,
    ).toBe(1)
  })

  it('settles normally when the second read of a job with missing results lists them all', async () => {
    const s = setup()
    await submitAs(s, batch('b1', ['a', 'b']), 'j1')
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve(success(imported('b')))
    await flush()
    s.tracker.notify('j1')
    s.client.statuses[1]?.resolve(success(imported('b'), imported('a')))
    await flush()
    expect(outcomeStates(s.settled[0])).toEqual([
      ['a', 'imported', undefined],
      ['b', 'imported', undefined],
    ])
  })

  it('never publishes a result for an id that was not in the batch; logs and counts it', async () => {
    const s = setup()
    await submitAs(s, batch('b1', ['a']), 'j1')
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve(success(imported('a'), imported('stranger')))
    await flush()
    expect(s.settled).toHaveLength(1)
    expect(s.settled[0]?.outcomes.map((o) => o.file.event.externalId)).toEqual(['a'])
    expect(
      (await s.metrics.jobResultsUnmatched.get()).values.find((v) => v.labels.kind === 'unexpected')?.value,
    ).toBe(1)
  })

  it('fails every file of a job that failed as a whole', async () => {
    // Given a job of two files
    const s = setup()
    await submitAs(s, batch('b1', ['a', 'b']), 'j1')

    // When the job failed
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve({ finished: true, state: 'failed' })
    await flush()

    // Then both files fail with 'import job failed'
    expect(s.settled[0]?.jobId).toBe('j1')
    expect(outcomeStates(s.settled[0])).toEqual([
      ['a', 'failed', 'import job failed'],
      ['b', 'failed', 'import job failed'],
    ])
  })

  it('submits the batch of a lost job again up to maxResubmits, then fails it', async () => {
    // Given a tracker that resubmits lost jobs twice
    const s = setup({ maxResubmits: 2 })
    await submitAs(s, batch('b1', ['a', 'b']), 'j1')

    // When the job is lost twice
    for (const [i, jobId] of ['j1', 'j2'].entries()) {
      s.tracker.notify(jobId)
      s.client.statuses[i]?.resolve({ finished: true, state: 'lost' })
      await flush()

      // Then the same batch is submitted again after the resubmit delay, nothing settled
      expect(s.client.submits).toHaveLength(i + 1)
      await vi.advanceTimersByTimeAsync(1000)
      expect(s.client.submits).toHaveLength(i + 2)
      expect(batchIdOf(s.client.submits[i + 1])).toBe('b1')
      expect(idsOf(s.client.submits[i + 1])).toEqual(['a', 'b'])
      expect(s.settled).toHaveLength(0)
      s.client.submits[i + 1]?.resolve(`j${i + 2}`)
      await flush()
    }

    // When the third job is lost as well
    s.tracker.notify('j3')
    s.client.statuses[2]?.resolve({ finished: true, state: 'lost' })
    await flush()

    // Then the files fail with 'import job lost' and nothing is submitted any more
    expect(s.client.submits).toHaveLength(3)
    expect(s.settled).toHaveLength(1)
    expect(s.settled[0]?.jobId).toBe('j3')
    expect(outcomeStates(s.settled[0])).toEqual([
      ['a', 'failed', 'import job lost'],
      ['b', 'failed', 'import job lost'],
    ])
    expect(await s.tracker.waitIdle(0)).toBe(true)
  })

  it('fails a lost job at once when maxResubmits is 0', async () => {
    // Given no resubmits allowed
    const s = setup({ maxResubmits: 0 })
    await submitAs(s, batch('b1', ['a']), 'j1')

    // When the job is lost
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve({ finished: true, state: 'lost' })
    await flush()

    // Then it is not submitted again and its file fails
    expect(s.client.submits).toHaveLength(1)
    expect(outcomeStates(s.settled[0])).toEqual([['a', 'failed', 'import job lost']])
  })
})

describe('JobTracker webhooks', () => {
  it("reads the batch's current job for a webhook that named no job", async () => {
    // Given a job of batch b1
    const s = setup()
    await submitAs(s, batch('b1', ['a']), 'j1')
    // When a webhook authenticated for b1 comes without a job id
    expect(s.tracker.notify(undefined, { batchId: 'b1' })).toBe(true)
    // Then j1's status is read
    expect(s.client.statuses.map((c) => c.jobId)).toEqual(['j1'])
    // And an unknown batch is not ours
    expect(s.tracker.notify(undefined, { batchId: 'b9' })).toBe(false)
    expect(s.client.statuses).toHaveLength(1)
  })

  it('reads at once after the submit when a webhook of the batch (no job id) came before its answer', async () => {
    // Given a submit in flight
    const s = setup()
    s.tracker.enqueue(batch('b1', ['a']))
    // When the batch's webhook arrives before the job id is known
    expect(s.tracker.notify(undefined, { batchId: 'b1' })).toBe(false)
    s.client.submits[0]?.resolve('j1')
    await flush()
    // Then the new job's status is read at once
    expect(s.client.statuses.map((c) => c.jobId)).toEqual(['j1'])
  })

  it('reads the status of a known job at once on notify', async () => {
    // Given a job and a long poll interval
    const s = setup({ pollIntervalMs: 60_000 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    expect(s.client.status).not.toHaveBeenCalled()

    // When its webhook arrives
    const known = s.tracker.notify('j1')

    // Then notify says known and the status is read without waiting for the poller
    expect(known).toBe(true)
    expect(s.client.status).toHaveBeenCalledTimes(1)
    expect(s.client.status).toHaveBeenCalledWith('j1', 'file')
    s.client.statuses[0]?.resolve(success(imported('a')))
    await flush()
    expect(s.settled.map((j) => j.jobId)).toEqual(['j1'])
  })

  it('returns false for an unknown job id and reads nothing', async () => {
    // Given a job j1
    const s = setup()
    await submitAs(s, batch('b1', ['a']), 'j1')

    // When a webhook for another id arrives
    const known = s.tracker.notify('other')

    // Then it is not ours and no status is read
    expect(known).toBe(false)
    expect(s.client.status).not.toHaveBeenCalled()
  })

  it("returns false for a webhook whose signed batch id is not the job's batch, and reads nothing", async () => {
    // Given job j1 of batch b1
    const s = setup()
    await submitAs(s, batch('b1', ['a']), 'j1')

    // When a webhook names j1 but carries (a valid signature of) batch b2
    const known = s.tracker.notify('j1', { batchId: 'b2' })

    // Then it is treated as unknown; the right batch id is accepted
    expect(known).toBe(false)
    expect(s.client.status).not.toHaveBeenCalled()
    expect(s.tracker.notify('j1', { batchId: 'b1' })).toBe(true)
    expect(s.client.status).toHaveBeenCalledTimes(1)
  })

  it('does not read early for a webhook during the submit whose batch id is another batch', async () => {
    // Given a submit of b1 in flight
    const s = setup({ pollIntervalMs: 60_000 })
    s.tracker.enqueue(batch('b1', ['a']))

    // When a webhook for the coming job id but another batch arrives, and the submit returns j1
    s.tracker.notify('j1', { batchId: 'b9' })
    s.client.submits[0]?.resolve('j1')
    await flush()

    // Then nothing is read early
    expect(s.client.status).not.toHaveBeenCalled()
  })

  it('returns false for a job that already settled', async () => {
    // Given a job that finished
    const s = setup()
    await submitAs(s, batch('b1', ['a']), 'j1')
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve(success(imported('a')))
    await flush()

    // When its webhook arrives (again)
    // Then it is no longer known and not read again
    expect(s.tracker.notify('j1')).toBe(false)
    expect(s.client.status).toHaveBeenCalledTimes(1)
  })

  it('reads again when a webhook arrived during a read that returned unfinished', async () => {
    // Given a job whose status read is in flight
    const s = setup()
    await submitAs(s, batch('b1', ['a']), 'j1')
    s.tracker.notify('j1')
    expect(s.client.status).toHaveBeenCalledTimes(1)

    // When another webhook arrives during the read
    expect(s.tracker.notify('j1')).toBe(true)

    // Then no second concurrent read is started
    expect(s.client.status).toHaveBeenCalledTimes(1)

    // When the first read returns unfinished
    s.client.statuses[0]?.resolve(STARTED)
    await flush()

    // Then the status is read again at once, and that read settles the job
    expect(s.client.status).toHaveBeenCalledTimes(2)
    s.client.statuses[1]?.resolve(success(imported('a')))
    await flush()
    expect(s.settled.map((j) => j.jobId)).toEqual(['j1'])
  })

  it('does not read again after an unfinished read when no webhook arrived meanwhile', async () => {
    // Given a job whose status read is in flight
    const s = setup()
    await submitAs(s, batch('b1', ['a']), 'j1')
    s.tracker.notify('j1')

    // When it returns unfinished
    s.client.statuses[0]?.resolve(STARTED)
    await flush()

    // Then the next read waits for the poller or another webhook
    expect(s.client.status).toHaveBeenCalledTimes(1)
    expect(s.settled).toHaveLength(0)
  })

  it('does not read again when the read during which a webhook arrived reports finished', async () => {
    // Given a read in flight and a webhook during it
    const s = setup()
    await submitAs(s, batch('b1', ['a']), 'j1')
    s.tracker.notify('j1')
    s.tracker.notify('j1')

    // When the read reports the job finished
    s.client.statuses[0]?.resolve(success(imported('a')))
    await flush()

    // Then the job settles once and no further read follows
    expect(s.client.status).toHaveBeenCalledTimes(1)
    expect(s.settled).toHaveLength(1)
  })

  it('reads the status at once when the webhook arrived before the submit response was processed', async () => {
    // Given a submit in flight and a long poll interval
    const s = setup({ pollIntervalMs: 60_000 })
    s.tracker.enqueue(batch('b1', ['a']))

    // When the job's webhook arrives before the submit returned
    const known = s.tracker.notify('j1')

    // Then the id is not known yet and nothing is read
    expect(known).toBe(false)
    expect(s.client.status).not.toHaveBeenCalled()

    // When the submit returns that job id
    s.client.submits[0]?.resolve('j1')
    await flush()

    // Then its status is read at once and settles the job
    expect(s.client.status).toHaveBeenCalledTimes(1)
    expect(s.client.status).toHaveBeenCalledWith('j1', 'file')
    s.client.statuses[0]?.resolve(success(imported('a')))
    await flush()
    expect(s.settled.map((j) => j.jobId)).toEqual(['j1'])
  })

  it('does not read a job early for a webhook of another id during its submit', async () => {
    // Given a submit in flight
    const s = setup({ pollIntervalMs: 60_000 })
    s.tracker.enqueue(batch('b1', ['a']))

    // When a webhook of another job arrives and the submit returns j1
    s.tracker.notify('j-other')
    s.client.submits[0]?.resolve('j1')
    await flush()

    // Then j1 is left for the poller
    expect(s.client.status).not.toHaveBeenCalled()
  })
})

describe('JobTracker polling', () => {
  it('polls unfinished jobs every pollIntervalMs until they finish', async () => {
    // Given a started tracker polling every second and one job
    const s = setup({ pollIntervalMs: 1000 })
    await submitAs(s, batch('b1', ['a']), 'j1')

    // When just under a second passes
    await vi.advanceTimersByTimeAsync(999)
    // Then nothing was read
    expect(s.client.status).not.toHaveBeenCalled()

    // When the interval is reached
    await vi.advanceTimersByTimeAsync(1)
    // Then the job is read
    expect(s.client.status).toHaveBeenCalledTimes(1)
    expect(s.client.status).toHaveBeenLastCalledWith('j1', 'file')
    s.client.statuses[0]?.resolve(STARTED)
    await flush()

    // When another interval passes, the job is read again and finishes
    await vi.advanceTimersByTimeAsync(1000)
    expect(s.client.status).toHaveBeenCalledTimes(2)
    s.client.statuses[1]?.resolve(success(imported('a')))
    await flush()
    expect(s.settled).toHaveLength(1)

    // Then a settled job is polled no more
    await vi.advanceTimersByTimeAsync(5000)
    expect(s.client.status).toHaveBeenCalledTimes(2)
  })

  it('polls a job only once pollIntervalMs passed since its status was last read, so a webhook puts off its poll', async () => {
    // Given two jobs submitted together, polled after a second without a read
    const s = setup({ pollIntervalMs: 1000 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    await submitAs(s, batch('b2', ['b']), 'j2')

    // When j1's webhook comes at 600 ms and its read says it still runs
    await vi.advanceTimersByTimeAsync(600)
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve(STARTED)
    await flush()

    // Then the poll at 1 s reads j2 alone
    await vi.advanceTimersByTimeAsync(400)
    expect(s.client.statuses.map((c) => c.jobId)).toEqual(['j1', 'j2'])
    s.client.statuses[1]?.resolve(STARTED)
    await flush()

    // And j1 a second after its read (the poller looks every 200 ms), not before
    await vi.advanceTimersByTimeAsync(599)
    expect(s.client.statuses).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(s.client.statuses.map((c) => c.jobId)).toEqual(['j1', 'j2', 'j1'])
  })

  it('leaves a job whose status read threw for the next poll', async () => {
    // Given a job
    const s = setup({ pollIntervalMs: 1000 })
    await submitAs(s, batch('b1', ['a']), 'j1')

    // When the first poll's read throws
    await vi.advanceTimersByTimeAsync(1000)
    s.client.statuses[0]?.reject(new BridgeError('API_NETWORK_ERROR', 'socket hang up', { retryable: true }))
    await flush()

    // Then nothing settles and the job stays in flight
    expect(s.settled).toHaveLength(0)
    expect(s.tracker.jobsInFlight).toBe(1)

    // When the next poll reads it finished
    await vi.advanceTimersByTimeAsync(1000)
    expect(s.client.status).toHaveBeenCalledTimes(2)
    s.client.statuses[1]?.resolve(success(imported('a')))
    await flush()

    // Then it settles
    expect(s.settled.map((j) => j.jobId)).toEqual(['j1'])
  })
})

describe('JobTracker job timeout', () => {
  it('reads once more after jobTimeoutMs, then fails every file with reason timeout and frees the slot', async () => {
    // Given one job slot, a job that never finishes, and a second batch waiting for the slot
    const s = setup({ pollIntervalMs: 1000, jobTimeoutMs: 3000, maxJobsInFlight: 1 })
    await submitAs(s, batch('b1', ['a', 'b']), 'j1')
    s.tracker.enqueue(batch('b2', ['c']))
    expect(s.client.submits).toHaveLength(1)

    // When polls before the timeout answer "started"
    for (let i = 0; i < 2; i++) {
      await vi.advanceTimersByTimeAsync(1000)
      s.client.statuses[i]?.resolve(STARTED)
      await flush()
    }
    expect(s.settled).toHaveLength(0)

    // When the timeout has passed, the poll is the one more read; it still answers "started"
    await vi.advanceTimersByTimeAsync(1000)
    expect(s.client.status).toHaveBeenCalledTimes(3)
    s.client.statuses[2]?.resolve(STARTED)
    await flush()

    // Then each file of j1 fails with reason timeout, the metric counts the job, and b2 gets the slot
    expect(s.settled.map((j) => j.jobId)).toEqual(['j1'])
    expect(outcomeStates(s.settled[0])).toEqual([
      ['a', 'failed', 'timeout'],
      ['b', 'failed', 'timeout'],
    ])
    expect(await registryMetric(s.metrics.registry, 'bridge_jobs_timed_out_total')).toBe(1)
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2'])
    // And a late webhook of j1 is unknown, and j1 is not polled again
    expect(s.tracker.notify('j1', { batchId: 'b1' })).toBe(false)
    await vi.advanceTimersByTimeAsync(1000)
    expect(s.client.status).toHaveBeenCalledTimes(3)
  })

  it('settles normally when the one more read finds the job finished', async () => {
    const s = setup({ pollIntervalMs: 1000, jobTimeoutMs: 1000 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    await vi.advanceTimersByTimeAsync(1000)
    s.client.statuses[0]?.resolve(success(imported('a')))
    await flush()
    expect(outcomeStates(s.settled[0])).toEqual([['a', 'imported', undefined]])
    expect(await registryMetric(s.metrics.registry, 'bridge_jobs_timed_out_total')).toBe(0)
  })

  it('does not time out while reads fail: that time does not count, only reads that see it running', async () => {
    // Given a job with a 3 s timeout, polled every second
    const s = setup({ pollIntervalMs: 1000, jobTimeoutMs: 3000 })
    await submitAs(s, batch('b1', ['a']), 'j1')

    // When the first read sees it running, and the next ten fail (an outage of the API)
    await vi.advanceTimersByTimeAsync(1000)
    s.client.statuses[0]?.resolve(STARTED)
    await flush()
    for (let i = 1; i <= 10; i++) {
      await vi.advanceTimersByTimeAsync(1000)
      s.client.statuses[i]?.reject(
        new BridgeError('API_NETWORK_ERROR', 'status request failed', { retryable: true }),
      )
      await flush()
    }
    expect(s.client.statuses).toHaveLength(11)

    // Then nothing timed out, 11 s after the submit
    expect(s.settled).toHaveLength(0)
    expect(await registryMetric(s.metrics.registry, 'bridge_jobs_timed_out_total')).toBe(0)

    // When reads see it running again: the first restarts the count, two more seconds reach 3 s
    for (let i = 11; i <= 13; i++) {
      await vi.advanceTimersByTimeAsync(1000)
      s.client.statuses[i]?.resolve(STARTED)
      await flush()
    }

    // Then it times out (1 s before the outage + 2 s after it)
    expect(outcomeStates(s.settled[0])).toEqual([['a', 'failed', 'timeout']])
    expect(await registryMetric(s.metrics.registry, 'bridge_jobs_timed_out_total')).toBe(1)
  })

  it("issue 24's case: status reads answered 403 for 30 s with a 15 s timeout time out no job", async () => {
    // Given the defaults of STATUS_POLL_INTERVAL_MS (5 s) and API_HOLD_RECHECK_MS (30 s), JOB_TIMEOUT_MS
    // 15 s, and five one-file jobs submitted a second apart, which run for 40 s
    const s = setup({ pollIntervalMs: 5000, holdRecheckMs: 30_000, jobTimeoutMs: 15_000, maxJobsInFlight: 5 })
    const start = Date.now()
    const refused = () =>
      apiError('credentials', 'status answered HTTP 403', { endpoint: 'status', status: 403 })
    // When every status read in the first 30 s is answered 403, later ones see the job running until it
    // finishes at 40 s
    s.client.onStatus = async (jobId) => {
      const t = Date.now() - start
      if (t < 30_000) throw refused()
      const id = `f${jobId.slice(1)}`
      return t < 40_000 ? STARTED : success(imported(id))
    }
    for (let i = 1; i <= 5; i++) {
      await submitAs(s, batch(`b${i}`, [`f${i}`]), `j${i}`)
      await vi.advanceTimersByTimeAsync(1000)
    }
    await vi.advanceTimersByTimeAsync(60_000)

    // Then every file has its own result and no job timed out
    expect(s.settled.flatMap((j) => outcomeStates(j))).toEqual(
      [1, 2, 3, 4, 5].map((i) => [`f${i}`, 'imported', undefined]),
    )
    expect(await registryMetric(s.metrics.registry, 'bridge_jobs_timed_out_total')).toBe(0)
  })
})

describe('JobTracker: jobs that begin while the status reads are held', () => {
  it("issue 24's case with four jobs submitted after the first read was refused: none times out", async () => {
    // Given the defaults of STATUS_POLL_INTERVAL_MS (5 s) and API_HOLD_RECHECK_MS (30 s), JOB_TIMEOUT_MS
    // 15 s, and status reads answered 403 for the first 30 s; every job runs until 40 s
    const s = setup({ pollIntervalMs: 5000, holdRecheckMs: 30_000, jobTimeoutMs: 15_000, maxJobsInFlight: 5 })
    const start = Date.now()
    s.client.onStatus = async (jobId) => {
      const t = Date.now() - start
      if (t < 30_000)
        throw apiError('credentials', 'status answered HTTP 403', { endpoint: 'status', status: 403 })
      return t < 40_000 ? STARTED : success(imported(`f${jobId.slice(1)}`))
    }
    // When one job is submitted, its first read (at 5 s) refused, and four more jobs submitted during
    // the hold that refusal began
    await submitAs(s, batch('b1', ['f1']), 'j1')
    await vi.advanceTimersByTimeAsync(6000)
    expect(s.client.status).toHaveBeenCalledTimes(1)
    for (let i = 2; i <= 5; i++) {
      await submitAs(s, batch(`b${i}`, [`f${i}`]), `j${i}`)
      await vi.advanceTimersByTimeAsync(1000)
    }
    await vi.advanceTimersByTimeAsync(60_000)

    // Then every file has its own result and no job timed out: the hold was counted by none of them
    expect(s.settled.flatMap((j) => outcomeStates(j)).sort()).toEqual(
      [1, 2, 3, 4, 5].map((i) => [`f${i}`, 'imported', undefined]),
    )
    expect(await registryMetric(s.metrics.registry, 'bridge_jobs_timed_out_total')).toBe(0)
  })
})

describe('JobTracker submit errors', () => {
  it('holds submits and polls until a long Retry-After the client handed back has passed', async () => {
    // Given a job being polled and a batch whose submit is answered 429 with Retry-After 60 s
    const s = setup({ pollIntervalMs: 1000, resubmitDelayMs: 1000, maxJobsInFlight: 2 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    s.tracker.enqueue(batch('b2', ['b']))
    s.client.submits[1]?.reject(
      apiError('retry', 'submit answered HTTP 429', { status: 429, retryAfterMs: 60_000 }),
    )
    await flush()

    // When less than 60 s pass
    await vi.advanceTimersByTimeAsync(59_999)
    // Then neither a submit nor a poll was sent
    expect(s.client.submits).toHaveLength(2)
    expect(s.client.status).not.toHaveBeenCalled()

    // When the Retry-After has passed
    await vi.advanceTimersByTimeAsync(1001)
    // Then b2 is sent again and polling resumes
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2', 'b2'])
    expect(s.client.status).toHaveBeenCalled()
  })

  it.each<AnswerClass>(['credentials', 'configuration'])(
    '%s sets fatalProblem naming the setting, keeps the batch, retries after 30 s and clears on success',
    async (answerClass) => {
      // Given a submit refused for the configuration
      const s = setup({ resubmitDelayMs: 1000 })
      expect(s.tracker.fatalProblem).toBeNull()
      s.tracker.enqueue(batch('b1', ['a']))
      s.client.submits[0]?.reject(
        apiError(answerClass, `the import API refused (${answerClass})`, { setting: 'SOME_SETTING' }),
      )
      await flush()

      // Then the tracker reports the problem and settles nothing
      expect(s.tracker.fatalProblem).toBe(`the import API refused (${answerClass}) (check SOME_SETTING)`)
      expect((await s.metrics.apiHold.get()).values.find((v) => v.labels.cause === answerClass)?.value).toBe(
        1,
      )
      expect(s.settled).toHaveLength(0)
      expect(s.tracker.filesPending).toBe(1)

      // When less than 30 s pass (resubmitDelayMs is only 1 s)
      await vi.advanceTimersByTimeAsync(29_999)
      // Then nothing is sent
      expect(s.client.submits).toHaveLength(1)

      // When 30 s have passed
      await vi.advanceTimersByTimeAsync(1)
      // Then the batch is sent again and the problem stays until it succeeds
      expect(s.client.submits).toHaveLength(2)
      expect(batchIdOf(s.client.submits[1])).toBe('b1')
      expect(s.tracker.fatalProblem).not.toBeNull()
      s.client.submits[1]?.resolve('j1')
      await flush()
      expect(s.tracker.fatalProblem).toBeNull()
      expect(s.tracker.jobsInFlight).toBe(1)
      expect((await s.metrics.apiHold.get()).values.find((v) => v.labels.cause === answerClass)?.value).toBe(
        0,
      )
    },
  )

  it('splits a rejected batch until the offending file is alone and fails only that file', async () => {
    // Given an API that rejects any request containing file f3 and accepts the others
    const s = setup({ maxJobsInFlight: 10 })
    let jobs = 0
    s.client.onSubmit = async (request) => {
      if (request.files.some((f) => entryId(f) === 'f3')) {
        throw apiError(
          request.files.length > 1 ? 'batch-data' : 'file-data',
          'HTTP 400: files[2].url must be reachable',
        )
      }
      return `job-${++jobs}`
    }
    s.client.onStatus = async (jobId) => {
      const call = s.client.submits.filter((c) => !c.request.files.some((f) => entryId(f) === 'f3'))
      const index = Number(jobId.slice(4)) - 1
      return success(...(idsOf(call[index]) ?? []).map((id) => imported(id)))
    }

    // When a batch of five files is enqueued
    s.tracker.enqueue(batch('b1', ['f1', 'f2', 'f3', 'f4', 'f5']))
    await flush()

    // Then it was split into halves until f3 was alone
    expect(s.client.submits.map(idsOf)).toEqual([
      ['f1', 'f2', 'f3', 'f4', 'f5'],
      ['f1', 'f2', 'f3'],
      ['f4', 'f5'],
      ['f1', 'f2'],
      ['f3'],
    ])
    // And f3 settled without a job, failed with the API's message
    const rejected = s.settled.filter((j) => j.jobId === null)
    expect(rejected).toHaveLength(1)
    expect(rejected[0]?.outcomes).toHaveLength(1)
    expect(rejected[0]?.outcomes[0]?.file.event.externalId).toBe('f3')
    expect(rejected[0]?.outcomes[0]?.outcome.state).toBe('failed')
    expect(rejected[0]?.outcomes[0]?.outcome.reason).toContain('files[2].url must be reachable')

    // When the poller reads the two jobs
    expect(s.tracker.jobsInFlight).toBe(2)
    await vi.advanceTimersByTimeAsync(10_000)

    // Then the four good files settle in their jobs
    const good = s.settled.filter((j) => j.jobId !== null)
    expect(good.map((j) => j.jobId).sort()).toEqual(['job-1', 'job-2'])
    const settledIds = good.flatMap((j) => j.outcomes.map((o) => [o.file.event.externalId, o.outcome.state]))
    expect(settledIds.sort()).toEqual([
      ['f1', 'imported'],
      ['f2', 'imported'],
      ['f4', 'imported'],
      ['f5', 'imported'],
    ])
    expect(await registryMetric(s.metrics.registry, 'bridge_batches_submitted_total')).toBe(2)
    expect(await s.tracker.waitIdle(0)).toBe(true)
  })
})

describe('JobTracker waitIdle and close', () => {
  it('waitIdle resolves true at once when nothing is pending', async () => {
    // Given an empty tracker
    const s = setup()
    // When / Then
    expect(await s.tracker.waitIdle(1000)).toBe(true)
  })

  it('waitIdle resolves true once everything settled, before the timeout', async () => {
    // Given a job in flight and a waiter with a long timeout
    const s = setup()
    await submitAs(s, batch('b1', ['a']), 'j1')
    let result: boolean | undefined
    void s.tracker.waitIdle(60_000).then((r) => {
      result = r
    })
    await flush()
    expect(result).toBeUndefined()

    // When the job finishes
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve(success(imported('a')))
    await flush()

    // Then the waiter resolves true without the clock having moved to the timeout
    expect(result).toBe(true)
  })

  it('waitIdle resolves true when the last batch is rejected without a job', async () => {
    // Given a single-file batch in submission and a waiter
    const s = setup()
    s.tracker.enqueue(batch('b1', ['x']))
    let result: boolean | undefined
    void s.tracker.waitIdle(60_000).then((r) => {
      result = r
    })

    // When the API rejects it
    s.client.submits[0]?.reject(apiError('file-data', 'HTTP 400'))
    await flush()

    // Then the waiter resolves true
    expect(result).toBe(true)
  })

  it('waitIdle resolves false on timeout while a job is unfinished', async () => {
    // Given a submit that never returns
    const s = setup()
    s.tracker.enqueue(batch('b1', ['a']))
    let result: boolean | undefined
    void s.tracker.waitIdle(1000).then((r) => {
      result = r
    })

    // When just under the timeout passes, it is still waiting
    await vi.advanceTimersByTimeAsync(999)
    expect(result).toBeUndefined()

    // When the timeout passes
    await vi.advanceTimersByTimeAsync(1)

    // Then it resolves false
    expect(result).toBe(false)
  })

  it('close() stops polling', async () => {
    // Given a polling tracker with a job
    const s = setup({ pollIntervalMs: 1000 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    await vi.advanceTimersByTimeAsync(1000)
    expect(s.client.status).toHaveBeenCalledTimes(1)
    s.client.statuses[0]?.resolve(STARTED)
    await flush()

    // When it is closed
    s.tracker.close()
    await vi.advanceTimersByTimeAsync(10_000)

    // Then no further reads happen, even on a webhook
    expect(s.client.status).toHaveBeenCalledTimes(1)
    s.tracker.notify('j1')
    expect(s.client.status).toHaveBeenCalledTimes(1)
  })
})

describe('JobTracker and the classes of the API’s answers', () => {
  const holdOf = async (s: Setup, cause: string) =>
    (await s.metrics.apiHold.get()).values.find((v) => v.labels.cause === cause)?.value

  it('a 401 on a status read holds the job: not ready, one probe per re-check, no timeout, then it settles', async () => {
    // Given a running job with a 3 s timeout, polled every second, re-checked every 5 s while refused
    const s = setup({ pollIntervalMs: 1000, jobTimeoutMs: 3000, holdRecheckMs: 5000, maxJobsInFlight: 2 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    await submitAs(s, batch('b2', ['b']), 'j2')
    await vi.advanceTimersByTimeAsync(1000)
    s.client.statuses[0]?.resolve(STARTED)
    s.client.statuses[1]?.resolve(STARTED)
    await flush()

    // When the token is revoked: the next reads answer 401
    await vi.advanceTimersByTimeAsync(1000)
    const refused = () =>
      apiError('credentials', 'status answered HTTP 401', {
        endpoint: 'status',
        status: 401,
        setting: 'LIVINGDOCS_ACCESS_TOKEN or LIVINGDOCS_ACCESS_TOKEN_FILE',
      })
    for (const call of s.client.statuses.slice(2)) call.reject(refused())
    await flush()

    // Then the tracker is not ready, naming the setting, and the gauge the alert watches is 1
    expect(s.tracker.fatalProblem).toContain('check LIVINGDOCS_ACCESS_TOKEN or LIVINGDOCS_ACCESS_TOKEN_FILE')
    expect(await holdOf(s, 'credentials')).toBe(1)

    // When 24 s pass with the API refusing: nothing polls for 5 s, then one job is read per re-check
    // (at the first poll after it)
    let answered = s.client.statuses.length
    await vi.advanceTimersByTimeAsync(4999)
    expect(s.client.statuses.length).toBe(answered)
    for (let t = 0; t < 4; t++) {
      await vi.advanceTimersByTimeAsync(6000)
      const pending = s.client.statuses.slice(answered)
      answered = s.client.statuses.length
      for (const call of pending) call.reject(refused())
      await flush()
      expect(pending).toHaveLength(1)
    }

    // Then nothing timed out, though 24 s are far past the 3 s timeout
    expect(s.settled).toHaveLength(0)

    // When the token works again: the probe reads the job finished, the other one at the next poll
    await vi.advanceTimersByTimeAsync(6000)
    const probe = s.client.statuses.at(-1)
    probe?.resolve(success(imported(probe.jobId === 'j1' ? 'a' : 'b')))
    await flush()
    expect(s.tracker.fatalProblem).toBeNull()
    expect(await holdOf(s, 'credentials')).toBe(0)
    await vi.advanceTimersByTimeAsync(1000)
    const other = s.client.statuses.at(-1)
    other?.resolve(success(imported(other.jobId === 'j1' ? 'a' : 'b')))
    await flush()

    // Then both settle with their own results, none FAILED
    expect(s.settled.flatMap((j) => j.outcomes.map((o) => o.outcome.state))).toEqual(['imported', 'imported'])
  })

  it('a refused submit (configuration) holds submits only: running jobs are still polled and settle', async () => {
    // Given two running jobs, and a submit answered 415 (one endpoint refused)
    const s = setup({ pollIntervalMs: 1000, maxJobsInFlight: 3 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    await submitAs(s, batch('b2', ['b']), 'j2')
    s.tracker.enqueue(batch('b3', ['c']))
    s.client.submits[2]?.reject(
      apiError('configuration', 'submit answered HTTP 415', { status: 415, setting: 'LIVINGDOCS_BASE_URL' }),
    )
    await flush()
    expect(s.tracker.fatalProblem).toContain('submit answered HTTP 415')

    // When the next poll comes, both jobs are read, and settle
    await vi.advanceTimersByTimeAsync(1000)
    expect(s.client.statuses.map((c) => c.jobId).sort()).toEqual(['j1', 'j2'])
    s.client.statuses[0]?.resolve(success(imported(s.client.statuses[0].jobId === 'j1' ? 'a' : 'b')))
    s.client.statuses[1]?.resolve(success(imported(s.client.statuses[1].jobId === 'j1' ? 'a' : 'b')))
    await flush()
    expect(s.settled).toHaveLength(2)
    // And the refused submit is still held (not ready) until its own re-check succeeds
    expect(s.tracker.fatalProblem).not.toBeNull()
    expect(s.client.submits).toHaveLength(3)
  })

  it('a quota 429 backs off up to maxHoldMs, raises the quota gauge, keeps polling and loses nothing', async () => {
    // Given a running job and a batch whose submit hits the plan's usage limit, a 2 s ceiling
    const s = setup({ maxHoldMs: 2000, pollIntervalMs: 1000, resubmitDelayMs: 100 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    s.tracker.enqueue(batch('b2', ['b']))
    s.client.submits[1]?.reject(apiError('quota', 'submit answered HTTP 429: Usage Limit Exceeded'))
    await flush()

    // Then the quota gauge is 1, nothing is FAILED, and the batch waits at least half the ceiling
    expect(await holdOf(s, 'quota')).toBe(1)
    await vi.advanceTimersByTimeAsync(999)
    expect(s.client.submits).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1001)
    expect(s.client.submits).toHaveLength(3)
    // (the running job was polled meanwhile: the quota holds submits only)
    expect(s.client.statuses.map((c) => c.jobId)).toContain('j1')

    // When the limit is lifted
    s.client.submits[2]?.resolve('j2')
    await flush()

    // Then the gauge is 0 and the batch is a job
    expect(await holdOf(s, 'quota')).toBe(0)
    expect(s.tracker.tracks('j2')).toBe(true)
    expect(s.settled).toHaveLength(0)
  })

  it('a 404 for a job younger than the grace window is not visible yet: read again, no resubmit', async () => {
    // Given a 10 s grace window
    const s = setup({ jobVisibilityGraceMs: 10_000, pollIntervalMs: 1000 })
    await submitAs(s, batch('b1', ['a']), 'j1')

    // When its webhook makes the bridge read it at once and Livingdocs does not know it yet
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve({ finished: true, state: 'lost' })
    await flush()

    // Then nothing is resubmitted or settled; the next poll finds it finished
    expect(s.client.submits).toHaveLength(1)
    expect(s.settled).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1000)
    s.client.statuses[1]?.resolve(success(imported('a')))
    await flush()
    expect(outcomeStates(s.settled[0])).toEqual([['a', 'imported', undefined]])
  })

  it('a job still unknown after the grace window is lost: resubmitted after the resubmit delay', async () => {
    const s = setup({ jobVisibilityGraceMs: 3000, pollIntervalMs: 1000, resubmitDelayMs: 2000 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(1000)
      s.client.statuses[i]?.resolve({ finished: true, state: 'lost' })
      await flush()
    }
    // At 3 s the job is past the window: lost, and its batch waits 2 s before it goes again
    expect(s.client.submits).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1999)
    expect(s.client.submits).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(s.client.submits).toHaveLength(2)
    expect(idsOf(s.client.submits[1])).toEqual(['a'])
  })

  it('an unreadable status keeps the job and reads it again at the next poll', async () => {
    const s = setup({ pollIntervalMs: 1000, jobTimeoutMs: 1500 })
    await submitAs(s, batch('b1', ['a']), 'j1')
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(1000)
      s.client.statuses[i]?.reject(
        apiError('unreadable', 'status answered HTTP 200: a job status of an unknown shape', {
          endpoint: 'status',
          status: 200,
        }),
      )
      await flush()
    }
    expect(s.client.statuses).toHaveLength(5)
    expect(s.settled).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1000)
    s.client.statuses[5]?.resolve(success(imported('a')))
    await flush()
    expect(outcomeStates(s.settled[0])).toEqual([['a', 'imported', undefined]])
  })
})
