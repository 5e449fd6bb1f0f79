// SubmitQueue against a scripted fake ImportClient, with a real ApiGate and JobSlots: the request, the
// order, the slots, and what each failed submit does to its batch.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BridgeError } from '../../../src/errors.ts'
import { importRequestBody } from '../../../src/import/import-request.ts'
import { RequestWithdrawn } from '../../../src/import/rate-limit.ts'
import { signBatchId, verifyBatchSignature } from '../../../src/import/webhook-signature.ts'
import { ApiGate } from '../../../src/jobs/api-gate.ts'
import { JobSlots } from '../../../src/jobs/job-slots.ts'
import {
  type AcceptedJob,
  RESUBMIT_DELAY_MS,
  SubmitQueue,
  type SubmitQueueOptions,
} from '../../../src/jobs/submit-queue.ts'
import { createMetrics, type Metrics } from '../../../src/metrics.ts'
import type { Batch, PendingFile } from '../../../src/model/files.ts'
import {
  apiError,
  testBatch as batch,
  batchIdOf,
  entryId,
  type FakeImportClient,
  fakeImportClient,
  idsOf,
  type SubmitCall,
} from '../../support/fake-import-client.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { registryMetric } from '../../support/metric-value.ts'
import { pendingFile, resetPendingFileOffsets } from '../../support/pending-file.ts'

interface Setup {
  queue: SubmitQueue
  client: FakeImportClient
  metrics: Metrics
  gate: ApiGate
  slots: JobSlots
  accepted: AcceptedJob[]
  rejected: Array<{ batch: Batch; reason: string }>
  /** How many submits ended (the queue's `submitEnded` calls). */
  ended: { count: number }
}

const queues: SubmitQueue[] = []

/** A queue whose accepted jobs hold their slots (as the tracker's followed jobs do) until `slots.jobLeft`. */
function setup({
  revoked,
  ...options
}: Partial<SubmitQueueOptions> & {
  maxJobsInFlight?: number
  revoked?: (files: PendingFile[]) => void
} = {}): Setup {
  const client = fakeImportClient()
  const metrics = createMetrics()
  const gate = new ApiGate({ metrics, logger: silentLogger })
  const slots = new JobSlots({ maxJobsInFlight: options.maxJobsInFlight ?? 4 }, { metrics })
  const accepted: AcceptedJob[] = []
  const rejected: Array<{ batch: Batch; reason: string }> = []
  const ended = { count: 0 }
  const queue = new SubmitQueue(
    {
      webhookUrl: 'https://bridge.example/webhooks/livingdocs/import-jobs',
      resubmitDelayMs: 1000,
      holdRecheckMs: 30_000,
      maxHoldMs: 900_000,
      ...options,
    },
    {
      client: client.client,
      metrics,
      logger: silentLogger,
      gate,
      slots,
      accepted: (job) => {
        accepted.push(job)
        slots.jobFollowed()
      },
      rejected: (b, reason) => rejected.push({ batch: b, reason }),
      submitEnded: () => ended.count++,
      revoked,
    },
  )
  queues.push(queue)
  return { queue, client, metrics, gate, slots, accepted, rejected, ended }
}

/** Lets pending promise callbacks run without moving the clock. */
const flush = () => vi.advanceTimersByTimeAsync(0)

beforeEach(() => {
  vi.useFakeTimers()
  resetPendingFileOffsets()
})
afterEach(() => {
  for (const q of queues.splice(0)) q.close()
  vi.useRealTimers()
})

