import { timerDelayMs } from '../backoff.ts'
import { isApiError } from '../errors.ts'
import type { ImportClient } from '../import/import-client.ts'
import { buildImportRequest, type ImportRequestOptions } from '../import/import-request.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { Batch } from '../model/files.ts'
import type { ApiGate } from './api-gate.ts'
import type { HoldPolicy } from './api-hold.ts'
import type { JobSlots } from './job-slots.ts'
import { decideSubmitFailure, type SubmitFailurePolicy } from './submit-failure.ts'

/**
 * Default of `resubmitDelayMs`: wait before a batch is submitted again after its submit failed for a
 * transient reason (network, 429 with `Retry-After`, 5xx: the client already retried `API_MAX_RETRIES`
 * times with backoff), or before the batch of a lost job is submitted again, ms.
 */
export const RESUBMIT_DELAY_MS = 5_000

/** A batch waiting to be submitted. */
export interface QueuedBatch {
  batch: Batch
  /** Times this batch was already submitted and its job was lost. */
  resubmits: number
  /** Not before this time, epoch ms (0: at once). */
  notBefore: number
}

/** Options of the {@link SubmitQueue}. Durations in ms. */
export interface SubmitQueueOptions extends ImportRequestOptions, HoldPolicy {
  /** Wait before a failed submit or a lost job's batch goes again ({@link RESUBMIT_DELAY_MS} by default). */
  resubmitDelayMs?: number | undefined
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
 * Submits batches as import jobs ([F] §1.1), in the order they closed, while {@link JobSlots} has a
 * free `MAX_JOBS_IN_FLIGHT` slot (a submit holds one while in flight). A batch waiting for a
 * later time (a resubmit) keeps every batch behind it waiting; while the {@link ApiGate} holds submits
 * (a `Retry-After`, a refusal), nothing is submitted, and while the API refuses our credentials or
 * configuration on submits, or its quota is used up, one submit at most is in flight (the re-check). A failed
 * submit is judged by `decideSubmitFailure`: the batch is held, split, failed, retried, or backs off
 * for the quota. One timer at most, armed only while something waits for a time, never longer than a
 * timer can wait (`timerDelayMs`): a longer wait re-checks at that bound.
 *
 * @param deps.slots the job slots: the queue starts and ends its submits on them
 * @param deps.accepted a submit succeeded: the tracker follows the job from now on
 * @param deps.rejected the API rejected this one-file batch for its data: FAILED with `reason`
 * @param deps.submitEnded called after every submit ends (and the queue filled the free slots again),
 *   whatever its outcome
 */
export class SubmitQueue {
  readonly #options: SubmitQueueOptions & SubmitFailurePolicy
  readonly #client: ImportClient
  readonly #metrics: Metrics
  readonly #logger: Logger
  readonly #deps: {
    accepted: (job: AcceptedJob) => void
    rejected: (batch: Batch, reason: string) => void
    submitEnded: () => void
  }
  readonly #gate: ApiGate
  readonly #slots: JobSlots
  readonly #queue: QueuedBatch[] = []
  /** Quota answers in a row (the quota backoff doubles with each). */
  #quotaStreak = 0
  #timer: NodeJS.Timeout | null = null
  #closed = false

  constructor(
    options: SubmitQueueOptions,
    deps: {
      client: ImportClient
      metrics: Metrics
      logger: Logger
      gate: ApiGate
      slots: JobSlots
      accepted: (job: AcceptedJob) => void
      rejected: (batch: Batch, reason: string) => void
      submitEnded: () => void
    },
  ) {
    this.#options = { ...options, resubmitDelayMs: options.resubmitDelayMs ?? RESUBMIT_DELAY_MS }
    this.#client = deps.client
    this.#metrics = deps.metrics
    this.#logger = deps.logger
    this.#gate = deps.gate
    this.#slots = deps.slots
    this.#deps = deps
  }

  /** Batches waiting. */
  get length(): number {
    return this.#queue.length
  }

