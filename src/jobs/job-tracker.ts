import { isApiError } from '../errors.ts'
import type { ImportClient, JobStatus } from '../import/import-client.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { Batch, PendingFile } from '../model/files.ts'
import type { BridgeFailure, FileOutcome, SettledJob } from '../model/outcomes.ts'
import { ApiGate } from './api-gate.ts'
import { EarlyWebhooks } from './early-webhooks.ts'
import { decideStatusFailure, judgeStatus, TIMEOUT_REASON } from './job-results.ts'
import { createStatusPoller } from './status-poller.ts'
import { type AcceptedJob, SubmitQueue, type SubmitQueueOptions } from './submit-queue.ts'

/** How often a lost job (unknown to Livingdocs) is submitted again before its files fail. */
export const MAX_RESUBMITS = 2

/**
 * Default of `JOB_VISIBILITY_GRACE_MS`: how long after its submit a job may be unknown to Livingdocs
 * (404 or `state: "lost"`) without being lost, ms. A job's status may not be readable at once (the
 * webhook can even come first, [DPA] `handler.js`); the status is read again at the next poll.
 */
export const JOB_VISIBILITY_GRACE_MS = 60_000

/** Options of the {@link JobTracker}. Durations in ms. */
export interface JobTrackerOptions extends SubmitQueueOptions {
  /**
   * How long an unfinished job may go without a status read before it is polled (the status endpoint is
   * the truth; webhooks are a hint).
   */
  pollIntervalMs: number
  /** How often a lost job (unknown to Livingdocs) is submitted again before its files fail. */
  maxResubmits: number
  /**
   * How long a job may run, ms (default: no limit), counted only between two status reads that both saw
   * it running: the time the API refused us, failed, or answered unreadably does not count. A read that
   * sees it running past this gives each file FAILED `timeout`.
   */
  jobTimeoutMs?: number | undefined
  /** How long after its submit a job may be unknown without being lost ({@link JOB_VISIBILITY_GRACE_MS}). */
  jobVisibilityGraceMs: number
}

interface TrackedJob {
  id: string
  batch: Batch
  submittedAt: number
  /** Times its batch was submitted before and lost. */
  resubmits: number
  /** A status read is in flight. */
  checking: boolean
  /** When its last status read started, or its submit was answered, epoch ms (the poller's clock). */
  askedAt: number
  /** A webhook arrived while a status read was in flight: read again when it returns unfinished. */
  recheck: boolean
  /**
   * A webhook said Livingdocs finished the job ([F] §2: it is sent "once the job is done") and no status
   * read has said otherwise since: the job holds no `maxJobsInFlight` slot while its read waits.
   */
  doneByWebhook: boolean
  /** Running time counted toward `jobTimeoutMs`, ms. */
  countedMs: number
  /** When a read last saw the job running (or the submit), epoch ms; null after a read failed. */
  lastGoodAt: number | null
  /** A finished status listed no result for some files once already. */
  wasReadIncomplete: boolean
  logger: Logger
}

/**
 * Follows import jobs from submit to settle ([F] §1): batches wait in a {@link SubmitQueue} for one of
 * `maxJobsInFlight` slots; each becomes an import job (the request built by `buildImportRequest`); a
 * job's status is read when its webhook comes ({@link notify}) or at the next poll
 * (`createStatusPoller`), and judged by `judgeStatus`; a failed submit is judged by
 * `decideSubmitFailure`. Settled jobs go to `onSettled` with one outcome per file.
 */
export class JobTracker {
  readonly #options: JobTrackerOptions
  readonly #client: ImportClient
  readonly #logger: Logger
  readonly #metrics: Metrics
  readonly #onSettled: (job: SettledJob) => void
  readonly #onJobStarted: ((jobId: string, batch: Batch) => void) | undefined
  readonly #jobs = new Map<string, TrackedJob>()
  /** The same jobs by batch id: a webhook on a batch's own URL names the batch, not always the job. */
  readonly #byBatch = new Map<string, TrackedJob>()
  readonly #queue: SubmitQueue
  readonly #gate: ApiGate
  readonly #poller: ReturnType<typeof createStatusPoller<TrackedJob>>
  readonly #early = new EarlyWebhooks()
  /** Followed jobs whose webhook said they finished and whose status read has not settled them yet. */
  #doneByWebhook = 0
  readonly #idleWaiters: Array<() => void> = []
  #closed = false