describe('SubmitQueue requests', () => {
  it('sends the batch as one import request with webhook and context', async () => {
    // Given a queue with a webhook URL
    const s = setup()
    const b = batch('b1', ['a', 'b'])

    // When a batch is pushed
    s.queue.push(b)

    // Then one request carries the batch's systemName, file entries, webhook and context
    expect(s.client.submit).toHaveBeenCalledTimes(1)
    const sent = s.client.submits[0]?.request
    expect(sent === undefined ? undefined : JSON.parse(importRequestBody(sent).toString('utf8'))).toEqual({
      systemName: 'archive',
      files: [
        {
          id: 'a',
          url: 'https://files.example/a',
          fileName: 'a.pdf',
          mediaType: 'file',
          metadata: { n: 'a' },
        },
        {
          id: 'b',
          url: 'https://files.example/b',
          fileName: 'b.pdf',
          mediaType: 'file',
          metadata: { n: 'b' },
        },
      ],
      webhook: 'https://bridge.example/webhooks/livingdocs/import-jobs',
      context: { source: 'file-import-bridge', batchId: 'b1' },
    })
  })

  it('signs context.batchId with the webhook secret (hex HMAC-SHA256)', () => {
    // Given a queue with a webhook secret
    const s = setup({ webhookSecret: 'tracker-secret-123456' })

    // When a batch is pushed
    s.queue.push(batch('b1', ['a']))

    // Then the context carries the batch id and its signature, which verifies with the secret only
    const context = s.client.submits[0]?.request.context as Record<string, string>
    expect(context).toEqual({
      source: 'file-import-bridge',
      batchId: 'b1',
      signature: signBatchId('tracker-secret-123456', 'b1'),
    })
    expect(context.signature).toMatch(/^[0-9a-f]{64}$/)
    expect(verifyBatchSignature('tracker-secret-123456', 'b1', context.signature as string)).toBe(true)
    expect(verifyBatchSignature('tracker-secret-123457', 'b1', context.signature as string)).toBe(false)
    expect(verifyBatchSignature('tracker-secret-123456', 'b2', context.signature as string)).toBe(false)
  })

  it("hands Livingdocs the batch's own signed webhook URL when a secret is set", () => {
    // Given a queue with a webhook base URL and a secret
    const s = setup({ webhookSecret: 'tracker-secret-123456' })
    // When a batch is submitted
    s.queue.push(batch('b1.2', ['a']))
    // Then its request's webhook is <base>/<batchId>?sig=<HMAC of the batch id>
    expect(s.client.submits[0]?.request.webhook).toBe(
      `https://bridge.example/webhooks/livingdocs/import-jobs/b1.2?sig=${signBatchId('tracker-secret-123456', 'b1.2')}`,
    )
  })

  it('omits the webhook when no webhook URL is configured', () => {
    // Given a queue without a webhook URL
    const s = setup({ webhookUrl: undefined })

    // When a batch is pushed
    s.queue.push(batch('b1', ['a']))

    // Then the request has no webhook property
    expect(s.client.submits[0]?.request).not.toHaveProperty('webhook')
  })

  it('hands an accepted job to the tracker with its batch, submit time and resubmit count, and counts it', async () => {
    // Given a submit at t=5000
    vi.setSystemTime(5000)
    const s = setup()
    s.queue.push(batch('b1', ['a', 'b']))

    // When Livingdocs answers with a job id
    s.client.submits[0]?.resolve('j1')
    await flush()

    // Then the job is accepted as submitted at 5000, never resubmitted, and the batch is counted
    expect(s.accepted.map((j) => [j.jobId, j.batch.id, j.submittedAt, j.resubmits])).toEqual([
      ['j1', 'b1', 5000, 0],
    ])
    expect(await registryMetric(s.metrics.registry, 'bridge_batches_submitted_total')).toBe(1)
    expect(s.slots.submitting).toBe(0)
    expect(s.ended.count).toBe(1)
  })

  it('does not count a failed submission as a submitted batch', async () => {
    // Given a submit that fails
    const s = setup()
    s.queue.push(batch('b1', ['a']))
    s.client.submits[0]?.reject(new BridgeError('API_SERVER_ERROR', 'HTTP 503', { retryable: true }))
    await flush()

    // Then nothing is counted, no job is in flight, and the submit ended
    expect(await registryMetric(s.metrics.registry, 'bridge_batches_submitted_total')).toBe(0)
    expect(await registryMetric(s.metrics.registry, 'bridge_jobs_in_flight')).toBe(0)
    expect(s.slots.inFlight).toBe(0)
    expect(s.ended.count).toBe(1)
  })
})

