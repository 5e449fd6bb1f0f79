import type { ImportClient } from '../import/import-client.ts'
import { buildImportRequest, type ImportRequestOptions } from '../import/import-request.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { Batch } from '../pipeline/types.ts'
import { decideSubmitFailure, type SubmitFailurePolicy } from './submit-failure.ts'

/** A batch waiting to be submitted. */
export interface QueuedBatch {
  batch: Batch
  /** Times this batch was already submitted and its job was lost. */
  resubmits: number
  /** Not before this time, epoch ms (0: at once). */
  notBefore: number
}

/** Options of the {@link SubmitQueue}. */
export interface SubmitQueueOptions extends ImportRequestOptions, SubmitFailurePolicy {
  /** Most import jobs submitted and not finished at once. */
  maxJobsInFlight: number
}

/** An import job Livingdocs accepted. */
export interface AcceptedJob {
  jobId: string
  batch: Batch
  /** When the submit started, epoch ms. */
  submittedAt: number
  resubmits: number
  /** The batch's logger, with the job id bound. */
  logger: Logger
}

/**
 * Submits batches as import jobs ([F] §1.1), in the order they closed, while fewer than
 * `maxJobsInFlight` jobs run (the tracker's jobs plus the submits in flight). A batch waiting for a
 * later time (a resubmit) keeps every batch behind it waiting; while the API asked every request to wait
 * ({@link hold}), nothing is submitted. A failed submit is judged by `decideSubmitFailure`: the batch is
 * held (401/403/410: {@link refusedProblem} is set until a submit succeeds), split, failed, or retried.
 * One timer at most, armed only while something waits for a time.
 *
 * @param deps.jobsRunning jobs the tracker follows now
 * @param deps.accepted a submit succeeded: the tracker follows the job from now on
 * @param deps.rejected the API rejected this one-file batch for its data: FAILED with `reason`
 * @param deps.settledSubmit called after every submit ends, whatever its outcome
 */
export class SubmitQueue {
  readonly #options: SubmitQueueOptions
  readonly #client: ImportClient
  readonly #metrics: Metrics
  readonly #logger: Logger
  readonly #deps: {
    jobsRunning: () => number
    accepted: (job: AcceptedJob) => void
    rejected: (batch: Batch, reason: string) => void
    settledSubmit: () => void
  }
  readonly #queue: QueuedBatch[] = []
  #submitting = 0
  #refused: string | null = null
  #timer: NodeJS.Timeout | null = null
  #heldUntil = 0
  #closed = false

  constructor(
    options: SubmitQueueOptions,
    deps: {
      client: ImportClient
      metrics: Metrics
      logger: Logger
      jobsRunning: () => number
      accepted: (job: AcceptedJob) => void
      rejected: (batch: Batch, reason: string) => void
      settledSubmit: () => void
    },
  ) {
    this.#options = options
    this.#client = deps.client
    this.#metrics = deps.metrics
    this.#logger = deps.logger
    this.#deps = deps
  }

  /** Batches waiting. */
  get length(): number {
    return this.#queue.length
  }

  /** Submits in flight. */
  get submitting(): number {
    return this.#submitting
  }

  /** Files in the waiting batches. */
  get files(): number {
    let n = 0
    for (const q of this.#queue) n += q.batch.files.length
    return n
  }

  /** Until when every request waits (epoch ms; in the past when none does). */
  get heldUntil(): number {
    return this.#heldUntil
  }

  /** Why the API refuses the configuration (401/403/410) until a submit succeeds again, or null. */
  get refusedProblem(): string | null {
    return this.#refused
  }

  /** Queues `batch` behind the others and submits what may go now. */
  push(batch: Batch): void {
    this.#queue.push({ batch, resubmits: 0, notBefore: 0 })
    this.pump()
  }

  /** Puts batches back at the head of the queue, in the given order. */
  requeue(...queued: QueuedBatch[]): void {
    this.#queue.unshift(...queued)
  }

  /** Holds every request until `untilMs` (epoch ms), or longer if already held longer. */
  hold(untilMs: number): void {
    this.#heldUntil = Math.max(this.#heldUntil, untilMs)
  }

  /** Submits the head batches while job slots are free and their time has come. */
  pump(): void {
    if (this.#closed) return
    const now = Date.now()
    if (this.#queue.length > 0 && now < this.#heldUntil) {
      this.#arm(this.#heldUntil - now)
      return
    }
    while (
      this.#queue.length > 0 &&
      this.#deps.jobsRunning() + this.#submitting < this.#options.maxJobsInFlight
    ) {
      const next = this.#queue[0] as QueuedBatch
      if (next.notBefore > now) {
        this.#arm(next.notBefore - now)
        return
      }
      this.#queue.shift()
      void this.#submit(next)
    }
  }

  /** Stops submitting; queued batches stay unsubmitted (their offsets uncommitted). */
  close(): void {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  #arm(delayMs: number): void {
    if (this.#timer !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.pump()
    }, delayMs)
  }

  async #submit(queued: QueuedBatch): Promise<void> {
    const { batch } = queued
    const { request, headers, trace } = buildImportRequest(batch, this.#options)
    const log = this.#logger.child({
      batchId: batch.id,
      systemName: batch.systemName,
      files: batch.files.length,
      ...(trace.traceId === undefined ? {} : { traceId: trace.traceId }),
    })
    this.#submitting++
    const submittedAt = Date.now()
    try {
      const jobId = await this.#client.submit(request, { headers })
      this.#refused = null
      this.#metrics.batchesSubmitted.inc({ kind: batch.kind })
      this.#metrics.batchFiles.observe(batch.files.length)
      this.#metrics.batchBytes.observe(batch.bytes)
      const logger = log.child({ jobId })
      logger.info(
        {
          bytes: batch.bytes,
          closedBy: batch.reason,
          ...(trace.traceparents.length === 0 ? {} : { traceparents: trace.traceparents }),
        },
        'import job submitted',
      )
      this.#deps.accepted({ jobId, batch, submittedAt, resubmits: queued.resubmits, logger })
    } catch (err) {
      this.#onFailure(queued, err, log)
    } finally {
      this.#submitting--
      this.#deps.settledSubmit()
    }
  }

  #onFailure(queued: QueuedBatch, err: unknown, log: Logger): void {
    const decision = decideSubmitFailure(err, queued.batch, this.#options)
    switch (decision.action) {
      case 'hold':
        if (this.#refused === null)
          log.error({ err }, 'import API refused the configuration; submitting stops until it is fixed')
        this.#refused = decision.problem
        this.requeue({ ...queued, notBefore: Date.now() + decision.retryInMs })
        return
      case 'split':
        log.warn(
          { err: (err as Error).message },
          'import API rejected the batch; splitting it to find the offending file',
        )
        this.requeue(...decision.parts.map((batch) => ({ batch, resubmits: queued.resubmits, notBefore: 0 })))
        return
      case 'fail':
        log.warn({ err: (err as Error).message }, 'import API rejected a single file')
        this.#deps.rejected(queued.batch, decision.reason)
        return
      case 'retry':
        if (decision.holdAllMs !== undefined) this.hold(Date.now() + decision.holdAllMs)
        log.warn({ err, retryAfterMs: decision.holdAllMs }, 'import job submission failed; will retry')
        this.requeue({ ...queued, notBefore: Date.now() + decision.retryInMs })
        return
    }
  }
}