  constructor(
    options: JobTrackerOptions,
    deps: {
      client: ImportClient
      logger: Logger
      metrics: Metrics
      onSettled: (job: SettledJob) => void
      /** Called when Livingdocs accepted a batch as import job `jobId` (e.g. to record it in the job log). */
      onJobStarted?: (jobId: string, batch: Batch) => void
    },
  ) {
    this.#options = options
    this.#client = deps.client
    this.#logger = deps.logger.child({ component: 'job-tracker' })
    this.#metrics = deps.metrics
    this.#onSettled = deps.onSettled
    this.#onJobStarted = deps.onJobStarted
    this.#gate = new ApiGate({ metrics: deps.metrics, logger: this.#logger })
    this.#queue = new SubmitQueue(options, {
      client: deps.client,
      metrics: deps.metrics,
      logger: this.#logger,
      gate: this.#gate,
      jobsRunning: () => this.#running(),
      accepted: (job) => this.#accepted(job),
      rejected: (batch, reason) => this.#settle(null, batch, () => ({ state: 'failed', reason })),
      settledSubmit: () => this.#afterChange(),
    })
    this.#poller = createStatusPoller<TrackedJob>(
      { intervalMs: options.pollIntervalMs },
      {
        jobs: () => this.#jobs.values(),
        askedAt: (job) => job.askedAt,
        read: (job) => void this.#check(job),
        heldUntil: () => this.#gate.heldUntil('status'),
        isRefused: () => this.#gate.isRefused('status'),
      },
    )
  }

  /** Starts the status poller. */
  start(): void {
    this.#poller.start()
  }

  /** Files queued or in jobs not yet settled. */
  get filesPending(): number {
    let n = this.#queue.files
    for (const j of this.#jobs.values()) n += j.batch.files.length
    return n
  }

  /** Jobs that hold a `maxJobsInFlight` slot: submits in flight and jobs not finished per their webhook. */
  get jobsInFlight(): number {
    return this.#running() + this.#queue.submitting
  }

  /**
   * Why the import API refuses our credentials or configuration (submitting and polling wait), with
   * the settings to check, or null.
   */
  get fatalProblem(): string | null {
    return this.#gate.problem
  }

  /** Queues a closed batch for submission. */
  enqueue(batch: Batch): void {
    this.#queue.push(batch)
  }

  /**
   * Settles a file that can never be sent (its entry alone exceeds the request size) as FAILED with
   * `reason`, without an import job (`importJobId` null), in a batch of its own.
   */
  refuse(file: PendingFile, reason: string): void {
    const batch: Batch = {
      id: `unsent-${file.position.partition}-${file.position.offset}`,
      systemName: file.event.systemName,
      kind: file.event.kind,
      files: [file],
      bytes: file.bytes,
      reason: 'oversized',
    }
    this.#logger.warn(
      { externalId: file.event.externalId, bytes: file.bytes },
      'file entry too large for any import request; FAILED',
    )
    this.#settle(null, batch, () => ({ state: 'failed', reason }))
  }

  /**
   * The entry point for "a job has finished" notices: an authenticated webhook, or (with several
   * replicas) a notice forwarded from the replica that received it. Reads the status now if the job is
   * ours; the status endpoint stays the truth, so a duplicated or late notice costs one status read at
   * most and never a second result.
   *
   * @param jobId the job the notice named; undefined when it named none (a webhook on the batch's own
   *   URL whose body carried no job id): then the current job of `notice.batchId` is read
   * @param notice.batchId the batch the webhook was authenticated for; when given with a `jobId`, it
   *   must be that job's batch, so a valid signature of one batch cannot be replayed for another job
   * @returns false when the job is not one of this process (unknown, already settled, or another batch)
   */
  notify(jobId: string | undefined, notice: { batchId?: string } = {}): boolean {
    const job =
      jobId !== undefined
        ? this.#jobs.get(jobId)
        : notice.batchId === undefined
          ? undefined
          : this.#byBatch.get(notice.batchId)
    if (job === undefined) {
      // A fast job may call back before our POST's response is processed; remember it briefly.
      if (this.#queue.submitting > 0) this.#early.note(jobId, notice.batchId)
      return false
    }
    if (notice.batchId !== undefined && notice.batchId !== job.batch.id) {
      job.logger.warn('webhook for this job carried another batch id; ignored')
      return false
    }
    this.#webhookSaidDone(job)
    if (job.checking) job.recheck = true
    else void this.#check(job)
    return true
  }

  /**
   * Import jobs running at Livingdocs as far as we know: followed, and not finished per their webhook.
   * What `maxJobsInFlight` bounds and `bridge_jobs_in_flight` shows.
   */
  #running(): number {
    return this.#jobs.size - this.#doneByWebhook
  }

  /**
   * A webhook said the job is done: its slot is free now, and the batches waiting for one are submitted
   * before the job's status is read. Under `API_RATE_LIMIT_PER_SECOND`, when several jobs finish
   * together, their submits take the window's starts that are left before the reads do (status reads
   * waiting for the window queue behind submits, `import-client.ts`), so Livingdocs gets its next jobs
   * sooner; the reads, which only publish results, wait instead. Measured with the bench's slow mode
   * (docs/benchmark.md).
   */
  #webhookSaidDone(job: TrackedJob): void {
    if (job.doneByWebhook) return
    job.doneByWebhook = true
    this.#doneByWebhook++
    this.#metrics.jobsInFlight.set(this.#running())
    this.#queue.pump()
  }

  /** A read saw the job still running after its webhook: it holds a slot again. */
  #stillRunning(job: TrackedJob): void {
    if (!job.doneByWebhook) return
    job.doneByWebhook = false
    this.#doneByWebhook--
    this.#metrics.jobsInFlight.set(this.#running())
  }

  /** True when `jobId` is an import job this process follows (submitted or adopted, not settled). */
  tracks(jobId: string): boolean {
    return this.#jobs.has(jobId)
  }

  /**
   * Follows an import job another process submitted (found in the job log after a rebalance or
   * restart) instead of submitting `batch` again: its status is read now and by the poller, and it
   * settles like a job of this process. `batch` holds the job's files that this process consumed again.
   * @returns false when the job is already followed or the tracker is closed (nothing happens)
   */
  adopt(jobId: string, batch: Batch): boolean {
    if (this.#closed || this.#jobs.has(jobId)) return false
    const logger = this.#logger.child({
      batchId: batch.id,
      systemName: batch.systemName,
      jobId,
      adopted: true,
    })
    const job = this.#follow(jobId, batch, Date.now(), 0, logger)
    job.logger.info({ files: batch.files.length }, 'import job adopted; following its status')
    void this.#check(job)
    return true
  }

  /** Resolves once nothing is queued or in flight, or after `timeoutMs`. @returns true when idle */
  async waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.#isIdle()) return true
    return new Promise((resolve) => {
      const waiter = () => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        this.#idleWaiters.splice(this.#idleWaiters.indexOf(waiter), 1)
        resolve(this.#isIdle())
      }, timeoutMs)
      this.#idleWaiters.push(waiter)
    })
  }

  /** Stops polling and submitting; unsettled jobs are left (their offsets stay uncommitted). */
  close(): void {
    this.#closed = true
    this.#poller.stop()
    this.#queue.close()
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && this.#jobs.size === 0 && this.#queue.submitting === 0
  }

  /** After a job left or a submit ended: fill free slots, wake idle waiters. */
  #afterChange(): void {
    this.#queue.pump()
    if (this.#isIdle()) for (const w of this.#idleWaiters.splice(0)) w()
  }

  /** A submit succeeded: follow the job; read it at once if its webhook came before the answer. */
  #accepted({ jobId, batch, submittedAt, resubmits, logger }: AcceptedJob): void {
    const job = this.#follow(jobId, batch, submittedAt, resubmits, logger)
    this.#onJobStarted?.(jobId, batch)
    if (this.#early.take(jobId, batch.id)) {
      this.#webhookSaidDone(job)
      void this.#check(job)
    }
  }

  #follow(id: string, batch: Batch, submittedAt: number, resubmits: number, logger: Logger): TrackedJob {
    const job: TrackedJob = {
      id,
      batch,
      submittedAt,
      resubmits,
      checking: false,
      askedAt: Date.now(),
      recheck: false,
      doneByWebhook: false,
      countedMs: 0,
      lastGoodAt: submittedAt,
      wasReadIncomplete: false,
      logger,
    }
    this.#jobs.set(id, job)
    this.#byBatch.set(batch.id, job)
    this.#metrics.jobsInFlight.set(this.#running())
    return job
  }

  /** Reads a job's status and acts on it (see `judgeStatus` and `decideStatusFailure`). */
  async #check(job: TrackedJob): Promise<void> {
    if (job.checking || this.#closed) return
    job.checking = true
    job.askedAt = Date.now()
    let status: JobStatus
    try {
      status = await this.#client.status(job.id, job.batch.kind)
    } catch (err) {
      job.checking = false
      // The time until a read succeeds again does not count toward the job timeout.
      job.lastGoodAt = null
      if (this.#closed || !this.#jobs.has(job.id)) return
      const action = decideStatusFailure(err, this.#options)
      if (action.action === 'hold') {
        const { cause, problem, setting } = action
        this.#gate.refuse('status', { cause, problem, setting }, action.retryInMs)
      } else {
        // A long Retry-After holds every request, polls and submits alike.
        if (action.holdAllMs !== undefined) this.#gate.holdAll(Date.now() + action.holdAllMs)
        const unreadable = isApiError(err) && err.answerClass === 'unreadable'
        job.logger.warn(
          { err },
          unreadable
            ? 'import job status has an unknown shape (logged without its values); the poller reads it again'
            : 'import job status read failed; the poller tries again',
        )
      }
      return
    }
    job.checking = false
    // After close() the publisher is closed too: leave the job unsettled (its offsets stay uncommitted).
    if (this.#closed || !this.#jobs.has(job.id)) return
    this.#gate.accepted('status')
    const now = Date.now()
    const verdict = judgeStatus(status, job.batch, {
      canResubmit: job.resubmits < this.#options.maxResubmits,
      ageMs: now - job.submittedAt,
      graceMs: this.#options.jobVisibilityGraceMs,
      wasReadIncomplete: job.wasReadIncomplete,
    })
    switch (verdict.kind) {
      case 'running': {
        if (job.lastGoodAt !== null) job.countedMs += now - job.lastGoodAt
        job.lastGoodAt = now
        const timeoutMs = this.#options.jobTimeoutMs
        if (timeoutMs !== undefined && job.countedMs >= timeoutMs) this.#timeOut(job)
        else if (job.recheck) {
          // This read started before the webhook came: the next one answers it.
          job.recheck = false
          void this.#check(job)
        } else this.#stillRunning(job)
        return
      }
      case 'not-visible':
        job.lastGoodAt = null
        job.logger.debug(
          { ageMs: now - job.submittedAt },
          'import job not known to Livingdocs yet; reading it again later',
        )
        return
      case 'incomplete':
        job.wasReadIncomplete = true
        job.logger.info(
          { missing: verdict.missing },
          'finished import job lists no result for some files; reading it once more',
        )
        return
      case 'resubmit':
        this.#leave(job, 'lost')
        job.logger.warn(
          { resubmitInMs: this.#options.resubmitDelayMs },
          'import job unknown to Livingdocs (lost); submitting its batch again',
        )
        this.#queue.requeue({
          batch: job.batch,
          resubmits: job.resubmits + 1,
          notBefore: now + this.#options.resubmitDelayMs,
        })
        break
      case 'settled':
        this.#leave(job, status.state)
        if (verdict.unexpected !== undefined && verdict.unexpected.length > 0) {
          this.#metrics.jobResultsUnmatched.inc({ kind: 'unexpected' }, verdict.unexpected.length)
          job.logger.warn(
            {
              count: verdict.unexpected.length,
              externalIds: verdict.unexpected.slice(0, 10).map((r) => r.externalId),
            },
            'finished import job reported results for files not in its batch; ignored',
          )
        }
        if (verdict.missing !== undefined && verdict.missing > 0) {
          this.#metrics.jobResultsUnmatched.inc({ kind: 'missing' }, verdict.missing)
          job.logger.warn(
            { missing: verdict.missing },
            'finished import job reported no result for some files, twice',
          )
        }
        if (verdict.failure === undefined)
          job.logger.info({ ...verdict.counts, ms: now - job.submittedAt }, 'import job finished')
        else job.logger.warn({ state: status.state }, verdict.failure)
        this.#onSettled({ jobId: job.id, batch: job.batch, outcomes: verdict.outcomes })
        break
    }
    this.#afterChange()
  }

  /** The job is no longer followed: its slot is free. */
  #leave(job: TrackedJob, state: string): void {
    this.#jobs.delete(job.id)
    if (job.doneByWebhook) this.#doneByWebhook--
    if (this.#byBatch.get(job.batch.id) === job) this.#byBatch.delete(job.batch.id)
    this.#metrics.jobsInFlight.set(this.#running())
    this.#metrics.jobDuration.observe({ state }, (Date.now() - job.submittedAt) / 1000)
  }

  /**
   * Gives up on a job Livingdocs reported running for longer than `jobTimeoutMs` (counted time): each
   * file FAILED `timeout`, its `maxJobsInFlight` slot released. A later webhook of the job is then
   * unknown and ignored.
   */
  #timeOut(job: TrackedJob): void {
    this.#leave(job, 'timeout')
    this.#metrics.jobsTimedOut.inc()
    job.logger.warn(
      { ms: Date.now() - job.submittedAt, countedMs: job.countedMs, timeoutMs: this.#options.jobTimeoutMs },
      'import job did not finish in time; its files fail with reason timeout',
    )
    this.#settle(job.id, job.batch, () => ({ state: 'failed', reason: TIMEOUT_REASON }))
    this.#afterChange()
  }

  #settle(
    jobId: string | null,
    batch: Batch,
    outcomeOf: (file: PendingFile) => FileOutcome | BridgeFailure,
  ): void {
    this.#onSettled({
      jobId,
      batch,
      outcomes: batch.files.map((file) => ({ file, outcome: outcomeOf(file) })),
    })
  }
}