describe('SubmitQueue slots and order', () => {
  it('submits while slots are free, in order, and the next batch once a slot frees and the queue is pumped', async () => {
    // Given two slots and three batches
    const s = setup({ maxJobsInFlight: 2 })
    for (const id of ['b1', 'b2', 'b3']) s.queue.push(batch(id, [`${id}-f`]))

    // Then two submits go out; the third waits, also once both are jobs
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2'])
    expect(s.slots.submitting).toBe(2)
    s.client.submits[0]?.resolve('j1')
    s.client.submits[1]?.resolve('j2')
    await flush()
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2'])
    expect(s.queue.length).toBe(1)
    expect(s.queue.files).toBe(1)

    // When a webhook frees a slot and the tracker pumps
    s.slots.freedByWebhook()
    s.queue.pump()

    // Then the third goes out
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2', 'b3'])
    expect(s.queue.length).toBe(0)
  })

  it('fills the slot a failed submit leaves at once, by itself', async () => {
    // Given one slot, a submit in flight and a batch waiting
    const s = setup({ maxJobsInFlight: 1, resubmitDelayMs: 60_000 })
    s.queue.push(batch('b1', ['a']))
    s.queue.push(batch('b2', ['b']))
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1'])

    // When the submit is rejected for its single file's data
    s.client.submits[0]?.reject(apiError('file-data', 'HTTP 422: bad mediaType'))
    await flush()

    // Then the next batch goes out without anyone pumping
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2'])
  })

  it('submits nothing while the gate holds every request, then what waits', async () => {
    const s = setup()
    s.gate.holdAll(Date.now() + 10_000)
    s.queue.push(batch('b1', ['a']))
    await vi.advanceTimersByTimeAsync(9999)
    expect(s.client.submits).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1'])
  })

  it("submits nothing during an operator's pause, lists what waits, and submits it on resume", async () => {
    const s = setup()
    s.queue.paused = true
    s.queue.push(batch('b1', ['a']))
    s.queue.push(batch('b2', ['b']))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(s.client.submits).toHaveLength(0)
    expect(s.queue.batches.map((b) => b.id)).toEqual(['b1', 'b2'])
    s.queue.paused = false
    await flush()
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2'])
  })

  it('while the API refuses submits, the head batch alone asks again', async () => {
    // Given a refused submit and two more batches
    const s = setup({ holdRecheckMs: 1000 })
    s.queue.push(batch('b1', ['a']))
    s.client.submits[0]?.reject(apiError('credentials', 'HTTP 401'))
    await flush()
    s.queue.push(batch('b2', ['b']))
    s.queue.push(batch('b3', ['c']))

    // When the re-check comes
    await vi.advanceTimersByTimeAsync(1000)

    // Then b1 alone is sent, however many slots are free
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b1'])

    // When it is accepted, the others follow
    s.client.submits[1]?.resolve('j1')
    await flush()
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b1', 'b2', 'b3'])
  })

  it('puts the batch of a lost job back at the head, submitted after the resubmit delay', async () => {
    // Given a lost job's batch put back while another batch waits behind a full slot
    const s = setup({ maxJobsInFlight: 1, resubmitDelayMs: 2000 })
    s.queue.push(batch('b0', ['z']))
    s.client.submits[0]?.resolve('j0')
    await flush()
    s.queue.push(batch('b2', ['b']))
    expect(s.queue.resubmitLater(batch('b1', ['a']), 1)).toBe(2000)

    // When the lost job's slot is free
    s.slots.jobLeft(false)
    s.queue.pump()

    // Then nothing goes before the delay, then b1 (its resubmit counted) before b2
    await vi.advanceTimersByTimeAsync(1999)
    expect(s.client.submits.map(batchIdOf)).toEqual(['b0'])
    await vi.advanceTimersByTimeAsync(1)
    expect(s.client.submits.map(batchIdOf)).toEqual(['b0', 'b1'])
    s.client.submits[1]?.resolve('j1')
    await flush()
    expect(s.accepted.at(-1)?.resubmits).toBe(1)
  })

  it(`resubmits after RESUBMIT_DELAY_MS (${RESUBMIT_DELAY_MS} ms) when no resubmitDelayMs is given`, async () => {
    const s = setup({ resubmitDelayMs: undefined })
    s.queue.push(batch('b1', ['a']))
    s.client.submits[0]?.reject(new BridgeError('API_SERVER_ERROR', 'HTTP 503', { retryable: true }))
    await flush()
    await vi.advanceTimersByTimeAsync(RESUBMIT_DELAY_MS - 1)
    expect(s.client.submits).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(s.client.submits).toHaveLength(2)
  })
})

