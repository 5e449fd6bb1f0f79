import type { ImportClient, JobStatus } from '../import/import-client.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { TIMEOUT_REASON } from '../model/failure-reasons.ts'
import type { Batch, PendingFile } from '../model/files.ts'
import type { ConcludedJob } from '../model/outcomes.ts'
import type { RecordPosition } from '../model/records.ts'
import type { ReceivedWebhook } from '../model/webhook.ts'
import { BridgeTracing } from '../telemetry/bridge-tracing.ts'
import { Condition } from '../timeouts.ts'
import { ApiGate } from './api-gate.ts'
import { decideStatusFailure } from './api-hold.ts'
import { type Followed, FollowedJobs } from './followed-jobs.ts'
import {
  reportFinished,
  reportKept,
  reportReadFailed,
  reportTimedOut,
  reportUnsendable,
} from './job-report.ts'
import { failedJob, unsentJob } from './job-results.ts'
import { JobSlots, type JobSlotsOptions } from './job-slots.ts'
import { JobWebhooks } from './job-webhooks.ts'
import { createStatusPoller } from './status-poller.ts'
import { type AcceptedJob, SubmitQueue, type SubmitQueueOptions } from './submit-queue.ts'
import { type ConcludedVerdict, type NextStep, TrackedJob, type TrackedJobPolicy } from './tracked-job.ts'

/** Options of the {@link JobTracker}. Durations in ms. */
export interface JobTrackerOptions extends SubmitQueueOptions, JobSlotsOptions, TrackedJobPolicy {
  /**
   * How long an unfinished job may go without a status read before it is polled (the status endpoint is
   * the truth; webhooks are a hint).
   */
  pollIntervalMs: number
}

/** What the {@link JobTracker} works with. */
export interface JobTrackerDeps {
  client: ImportClient
  logger: Logger
  metrics: Metrics
  /** Receives each concluded job with one outcome per file. */
  onConcluded: (job: ConcludedJob) => void
  /**
   * Takes files of partitions revoked while their submit waited for the rate limit (withdrawn unsent): as
   * the files {@link JobTracker.dropQueued} returns, they are their partitions' new owner's.
   */
  onRevokedFiles?: (files: PendingFile[]) => void
  /** Called when Livingdocs accepted a batch as import job `jobId` (e.g. to record it in the job log). */
  onJobStarted?: (jobId: string, batch: Batch) => void
  /** While on, each job has its span (src/telemetry/): its reads run in it, its webhook is its child. */
  tracing?: BridgeTracing | undefined
  /** The holds in force, shared with the other callers of the API (default: one of its own). */
  gate?: ApiGate
}

/**
 * Follows import jobs from submit until they conclude ([F] §1): batches wait in a {@link SubmitQueue} for a free
 * `MAX_JOBS_IN_FLIGHT` slot ({@link JobSlots}); each becomes an import job (the request built by
 * `buildImportRequest`; a failed submit is judged by `decideSubmitFailure`), followed as a
 * {@link TrackedJob}. A job's status is read when its webhook comes ({@link notify}) or at the next poll
 * (`createStatusPoller`); what a webhook or a read means next is the tracked job's to say, and the
 * tracker keeps the jobs and runs that step (log, metrics, submit again, conclude). Concluded jobs go to
 * `onConcluded` with one outcome per file.
 */
export class JobTracker {
  readonly #options: JobTrackerOptions
  readonly #deps: JobTrackerDeps
  readonly #logger: Logger
  readonly #jobs = new FollowedJobs()
  readonly #slots: JobSlots
  readonly #queue: SubmitQueue
  readonly #gate: ApiGate
  readonly #poller: ReturnType<typeof createStatusPoller<Followed>>
  readonly #webhooks: JobWebhooks
  readonly #tracing: BridgeTracing
  /** Nothing is queued or in flight. */
  readonly #idle = new Condition(() => this.#isIdle())
  #closed = false

