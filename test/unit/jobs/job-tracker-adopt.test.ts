// JobTracker hooks for the job log: onJobStarted, tracks() and adopt().

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { JobStatus } from '../../../src/import/import-client.ts'
import { JobTracker } from '../../../src/jobs/job-tracker.ts'
import { createMetrics } from '../../../src/metrics.ts'
import type { Batch } from '../../../src/model/files.ts'
import type { ConcludedJob } from '../../../src/model/outcomes.ts'
import { fakeImportClient, JOB_TRACKER_OPTIONS, testBatch } from '../../support/fake-import-client.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { pendingFile } from '../../support/pending-file.ts'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

const batch = (id: string, ids: string[]): Batch => testBatch(id, ids, 'adopted', (e) => pendingFile(e))

function setup(status: (jobId: string) => Promise<JobStatus>) {
  const client = fakeImportClient({ onSubmit: async () => 'job-new', onStatus: status })
  const settled: ConcludedJob[] = []
  const started: Array<[string, string]> = []
  const tracker = new JobTracker(
    { ...JOB_TRACKER_OPTIONS, pollIntervalMs: 1000, webhookUrl: undefined },
    {
      client: client.client,
      logger: silentLogger,
      metrics: createMetrics(),
      onConcluded: (job) => settled.push(job),
      onJobStarted: (jobId, b) => started.push([jobId, b.id]),
    },
  )
  tracker.start()
  return { tracker, client, settled, started }
}

describe('JobTracker and the job log', () => {
  it('reports each job Livingdocs accepted through onJobStarted', async () => {
    const { tracker, started } = setup(async () => ({
      finished: false,
      state: 'started',
      startedAt: undefined,
    }))
    tracker.enqueue(batch('b1', ['a']))
    await vi.advanceTimersByTimeAsync(0)
    expect(started).toEqual([['job-new', 'b1']])
    expect(tracker.tracks('job-new')).toBe(true)
    tracker.close()
  })

  it('follows an adopted job without submitting it, and settles it from its status', async () => {
    // Given a job running in Livingdocs that another process submitted
    let finished = false
    const { tracker, client, settled } = setup(async (jobId) =>
      finished
        ? {
            finished: true,
            state: 'success',
            files: [
              {
                externalId: 'a',
                systemName: 'archive',
                state: 'imported',
                mediaId: `m-${jobId}`,
                reason: undefined,
              },
            ],
          }
        : { finished: false, state: 'started', startedAt: undefined },
    )

    // When it is adopted, then its status is read at once, and it is followed
    expect(tracker.adopt('job-old', batch('b0', ['a']))).toBe(true)
    await vi.advanceTimersByTimeAsync(0)
    expect(client.status).toHaveBeenCalledWith('job-old', 'file')
    expect(tracker.tracks('job-old')).toBe(true)
    expect(tracker.adopt('job-old', batch('b0', ['a']))).toBe(false)

    // When it finishes, then the poller settles it with the job's outcome, and nothing was submitted
    finished = true
    await vi.advanceTimersByTimeAsync(1000)
    expect(settled).toHaveLength(1)
    expect(settled[0]?.jobId).toBe('job-old')
    expect(settled[0]?.outcomes.map((o) => [o.file.event.externalId, o.outcome.state])).toEqual([
      ['a', 'imported'],
    ])
    expect(client.submit).not.toHaveBeenCalled()
    expect(tracker.tracks('job-old')).toBe(false)
    tracker.close()
  })

  it("an adopted job holds one of this replica's job slots, as a submitted one does (issue 26)", async () => {
    // Given a replica whose share of the group's MAX_JOBS_IN_FLIGHT is 1, following an adopted job
    let finished = false
    const { tracker, client, settled } = setup(async () =>
      finished
        ? {
            finished: true,
            state: 'success',
            files: [
              { externalId: 'a', systemName: 'adopted', state: 'imported', mediaId: 'm', reason: undefined },
            ],
          }
        : { finished: false, state: 'started', startedAt: undefined },
    )
    tracker.setMaxJobsInFlight(1)
    tracker.adopt('job-old', batch('b0', ['a']))
    await vi.advanceTimersByTimeAsync(0)
    expect(tracker.jobsInFlight).toBe(1)
    // When a batch of its own comes, then it waits: the share is taken
    tracker.enqueue(batch('b1', ['b']))
    await vi.advanceTimersByTimeAsync(0)
    expect(client.submit).not.toHaveBeenCalled()
    // When the adopted job finishes, then the batch is submitted
    finished = true
    await vi.advanceTimersByTimeAsync(1000)
    expect(settled.map((j) => j.jobId)).toEqual(['job-old'])
    expect(client.submit).toHaveBeenCalledTimes(1)
    tracker.close()
  })

  it('refuses adoption once closed', () => {
    const { tracker } = setup(async () => ({ finished: false, state: 'started', startedAt: undefined }))
    tracker.close()
    expect(tracker.adopt('job-old', batch('b0', ['a']))).toBe(false)
  })
})