describe('SubmitQueue failed submits', () => {
  it('submits the batch again after resubmitDelayMs on a retryable error', async () => {
    // Given a submit that fails with a retryable server error
    const s = setup({ resubmitDelayMs: 2000 })
    s.queue.push(batch('b1', ['a', 'b']))
    s.client.submits[0]?.reject(new BridgeError('API_SERVER_ERROR', 'HTTP 503', { retryable: true }))
    await flush()

    // Then nothing is rejected, the files stay queued and nothing is sent before the delay
    expect(s.rejected).toHaveLength(0)
    expect(s.queue.files).toBe(2)
    await vi.advanceTimersByTimeAsync(1999)
    expect(s.client.submits).toHaveLength(1)

    // When the delay has passed
    await vi.advanceTimersByTimeAsync(1)

    // Then the same batch is sent again
    expect(s.client.submits).toHaveLength(2)
    expect(batchIdOf(s.client.submits[1])).toBe('b1')
    expect(idsOf(s.client.submits[1])).toEqual(['a', 'b'])
    expect(s.rejected).toHaveLength(0)
  })

  it('keeps later batches behind a batch waiting for its resubmit', async () => {
    // Given a failed first batch waiting for its resubmit
    const s = setup({ resubmitDelayMs: 2000 })
    s.queue.push(batch('b1', ['a']))
    s.client.submits[0]?.reject(new BridgeError('API_SERVER_ERROR', 'HTTP 502', { retryable: true }))
    await flush()

    // When another batch is pushed
    s.queue.push(batch('b2', ['b']))

    // Then it waits too, and after the delay b1 goes first
    expect(s.client.submits).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(2000)
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b1', 'b2'])
  })

  it('re-checks a refused configuration every holdRecheckMs (API_HOLD_RECHECK_MS)', async () => {
    // Given a re-check every 45 s
    const s = setup({ holdRecheckMs: 45_000 })
    s.queue.push(batch('b1', ['a']))
    s.client.submits[0]?.reject(apiError('credentials', 'HTTP 401'))
    await flush()

    // When 44.999 s pass, nothing is sent; at 45 s the batch is
    await vi.advanceTimersByTimeAsync(44_999)
    expect(s.client.submits).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(s.client.submits).toHaveLength(2)
  })

  it('a refused submit makes the gate name the problem until a submit is accepted', async () => {
    const s = setup({ holdRecheckMs: 1000 })
    s.queue.push(batch('b1', ['a']))
    s.client.submits[0]?.reject(apiError('configuration', 'HTTP 415', { setting: 'LIVINGDOCS_BASE_URL' }))
    await flush()
    expect(s.gate.problem).toBe('HTTP 415 (check LIVINGDOCS_BASE_URL)')
    await vi.advanceTimersByTimeAsync(1000)
    s.client.submits[1]?.resolve('j1')
    await flush()
    expect(s.gate.problem).toBeNull()
  })

  it('splits a rejected batch into halves, the first half first', async () => {
    const s = setup({ maxJobsInFlight: 1 })
    s.queue.push(batch('b1', ['f1', 'f2', 'f3']))
    s.client.submits[0]?.reject(apiError('batch-data', 'HTTP 400: files[2].url must be reachable'))
    await flush()
    expect(s.client.submits.map(idsOf)).toEqual([
      ['f1', 'f2', 'f3'],
      ['f1', 'f2'],
    ])
    expect(s.queue.length).toBe(1)
    expect(s.rejected).toHaveLength(0)
  })

  it('fails a single rejected file at once without splitting', async () => {
    // Given a batch of one file that the API rejects
    const s = setup()
    s.queue.push(batch('b1', ['x']))
    s.client.submits[0]?.reject(apiError('file-data', 'HTTP 422: bad mediaType'))
    await flush()

    // Then it is rejected with the API's message and not sent again
    expect(s.rejected).toHaveLength(1)
    expect(s.rejected[0]?.batch.id).toBe('b1')
    expect(s.rejected[0]?.reason).toBe('rejected by the import API: HTTP 422: bad mediaType')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(s.client.submits).toHaveLength(1)
  })

  it('a Retry-After of 30 days arms no timer above 2^31-1 ms and asks again after maxHoldMs', async () => {
    // Given a submit answered 429 with Retry-After: 2592000 (30 days), a ceiling of 60 s
    const armed: number[] = []
    const real = globalThis.setTimeout
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      armed.push(ms ?? 0)
      return real(fn, ms)
    }) as typeof setTimeout)
    try {
      const s = setup({ maxHoldMs: 60_000 })
      s.queue.push(batch('b1', ['a']))
      s.client.submits[0]?.reject(
        apiError('retry', 'submit answered HTTP 429', { status: 429, retryAfterMs: 2_592_000_000 }),
      )
      await flush()

      // When a minute passes
      await vi.advanceTimersByTimeAsync(59_999)
      expect(s.client.submits).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(1)

      // Then the batch is submitted again, and no timer was longer than a timer can wait
      expect(s.client.submits).toHaveLength(2)
      expect(Math.max(...armed)).toBeLessThanOrEqual(2 ** 31 - 1)
    } finally {
      spy.mockRestore()
    }
  })

  it('a quota answer backs off with one submit in flight at most, and the quota gauge up', async () => {
    // Given a submit that hit the usage limit, a 2 s ceiling, and two more batches
    const s = setup({ maxHoldMs: 2000, resubmitDelayMs: 100 })
    s.queue.push(batch('b1', ['a']))
    s.client.submits[0]?.reject(apiError('quota', 'submit answered HTTP 429: Usage Limit Exceeded'))
    await flush()
    s.queue.push(batch('b2', ['b']))
    s.queue.push(batch('b3', ['c']))

    // When the backoff (at most the ceiling) has passed
    await vi.advanceTimersByTimeAsync(2000)

    // Then b1 alone asks again
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b1'])
    expect((await s.metrics.apiHold.get()).values.find((v) => v.labels.cause === 'quota')?.value).toBe(1)
  })

  it('ends the quota hold when a submit fails otherwise after a quota answer, and then succeeds', async () => {
    const holdOf = async (cause: string) =>
      (await s.metrics.apiHold.get()).values.find((v) => v.labels.cause === cause)?.value
    // Given a submit that hit the usage limit
    const s = setup({ maxHoldMs: 2000, resubmitDelayMs: 100 })
    s.queue.push(batch('b1', ['a']))
    s.client.submits[0]?.reject(apiError('quota', 'submit answered HTTP 429: Usage Limit Exceeded'))
    await flush()
    expect(await holdOf('quota')).toBe(1)

    // When its next try fails for another reason, and the one after is accepted
    await vi.advanceTimersByTimeAsync(2000)
    s.client.submits[1]?.reject(apiError('retry', 'submit answered HTTP 503'))
    await flush()
    expect(await holdOf('quota')).toBe(0)
    await vi.advanceTimersByTimeAsync(100)
    s.client.submits[2]?.resolve('j1')
    await flush()

    // Then the quota gauge stays 0 and the batch is a job
    expect(await holdOf('quota')).toBe(0)
    expect(s.accepted.map((j) => j.jobId)).toEqual(['j1'])
  })

  it('close() stops a pending resubmit and new submissions', async () => {
    // Given a batch waiting for its resubmit
    const s = setup({ resubmitDelayMs: 1000 })
    s.queue.push(batch('b1', ['a']))
    s.client.submits[0]?.reject(new BridgeError('API_SERVER_ERROR', 'HTTP 500', { retryable: true }))
    await flush()

    // When the queue is closed and time passes, and another batch arrives
    s.queue.close()
    await vi.advanceTimersByTimeAsync(5000)
    s.queue.push(batch('b2', ['b']))

    // Then nothing more is sent; the batches stay queued
    expect(s.client.submits).toHaveLength(1)
    expect(s.queue.length).toBe(2)
  })
})

