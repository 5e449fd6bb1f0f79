// The JobTracker's spans (src/telemetry/): one per import job, its submits and reads run in it, its
// webhook is its child, and how it ended is on it; against the scripted fake ImportClient.
import { SpanStatusCode, trace } from '@opentelemetry/api'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { JobStatus } from '../../../src/import/import-client.ts'
import { JobTracker } from '../../../src/jobs/job-tracker.ts'
import { createLogger } from '../../../src/logging.ts'
import { createMetrics } from '../../../src/metrics.ts'
import type { Batch } from '../../../src/model/files.ts'
import type { ConcludedJob } from '../../../src/model/outcomes.ts'
import type { BridgeTracing } from '../../../src/telemetry/bridge-tracing.ts'
import {
  apiError,
  testBatch as batch,
  entryId,
  fakeImportClient,
  idsOf,
  JOB_TRACKER_OPTIONS,
} from '../../support/fake-import-client.ts'
import { LogLines } from '../../support/log-lines.ts'
import { resetPendingFileOffsets } from '../../support/pending-file.ts'
import { recordSpans } from '../../support/span-recorder.ts'

const activeSpanId = () => trace.getActiveSpan()?.spanContext().spanId

const success = (ids: string[]): JobStatus => ({
  finished: true,
  state: 'success',
  files: ids.map((externalId) => ({
    externalId,
    systemName: 'archive',
    state: 'imported',
    mediaId: `m-${externalId}`,
    reason: undefined,
  })),
})

function setup(tracing: BridgeTracing) {
  const client = fakeImportClient()
  const logs = new LogLines()
  const settled: ConcludedJob[] = []
  const tracker = new JobTracker(JOB_TRACKER_OPTIONS, {
    client: client.client,
    logger: createLogger({ level: 'info', destination: logs.writable(), traceIds: true }),
    metrics: createMetrics(),
    onConcluded: (job) => settled.push(job),
    tracing,
  })
  tracker.start()
  trackers.push(tracker)
  return { tracker, client, settled, logs }
}

const trackers: JobTracker[] = []
const flush = () => vi.advanceTimersByTimeAsync(0)

/** A batch with its batch span, as the batcher closes it while tracing is on. */
function tracedBatch(tracing: BridgeTracing, id: string, ids: string[]): Batch {
  const b = batch(id, ids)
  b.span = tracing.batchSpan(b)
  return b
}

beforeEach(() => {
  vi.useFakeTimers()
  resetPendingFileOffsets()
})
afterEach(() => {
  for (const t of trackers.splice(0)) t.close()
  vi.useRealTimers()
})

describe('JobTracker spans', () => {
  it('runs the submit and the status reads in the job span, records the webhook under it, and hands it on', async () => {
    // Given a tracker that makes spans, whose API records the active span of each request
    const { tracing, named } = recordSpans()
    const s = setup(tracing)
    const submitSpans: Array<string | undefined> = []
    const readSpans: Array<string | undefined> = []
    s.client.onSubmit = async () => {
      submitSpans.push(activeSpanId())
      return 'j1'
    }
    s.client.onStatus = async () => {
      readSpans.push(activeSpanId())
      return success(['a', 'b'])
    }

    // When a batch is submitted and its job's webhook comes
    const b1 = tracedBatch(tracing, 'b1', ['a', 'b'])
    s.tracker.enqueue(b1)
    await flush()
    const route = '/webhooks/livingdocs/import-jobs/:batchId'
    expect(s.tracker.notify('j1', { batchId: 'b1', received: { route, traceHeaders: {} } })).toBe(true)
    await flush()

    // Then the concluded job carries its span, still open, in which the submit and the read ran
    const span = s.settled[0]?.span
    const jobSpanId = span?.spanContext().spanId
    expect(jobSpanId).toBeDefined()
    expect(submitSpans).toEqual([jobSpanId])
    expect(readSpans).toEqual([jobSpanId])
    expect(named('import job')).toEqual([])
    tracing.endJob(span)
    const [job] = named('import job')
    // And it is the child of the batch span, with the job id and its counts
    expect(job?.parentSpanContext?.spanId).toBe(b1.span?.spanId)
    expect(job?.attributes).toMatchObject({
      'livingdocs.import.job_id': 'j1',
      'livingdocs.import.end': 'concluded',
      'livingdocs.import.files.imported': 2,
    })
    // And the webhook is a server span under it
    expect(named(`POST ${route}`).map((w) => w.parentSpanContext?.spanId)).toEqual([jobSpanId])
    // And the job's log lines carry the job span's ids, the tracker's own lines none
    const line = (msg: string) => s.logs.lines.find((l) => l.msg === msg)
    expect(line('import job submitted')).toMatchObject({
      span_id: jobSpanId,
      trace_id: job?.spanContext().traceId,
    })
    expect(line('import job finished')).toMatchObject({ span_id: jobSpanId })
    expect(trace.getActiveSpan()).toBeUndefined()
  })

  it('ends a lost job’s span as lost; the batch’s next submit is a new job span under the same batch span', async () => {
    const { tracing, named } = recordSpans()
    const s = setup(tracing)
    const b1 = tracedBatch(tracing, 'b1', ['a'])
    s.tracker.enqueue(b1)
    s.client.submits[0]?.resolve('j1')
    await flush()
    s.tracker.notify('j1')
    s.client.statuses[0]?.resolve({ finished: true, state: 'lost' })
    await flush()

    expect(named('import job').map((j) => j.attributes['livingdocs.import.end'])).toEqual(['lost'])
    expect(named('import job')[0]?.status.code).toBe(SpanStatusCode.ERROR)
    await vi.advanceTimersByTimeAsync(1000)
    s.client.submits[1]?.resolve('j2')
    await flush()
    s.tracker.close()
    const jobs = named('import job')
    expect(
      jobs.map((j) => [j.attributes['livingdocs.import.job_id'], j.attributes['livingdocs.import.end']]),
    ).toEqual([
      ['j1', 'lost'],
      ['j2', 'stopped'],
    ])
    expect(jobs[1]?.attributes['livingdocs.import.resubmits']).toBe(1)
    expect(new Set(jobs.map((j) => j.parentSpanContext?.spanId))).toEqual(new Set([b1.span?.spanId]))
  })

  it('ends a split batch’s span as split; each part has its own; the rejected file’s job carries its span', async () => {
    // Given an API that rejects any request with f2
    const { tracing, named } = recordSpans()
    const s = setup(tracing)
    s.client.onSubmit = async (request) => {
      if (request.files.some((f) => entryId(f) === 'f2'))
        throw apiError(request.files.length > 1 ? 'batch-data' : 'file-data', 'HTTP 400: f2 is bad')
      return 'job-1'
    }
    // When a batch of f1, f2 is submitted
    s.tracker.enqueue(tracedBatch(tracing, 'b1', ['f1', 'f2']))
    await flush()
    expect(s.client.submits.map(idsOf)).toEqual([['f1', 'f2'], ['f1'], ['f2']])

    // Then the whole batch's job span ended split, and f2's concluded job carries one that ends rejected
    const rejected = s.settled.find((j) => j.jobId === null)
    tracing.endJob(rejected?.span)
    const ends = named('import job').map((j) => [
      j.attributes['livingdocs.import.files'],
      j.attributes['livingdocs.import.end'],
    ])
    expect(ends).toEqual([
      [2, 'split'],
      [1, 'rejected'],
    ])
    expect(named('import job').map((j) => j.status.message)).toEqual([
      'HTTP 400: f2 is bad',
      expect.stringContaining('f2 is bad'),
    ])
  })
})