  constructor(options: JobTrackerOptions, deps: JobTrackerDeps) {
    this.#options = options
    this.#deps = deps
    this.#logger = deps.logger.child({ component: 'job-tracker' })
    this.#tracing = deps.tracing ?? BridgeTracing.off()
    this.#gate = deps.gate ?? new ApiGate({ metrics: deps.metrics, logger: this.#logger })
    this.#slots = new JobSlots(options, { metrics: deps.metrics })
    this.#queue = new SubmitQueue(options, {
      client: deps.client,
      metrics: deps.metrics,
      logger: this.#logger,
      gate: this.#gate,
      slots: this.#slots,
      accepted: (job) => this.#accepted(job),
      rejected: (batch, reason, span) => this.#deps.onConcluded({ ...failedJob(null, batch, reason), span }),
      submitEnded: () => this.#idle.check(),
      revoked: deps.onRevokedFiles,
      tracing: this.#tracing,
    })
    this.#poller = createStatusPoller<Followed>(
      { intervalMs: options.pollIntervalMs },
      {
        jobs: () => this.#jobs.values(),
        askedAt: (f) => f.job.askedAt,
        read: (f) => void this.#read(f),
        heldUntil: () => this.#gate.heldUntil('status'),
        isRefused: () => this.#gate.isRefused('status'),
      },
    )
    this.#webhooks = new JobWebhooks({
      jobs: this.#jobs,
      slots: this.#slots,
      pump: () => this.#queue.pump(),
      read: (f) => void this.#read(f),
      tracing: this.#tracing,
    })
  }

  /** Starts the status poller. */
  start(): void {
    this.#poller.start()
  }

  /** Files queued or in jobs not yet concluded. */
  get filesPending(): number {
    let n = this.#queue.files
    for (const { job } of this.#jobs.values()) n += job.batch.files.length
    return n
  }

  /** Ids of the import jobs followed and not concluded (those a stop abandons). */
  get openJobIds(): string[] {
    return [...this.#jobs.keys()]
  }

  /** Jobs that hold a `maxJobsInFlight` slot: submits in flight and jobs not finished per their webhook. */
  get jobsInFlight(): number {
    return this.#slots.inFlight
  }

  /** The batches waiting for their submit (head first), the jobs followed, the API's holds: the admin API's view. */
  get view(): { queued: Batch[]; jobs: TrackedJob[]; holds: string[] } {
    return {
      queued: this.#queue.batches,
      jobs: [...this.#jobs.values()].map((f) => f.job),
      holds: this.#gate.holds(),
    }
  }

  /** An operator's pause (the admin API): no submit while paused; jobs submitted are still followed. */
  pauseSubmits(paused: boolean): void {
    this.#queue.paused = paused
  }

  /**
   * Holds submits from the start of a rebalance (true) until the next join (false); jobs submitted are
   * still followed. See `SubmitQueue.rebalancing`.
   */
  holdForRebalance(rebalancing: boolean): void {
    this.#queue.rebalancing = rebalancing
  }

  /** Changes `MAX_JOBS_IN_FLIGHT` at run time (see `JobSlots.setLimit`); a raise submits what may go. */
  setMaxJobsInFlight(maxJobsInFlight: number): void {
    if (this.#slots.setLimit(maxJobsInFlight)) this.#queue.pump()
  }

  /** Why the import API refuses our credentials or configuration, with the settings to check, or null. */
  get fatalProblem(): string | null {
    return this.#gate.problem
  }

  /** Queues a closed batch for submission. */
  enqueue(batch: Batch): void {
    this.#queue.push(batch)
  }

  /**
   * After a rebalance: takes the files of partitions no longer owned out of the batches waiting for
   * their submit (see `SubmitQueue.dropPartitions`); jobs already submitted are still followed.
   * @returns the files taken out, which the caller drops like other files of revoked partitions
   */
  dropQueued(isOwned: (position: RecordPosition) => boolean): PendingFile[] {
    const dropped = this.#queue.dropPartitions(isOwned)
    if (dropped.length > 0) this.#idle.check()
    return dropped
  }

  /**
   * The files of the import jobs this process follows (submitted or adopted, not concluded), with
   * their job ids: after a rebalance, those on partitions assigned to it again are taken back instead
   * of being submitted again (`RegainedFiles`).
   */
  *followedFiles(): IterableIterator<{ jobId: string; file: PendingFile }> {
    for (const { job } of this.#jobs.values())
      for (const file of job.batch.files) yield { jobId: job.id, file }
  }

  /** Concludes a file that can never be sent (its entry alone exceeds the request size): see `unsentJob`. */
  refuse(file: PendingFile, reason: string): void {
    reportUnsendable(this.#logger, file)
    this.#deps.onConcluded(unsentJob(file, reason))
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
   * @param notice.received the HTTP request, for the webhook's span (none for a forwarded notice)
   * @returns false when the job is not one of this process (unknown, already concluded, or another batch)
   */
  notify(jobId: string | undefined, notice: { batchId?: string; received?: ReceivedWebhook } = {}): boolean {
    return this.#webhooks.notify(jobId, notice)
  }

  /** True when `jobId` is an import job this process follows (submitted or adopted, not concluded). */
  tracks(jobId: string): boolean {
    return this.#jobs.has(jobId)
  }

  /**
   * Follows an import job another process submitted (found in the job log after a rebalance or
   * restart) instead of submitting `batch` again: its status is read now and by the poller, and it
   * concludes like a job of this process. `batch` holds the job's files that this process consumed again.
   * @returns false when the job is already followed or the tracker is closed (nothing happens)
   */
  adopt(jobId: string, batch: Batch): boolean {
    if (this.#closed || this.#jobs.has(jobId)) return false
    const bindings = { batchId: batch.id, systemName: batch.systemName, jobId, adopted: true }
    const logger = this.#logger.child(bindings)
    const span = this.#tracing.startJob(batch, undefined, { resubmits: 0, adopted: true, jobId })
    const followed = this.#follow({ jobId, batch, submittedAt: Date.now(), resubmits: 0, logger, span }, true)
    followed.logger.info({ files: batch.files.length }, 'import job adopted; following its status')
    void this.#read(followed)
    return true
  }

  /** Resolves once nothing is queued or in flight, or after `timeoutMs`. @returns true when idle */
  waitIdle(timeoutMs: number): Promise<boolean> {
    return this.#idle.wait(timeoutMs)
  }

  /** Stops polling and submitting; jobs not concluded are left (their offsets stay uncommitted). */
  close(): void {
    this.#closed = true
    this.#poller.stop()
    this.#queue.close()
    for (const { span } of this.#jobs.values()) this.#tracing.endJob(span, { end: 'stopped' })
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && this.#jobs.size === 0 && this.#slots.submitting === 0
  }

  /** A submit succeeded: follow the job; read it at once if its webhook came before the answer. */
  #accepted(accepted: AcceptedJob): void {
    const followed = this.#follow(accepted)
    this.#deps.onJobStarted?.(accepted.jobId, accepted.batch)
    this.#webhooks.accepted(followed)
  }

  #follow({ jobId, batch, submittedAt, resubmits, logger, span }: AcceptedJob, adopted = false): Followed {
    const identity = { id: jobId, batch, submittedAt, resubmits, adopted }
    const job = new TrackedJob(identity, this.#options, Date.now(), this.#gate.holdMark('status'))
    const followed: Followed = { job, logger, span }
    this.#jobs.add(followed)
    this.#slots.jobFollowed()
    return followed
  }

  /** Whether the tracker is open and still follows `job` (a read's answer is acted on only then). */
  #isFollowing(job: TrackedJob): boolean {
    return !this.#closed && this.#jobs.isCurrent(job)
  }

  /** Reads a job's status and takes the one step it leads to, in the job's span while tracing is on. */
  #read(followed: Followed): Promise<void> {
    return this.#tracing.withSpan(followed.span, () => this.#readNow(followed))
  }

  /** Reads a job's status and takes the one step it leads to (see `TrackedJob.readSaw`). */
  async #readNow(followed: Followed): Promise<void> {
    const { job } = followed
    if (this.#closed || !job.readStarted(Date.now(), this.#gate.holdMark('status'))) return
    let status: JobStatus
    try {
      status = await this.#deps.client.status(job.id, job.batch.kind)
    } catch (err) {
      job.readFailed()
      if (this.#isFollowing(job)) this.#readFailed(followed, err)
      return
    }
    const now = Date.now()
    const step = job.readSaw(job.judge(status, now), now, this.#gate.holdMark('status'))
    // After close() the publisher is closed too: leave the job open (its offsets stay uncommitted).
    if (!this.#isFollowing(job)) return
    this.#gate.accepted('status')
    this.#take(followed, step, status.state, now)
  }

  /** A status read failed: hold the reads if the API refuses us, else the poller reads it again. */
  #readFailed({ logger }: Followed, err: unknown): void {
    const action = decideStatusFailure(err, this.#options)
    // A refusal holds the status reads; a long Retry-After every request, polls and submits alike.
    this.#gate.heed('status', action)
    if (action.action !== 'hold') reportReadFailed(logger, err)
  }

  /** Runs the effects of `step`, the outcome of a status read that saw `state` at `now`. */
  #take(followed: Followed, step: NextStep, state: string, now: number): void {
    const { job, logger } = followed
    switch (step.step) {
      case 'keep-following':
        if (step.slotTakenBack) this.#slots.takenBack()
        reportKept(logger, step.verdict, now - job.submittedAt)
        return
      case 'read-again':
        void this.#read(followed)
        return
      case 'time-out':
        this.#timeOut(followed)
        break
      case 'resubmit': {
        this.#leave(followed, 'lost')
        this.#tracing.endJob(followed.span, { end: 'lost' })
        const resubmitInMs = this.#queue.resubmitLater(job.batch, job.resubmits + 1, now)
        logger.warn({ resubmitInMs }, 'import job unknown to Livingdocs (lost); submitting its batch again')
        break
      }
      case 'finish':
        this.#finish(followed, step.verdict, state, now)
        break
    }
    // The job left: fill its slot, wake idle waiters.
    this.#queue.pump()
    this.#idle.check()
  }

  /** The job finished: it concludes with the verdict's outcomes. */
  #finish(followed: Followed, verdict: ConcludedVerdict, state: string, now: number): void {
    const { job, logger, span } = followed
    this.#leave(followed, state)
    reportFinished(logger, this.#deps.metrics, verdict, { state, ms: now - job.submittedAt })
    this.#tracing.jobEnded(span, { end: 'concluded', counts: verdict.counts, failure: verdict.failure })
    this.#deps.onConcluded({ jobId: job.id, batch: job.batch, outcomes: verdict.outcomes, span })
  }

  /** The job is no longer followed: its slot is free. */
  #leave({ job }: Followed, state: string): void {
    this.#jobs.remove(job)
    this.#slots.jobLeft(job.doneByWebhook)
    this.#deps.metrics.jobDuration.observe({ state }, (Date.now() - job.submittedAt) / 1000)
  }

  /** Gives up on a job that ran for `jobTimeoutMs`: each file FAILED `timeout`; a later webhook is unknown. */
  #timeOut(followed: Followed): void {
    const { job, logger, span } = followed
    this.#leave(followed, 'timeout')
    reportTimedOut(logger, this.#deps.metrics, job, this.#options.jobTimeoutMs)
    this.#tracing.jobEnded(span, { end: 'timeout' })
    this.#deps.onConcluded({ ...failedJob(job.id, job.batch, TIMEOUT_REASON), span })
  }
}