describe('SubmitQueue after a rebalance', () => {
  const on = (partition: number) => (e: string) => pendingFile(e, { partition, topic: 'in' })

  it('takes the files of revoked partitions out of waiting batches, so only owned files are submitted', async () => {
    // Given one job slot held by a submitted batch, and two batches waiting: one with files of
    // partitions 0 and 1, one of partition 1 alone
    const s = setup({ maxJobsInFlight: 1 })
    s.queue.push(batch('b1', ['a'], 'linger', on(0)))
    await flush()
    const mixed = batch('b2', ['p0-x', 'p1-y', 'p0-z'], 'linger', (e) => on(e.startsWith('p0') ? 0 : 1)(e))
    s.queue.push(mixed)
    s.queue.push(batch('b3', ['p1-w'], 'linger', on(1)))

    // When partition 1 is revoked
    const dropped = s.queue.dropPartitions((p) => p.partition === 0)

    // Then its files come back, the batch left empty is gone, the other keeps its place with its owned files
    expect(dropped.map((f) => f.event.externalId)).toEqual(['p1-y', 'p1-w'])
    expect(s.queue.batches.map((b) => [b.id, b.files.map((f) => f.event.externalId)])).toEqual([
      ['b2', ['p0-x', 'p0-z']],
    ])
    expect(s.queue.files).toBe(2)
    // And once the slot is free, the batch goes with the owned files alone
    s.slots.jobLeft(false)
    s.queue.pump()
    await flush()
    expect(batchIdOf(s.client.submits[1])).toBe('b2')
    expect(s.client.submits[1]?.request.files.map(entryId)).toEqual(['p0-x', 'p0-z'])
    expect(s.client.submits).toHaveLength(2)
  })
})