  /** Files in the waiting batches. */
  get files(): number {
    let n = 0
    for (const q of this.#queue) n += q.batch.files.length
    return n
  }

  /** Queues `batch` behind the others and submits what may go now. */
  push(batch: Batch): void {
    this.#queue.push({ batch, resubmits: 0, notBefore: 0 })
    this.pump()
  }

  /**
   * Puts the batch of a lost job back at the head of the queue, to be submitted after the resubmit
   * delay; the caller pumps. @returns the delay, ms
   */
  resubmitLater(batch: Batch, resubmits: number, now = Date.now()): number {
    const delayMs = this.#options.resubmitDelayMs
    this.#requeue({ batch, resubmits, notBefore: now + delayMs })
    return delayMs
  }

  /** Submits the head batches while job slots are free and their time has come. */
  pump(): void {
    if (this.#closed) return
    const now = Date.now()
    const heldUntil = this.#gate.heldUntil('submit')
    if (this.#queue.length > 0 && now < heldUntil) {
      this.#arm(heldUntil - now)
      return
    }
    while (
      this.#queue.length > 0 &&
      this.#slots.hasFree &&
      // While the API refuses us or its quota is used up, the head batch alone asks again.
      !((this.#gate.isRefused('submit') || this.#quotaStreak > 0) && this.#slots.submitting > 0)
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

  /** Puts batches back at the head of the queue, in the given order. */
  #requeue(...queued: QueuedBatch[]): void {
    this.#queue.unshift(...queued)
  }

  #arm(delayMs: number): void {
    if (this.#timer !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.pump()
    }, timerDelayMs(delayMs))
  }

  async #submit(queued: QueuedBatch): Promise<void> {
    const { batch } = queued
    const { request, headers, trace } = buildImportRequest(batch, this.#options)
    // One child logger per job, made once the outcome is known (a child costs about as much as a line).
    const bindings = {
      batchId: batch.id,
      systemName: batch.systemName,
      files: batch.files.length,
      ...(trace.traceId === undefined ? {} : { traceId: trace.traceId }),
    }
    this.#slots.submitStarted()
    const submittedAt = Date.now()
    try {
      const jobId = await this.#client.submit(request, { headers })
      this.#gate.accepted('submit')
      this.#quotaStreak = 0
      this.#gate.quota(false)
      this.#metrics.batchesSubmitted.inc({ kind: batch.kind })
      this.#metrics.batchFiles.observe(batch.files.length)
      this.#metrics.batchBytes.observe(batch.bytes)
      const logger = this.#logger.child({ ...bindings, jobId })
      logger.info(
        {
          bytes: batch.bytes,
          closedBy: batch.closedBy,
          ...(trace.traceparents.length === 0 ? {} : { traceparents: trace.traceparents }),
        },
        'import job submitted',
      )
      this.#deps.accepted({ jobId, batch, submittedAt, resubmits: queued.resubmits, logger })
    } catch (err) {
      this.#onFailure(queued, err, this.#logger.child(bindings))
    } finally {
      this.#slots.submitEnded()
      this.pump()
      this.#deps.submitEnded()
    }
  }

  #onFailure(queued: QueuedBatch, err: unknown, log: Logger): void {
    const quota = isApiError(err) && err.answerClass === 'quota'
    const message = (err as Error).message
    // The gate's quota state is the streak's: any other answer ends the backoff.
    this.#quotaStreak = quota ? this.#quotaStreak + 1 : 0
    this.#gate.quota(quota, quota ? { err: message, backoffCeilingMs: this.#options.maxHoldMs } : {})
    const decision = decideSubmitFailure(err, queued.batch, this.#options, this.#quotaStreak)
    switch (decision.action) {
      case 'hold':
        // The gate logs the refusal once, naming the settings to check.
        this.#gate.heed('submit', decision)
        this.#requeue({ ...queued, notBefore: Date.now() + decision.retryInMs })
        return
      case 'split':
        log.warn({ err: message }, 'import API rejected the batch; splitting it to find the offending file')
        this.#requeue(
          ...decision.parts.map((batch) => ({ batch, resubmits: queued.resubmits, notBefore: 0 })),
        )
        return
      case 'fail':
        log.warn({ err: message }, 'import API rejected a single file')
        this.#deps.rejected(queued.batch, decision.reason)
        return
      case 'quota':
        log.debug({ err: message, retryInMs: decision.retryInMs, streak: this.#quotaStreak }, 'quota backoff')
        this.#requeue({ ...queued, notBefore: Date.now() + decision.retryInMs })
        return
      case 'retry':
        this.#gate.heed('submit', decision)
        log.warn({ err, retryAfterMs: decision.holdAllMs }, 'import job submission failed; will retry')
        this.#requeue({ ...queued, notBefore: Date.now() + decision.retryInMs })
        return
    }
  }
}
