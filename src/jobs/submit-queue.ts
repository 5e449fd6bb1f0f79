import type { Span } from '@opentelemetry/api'
import { timerDelayMs } from '../backoff.ts'
import { isApiError } from '../errors.ts'
import type { ImportClient } from '../import/import-client.ts'
import { buildImportRequest, type ImportRequestOptions } from '../import/import-request.ts'
import { RequestWithdrawn } from '../import/rate-limit.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { type Batch, batchBytes, type PendingFile } from '../model/files.ts'
import type { RecordPosition } from '../model/records.ts'
import { BridgeTracing } from '../telemetry/bridge-tracing.ts'
import type { ApiGate } from './api-gate.ts'
import type { HoldPolicy } from './api-hold.ts'
import { BatchLanes } from './batch-lanes.ts'
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
  /** Its `import job` span while tracing is on: started by its first submit, kept across retries. */
  jobSpan?: Span | undefined
  /** The timestamp of its oldest record, epoch ms (0: none known): its order within its partitions' lanes. */
  oldest?: number
  /** The joins seen when it was taken for a submit (its files were all owned then). */
  takenAtJoin?: number
}

/** The timestamp of the batch's oldest record, epoch ms; 0 when none has one. */
function oldestRecord(batch: Batch): number {
  let oldest = Number.POSITIVE_INFINITY
  for (const f of batch.files) if (f.producedAt !== undefined && f.producedAt < oldest) oldest = f.producedAt
  return Number.isFinite(oldest) ? oldest : 0
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
  /** Its `import job` span while tracing is on (src/telemetry/). */
  span?: Span | undefined
}

/**
 * Submits batches as import jobs ([F] §1.1), the input partitions taking turns (see {@link push}), while {@link JobSlots} has a
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
 * @param deps.rejected the API rejected this one-file batch for its data: FAILED with `reason` (its
 *   job span, if any, says so and is handed on)
 * @param deps.submitEnded called after every submit ends (and the queue filled the free slots again),
 *   whatever its outcome
 * @param deps.tracing while on, each batch's submits run in its `import job` span (the submit request's
 *   span is its child); a split or rejected batch ends it
 */