describe('SubmitQueue during a rebalance', () => {
  it('submits nothing from the start of a rebalance until the join, then what is still owned', async () => {
    // Given a queue in the middle of a rebalance
    const s = setup({ maxJobsInFlight: 4 })
    s.queue.rebalancing = true

    // When batches come
    s.queue.push(batch('b1', ['a'], 'linger', (e) => pendingFile(e, { partition: 0, topic: 'in' })))
    s.queue.push(batch('b2', ['b'], 'linger', (e) => pendingFile(e, { partition: 1, topic: 'in' })))
    await flush()

    // Then none is submitted
    expect(s.client.submits).toHaveLength(0)

    // When the join revokes partition 1 and ends the rebalance
    s.queue.dropPartitions((p) => p.partition === 0)
    s.queue.rebalancing = false
    await flush()

    // Then the batch of partition 0 alone goes
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1'])
  })
})

describe('SubmitQueue: a submit that waited for the rate limit', () => {
  /** The rate limit's turn for submit `call`: sent if still wanted, else rejected as withdrawn. */
  const turn = (call: { stillWanted: (() => boolean) | undefined; reject: (err: unknown) => void }) => {
    const wanted = call.stillWanted?.() ?? true
    if (!wanted) call.reject(new RequestWithdrawn('withdrawn'))
    return wanted
  }
  const onPartition = (partition: number) => (e: string) => pendingFile(e, { partition, topic: 'in' })

  it('is withdrawn unsent when a join revoked a partition of its files: those go to `revoked`, the rest is submitted', async () => {
    // Given a batch of partitions 0 and 1 taken for a submit, waiting for the rate limit
    const revoked: string[] = []
    const s = setup({ revoked: (files) => revoked.push(...files.map((f) => f.event.externalId)) })
    const files = [...['a', 'b'].map(onPartition(0)), ...['c'].map(onPartition(1))]
    s.queue.push({ ...batch('b1', []), files })
    await flush()
    expect(s.client.submits).toHaveLength(1)

    // When a join revokes partition 1, then the rate limit lets the submit go
    s.queue.dropPartitions((p) => p.partition === 0)
    expect(turn(s.client.submits[0] as SubmitCall)).toBe(false)
    await flush()

    // Then partition 1's file is the new owner's, and partition 0's files are submitted alone
    expect(revoked).toEqual(['c'])
    expect(s.client.submits.map(idsOf)).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b'],
    ])
    expect(turn(s.client.submits[1] as SubmitCall)).toBe(true)
  })

  it('goes back to the head of the queue while a rebalance or a pause holds submits, and goes after it; a closed queue drops it', async () => {
    const s = setup()
    s.queue.push(batch('b1', ['a']))
    s.queue.push(batch('b2', ['b']))
    await flush()
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2'])

    // When a rebalance starts while both wait for the rate limit
    s.queue.rebalancing = true
    expect([turn(s.client.submits[0] as SubmitCall), turn(s.client.submits[1] as SubmitCall)]).toEqual([
      false,
      false,
    ])
    await flush()
    // Then nothing more is submitted, and both wait in the queue in their order
    expect(s.client.submits).toHaveLength(2)
    expect(s.queue.batches.map((b) => b.id)).toEqual(['b1', 'b2'])

    // When the join ends it (both partitions kept)
    s.queue.dropPartitions(() => true)
    s.queue.rebalancing = false
    await flush()
    expect(s.client.submits.map(batchIdOf)).toEqual(['b1', 'b2', 'b1', 'b2'])

    // When an operator pauses while they wait again, then the queue closes
    s.queue.paused = true
    expect(turn(s.client.submits[2] as SubmitCall)).toBe(false)
    await flush()
    expect(s.queue.batches.map((b) => b.id)).toEqual(['b1'])
    s.queue.close()
    expect(turn(s.client.submits[3] as SubmitCall)).toBe(false)
    await flush()
    expect(s.queue.batches.map((b) => b.id)).toEqual(['b1'])
    expect(s.client.submits).toHaveLength(4)
  })
})