export class SubmitQueue {
  readonly #options: SubmitQueueOptions & SubmitFailurePolicy
  readonly #client: ImportClient
  readonly #metrics: Metrics
  readonly #logger: Logger
  readonly #deps: {
    accepted: (job: AcceptedJob) => void
    rejected: (batch: Batch, reason: string, span: Span | undefined) => void
    submitEnded: () => void
    revoked?: ((files: PendingFile[]) => void) | undefined
  }
  readonly #tracing: BridgeTracing
  readonly #gate: ApiGate
  readonly #slots: JobSlots
  readonly #queue = new BatchLanes<QueuedBatch>()
  /** Quota answers in a row (the quota backoff doubles with each). */
  #quotaStreak = 0
  #timer: NodeJS.Timeout | null = null
  #closed = false
  #paused = false
  #rebalancing = false
  /** Whether a position's partition is owned, as the last join said (null before the first). */
  #isOwned: ((position: RecordPosition) => boolean) | null = null
  /** Joins seen ({@link dropPartitions} calls): a submit taken since the last one holds owned files only. */
  #joins = 0

  constructor(
    options: SubmitQueueOptions,
    deps: {
      client: ImportClient
      metrics: Metrics
      logger: Logger
      gate: ApiGate
      slots: JobSlots
      accepted: (job: AcceptedJob) => void
      rejected: (batch: Batch, reason: string, span: Span | undefined) => void
      submitEnded: () => void
      revoked?: ((files: PendingFile[]) => void) | undefined
      tracing?: BridgeTracing | undefined
    },
  ) {
    this.#options = { ...options, resubmitDelayMs: options.resubmitDelayMs ?? RESUBMIT_DELAY_MS }
    this.#client = deps.client
    this.#metrics = deps.metrics
    this.#logger = deps.logger
    this.#gate = deps.gate
    this.#slots = deps.slots
    this.#deps = deps
    this.#tracing = deps.tracing ?? BridgeTracing.off()
  }

  /** Batches waiting. */
  get length(): number {
    return this.#queue.size
  }

  /** Files in the waiting batches. */
  get files(): number {
    return this.#queue.files
  }

  /** The waiting batches, head first (the admin API's view). */
  get batches(): Batch[] {
    return this.#queue.ordered().map((q) => q.batch)
  }

  /**
   * An operator's pause (the admin API): while paused nothing is submitted and batches wait in the
   * queue; a resume submits what may go now.
   */
  set paused(paused: boolean) {
    this.#paused = paused
    if (!paused) this.pump()
  }

  /**
   * Holds submits from the start of a rebalance until the next join (issue 26): which partitions this
   * replica will own is not known then, and a batch of a partition that moves would be submitted by
   * both owners (the new one joins before the job's entry can reach the job log). At the join, the
   * files of revoked partitions leave the queue ({@link dropPartitions}) and the rest goes.
   */
  set rebalancing(rebalancing: boolean) {
    this.#rebalancing = rebalancing
    if (!rebalancing) this.pump()
  }

  /**
   * Queues `batch` and submits what may go now. Batches put back for a retry go first; then the input
   * partitions take turns, one batch each per round, and within a partition the batch with the oldest
   * record (`producedAt`, the record timestamp) goes first ({@link BatchLanes}). So the batch holding
   * each owned partition's lowest uncommitted offset is at most one round away, and every owned
   * partition's committed offset moves, also right after a rebalance (issue 26).
   */
  push(batch: Batch): void {
    this.#queue.push({ batch, resubmits: 0, notBefore: 0, oldest: oldestRecord(batch) })
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

  /**
   * Takes the files of partitions no longer owned (after a rebalance) out of the waiting batches, so
   * that they are not submitted: the partition's new owner consumes them again from the committed
   * offset and submits them itself (issue 26: a batch of a revoked partition submitted by the old owner
   * as well made a second import job of each of its files, a third when the partition came back).
   * A batch left without files leaves the queue (its job span, if any, ends as `revoked`); the others
   * keep their place and id with the files still owned. Batches in a submit now are not in the queue.
   * @returns the files taken out: of the batches put back first, then of the others in the order they
   *   came
   */
  dropPartitions(isOwned: (position: RecordPosition) => boolean): PendingFile[] {
    this.#isOwned = isOwned
    this.#joins++
    const dropped: PendingFile[] = []
    const emptied = this.#queue.filter((queued) => {
      const kept = queued.batch.files.filter((f) => isOwned(f.position))
      if (kept.length === queued.batch.files.length) return queued
      dropped.push(...queued.batch.files.filter((f) => !isOwned(f.position)))
      if (kept.length === 0) return null
      queued.batch = { ...queued.batch, files: kept, bytes: batchBytes(kept) }
      return queued
    })
    for (const queued of emptied) this.#tracing.endJob(queued.jobSpan, { end: 'revoked' })
    return dropped
  }

  /** Submits the head batches while job slots are free and their time has come. */
  pump(): void {
    if (this.#closed || this.#paused || this.#rebalancing) return
    const now = Date.now()
    const heldUntil = this.#gate.heldUntil('submit')
    if (this.#queue.size > 0 && now < heldUntil) {
      this.#arm(heldUntil - now)
      return
    }
    while (
      this.#queue.size > 0 &&
      this.#slots.hasFree &&
      // While the API refuses us or its quota is used up, the head batch alone asks again.
      !((this.#gate.isRefused('submit') || this.#quotaStreak > 0) && this.#slots.submitting > 0)
    ) {
      const next = this.#queue.peek() as QueuedBatch
      if (next.notBefore > now) {
        this.#arm(next.notBefore - now)
        return
      }
      this.#queue.take()
      next.takenAtJoin = this.#joins
      void this.#submit(next)
    }
  }

  /** Stops submitting; queued batches stay unsubmitted (their offsets uncommitted, their job spans ended). */
  close(): void {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    for (const { jobSpan } of this.#queue) this.#tracing.endJob(jobSpan, { end: 'stopped' })
  }

  /** Puts batches back at the head of the queue, in the given order. */
  #requeue(...queued: QueuedBatch[]): void {
    this.#queue.putBack(...queued)
  }

  #arm(delayMs: number): void {
    if (this.#timer !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.pump()
    }, timerDelayMs(delayMs))
  }

  /** Submits `queued`, in its job span while tracing is on (started by its first submit). */
  #submit(queued: QueuedBatch): Promise<void> {
    queued.jobSpan ??= this.#tracing.startJob(queued.batch, queued.batch.span, queued)
    return this.#tracing.withSpan(queued.jobSpan, () => this.#submitNow(queued))
  }

  async #submitNow(queued: QueuedBatch): Promise<void> {
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
      const jobId = await this.#client.submit(request, {
        headers,
        stillWanted: () => this.#stillWanted(queued),
      })
      this.#tracing.jobAccepted(queued.jobSpan, jobId)
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
          // The input partitions its files came from (a storm's analysis: which job held a partition's head)
          partitions: [...new Set(batch.files.map((f) => f.position.partition))],
          ...(trace.traceparents.length === 0 ? {} : { traceparents: trace.traceparents }),
        },
        'import job submitted',
      )
      this.#deps.accepted({
        jobId,
        batch,
        submittedAt,
        resubmits: queued.resubmits,
        logger,
        span: queued.jobSpan,
      })
    } catch (err) {
      if (err instanceof RequestWithdrawn) this.#withdrawn(queued, this.#logger.child(bindings))
      else this.#onFailure(queued, err, this.#logger.child(bindings))
    } finally {
      this.#slots.submitEnded()
      this.pump()
      this.#deps.submitEnded()
    }
  }

  /**
   * Whether a submit that waited for the rate limit may go now: not once the queue is closed, paused
   * or in a rebalance, nor when a join since it was taken revoked a partition of its files (the
   * partition's new owner submits them: sent anyway, they made a second or third import job of each,
   * issue 26's storm).
   */
  #stillWanted(queued: QueuedBatch): boolean {
    if (this.#closed || this.#paused || this.#rebalancing) return false
    const isOwned = this.#isOwned
    if (queued.takenAtJoin === this.#joins || isOwned === null) return true
    return queued.batch.files.every((f) => isOwned(f.position))
  }

  /**
   * A submit withdrawn unsent ({@link stillWanted}): closed, its job span ends; else the files of
   * revoked partitions go to `revoked` (their keys are released; the new owner consumes them again), and
   * the rest goes back to the head of the queue (behind the batches withdrawn before it), submitted after
   * the rebalance or the pause.
   */
  #withdrawn(queued: QueuedBatch, log: Logger): void {
    if (this.#closed) {
      this.#tracing.endJob(queued.jobSpan, { end: 'stopped' })
      return
    }
    const isOwned = this.#isOwned
    const files = queued.batch.files
    const kept: PendingFile[] = []
    const revoked: PendingFile[] = []
    for (const f of files) (isOwned === null || isOwned(f.position) ? kept : revoked).push(f)
    // One constant message, the cause in `reason`: files of revoked partitions are their new owner's,
    // the rest goes back to the head of the queue.
    const reason = this.#paused ? 'paused' : this.#rebalancing ? 'rebalance' : 'revoked'
    log.info({ reason, revokedFiles: revoked.length }, 'submit withdrawn before it was sent')
    if (revoked.length > 0) this.#deps.revoked?.(revoked)
    if (kept.length === 0) {
      this.#tracing.endJob(queued.jobSpan, { end: 'revoked' })
      return
    }
    if (revoked.length > 0) queued.batch = { ...queued.batch, files: kept, bytes: batchBytes(kept) }
    // Behind the batches withdrawn before it: the turns of the rate limit come in the order they were taken.
    this.#queue.putBackBehind(queued)
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
        this.#tracing.endJob(queued.jobSpan, { end: 'split', reason: message })
        this.#requeue(
          ...decision.parts.map((batch) => ({ batch, resubmits: queued.resubmits, notBefore: 0 })),
        )
        return
      case 'fail':
        log.warn({ err: message }, 'import API rejected a single file')
        this.#tracing.jobEnded(queued.jobSpan, { end: 'rejected', reason: decision.reason })
        this.#deps.rejected(queued.batch, decision.reason, queued.jobSpan)
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