describe('SubmitQueue order', () => {
  const at = (producedAt: number) => (e: string) => ({ ...pendingFile(e), producedAt })

  it('submits the batch with the oldest record first, behind batches put back for a retry', async () => {
    // Given one job slot, held
    const s = setup({ maxJobsInFlight: 1 })
    s.queue.push(batch('b0', ['x'], 'linger', at(1)))
    await flush()

    // When batches come whose oldest records are newer, older, and as old as one queued
    s.queue.push(batch('new', ['a'], 'linger', at(300)))
    s.queue.push(batch('old', ['b'], 'linger', at(100)))
    s.queue.push(batch('same', ['c'], 'linger', at(300)))
    s.queue.push(batch('none', ['d']))

    // Then the oldest goes first, ties in the order they came; a batch without timestamps counts as oldest
    expect(s.queue.batches.map((b) => b.id)).toEqual(['none', 'old', 'new', 'same'])
  })

  it('lets the partitions take turns: a backlog produced at once is not submitted one partition after another', async () => {
    // Given one job slot, held
    const s = setup({ maxJobsInFlight: 1 })
    s.queue.push(batch('b0', ['x'], 'linger', at(1)))
    await flush()

    // When the backlogs of partitions 5, 1 and 3 come, one partition after another, all records as old
    for (const p of [5, 1, 3])
      for (let n = 0; n < 2; n++)
        s.queue.push(
          batch(`p${p}-${n}`, [`p${p}-${n}-a`, `p${p}-${n}-b`], 'max-files', (e) => ({
            ...pendingFile(e, { partition: p }),
            producedAt: 500,
          })),
        )

    // Then each partition's first batch is among the next three submitted (a partition's commit waits for its first)
    expect(s.queue.batches.map((b) => b.id)).toEqual(['p5-0', 'p1-0', 'p3-0', 'p5-1', 'p1-1', 'p3-1'])

    // And the submits follow that order as slots free
    for (let i = 0; i < 3; i++) {
      s.slots.jobLeft(false)
      s.queue.pump()
      await flush()
    }
    expect(s.client.submits.map(batchIdOf)).toEqual(['b0', 'p5-0', 'p1-0', 'p3-0'])
  })
})
