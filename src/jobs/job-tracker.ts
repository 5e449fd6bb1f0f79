import type { Batch, PendingFile } from '../batcher/batcher.ts'
import { isBridgeError } from '../errors.ts'
import type { FileOutcome, ImportClient, ImportRequest, JobStatus } from '../import/import-client.ts'
import { signBatchId } from '../import/webhook-signature.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { batchTrace } from '../tracing.ts'

/** The outcome of every file of a settled job, in the batch's order. */
export interface SettledJob {
  /** The Livingdocs import job id, or null when the batch was rejected before a job existed. */
  jobId: string | null
  batch: Batch
  outcomes: Array<{ file: PendingFile; outcome: FileOutcome | { state: 'failed'; reason: string } }>
}

/** Options of the {@link JobTracker}. Durations in ms. */
export interface JobTrackerOptions {
  /** Most import jobs submitted and not finished at once. */
  maxJobsInFlight: number
  /** How often unfinished jobs are polled (the status endpoint is the truth; webhooks are a hint). */
  pollIntervalMs: number
  /** URL Livingdocs POSTs to when a job is done; omitted from requests when undefined. */
  webhookUrl: string | undefined
  /**
   * Signs `context.batchId` of each request (hex HMAC-SHA256, see `signBatchId`) so the webhook can be
   * authenticated; no signature is sent when undefined.
   */
  webhookSecret?: string | undefined
  /** Wait before submitting a batch again after a retryable failure (the client already retried). */
  resubmitDelayMs: number
  /** How often a lost job (unknown to Livingdocs) is submitted again before its files fail. */
  maxResubmits: number
  /**
   * How long a job may stay unfinished, ms (default: no limit). At the first poll after it, the status is
   * read once more; a job still unfinished (or unreadable) then gives each file FAILED `timeout`.
   */
  jobTimeoutMs?: number
}

interface TrackedJob {
  id: string
  batch: Batch
  submittedAt: number
  checking: boolean
  /** A webhook arrived while a status read was in flight: read again when it returns unfinished. */
  recheck: boolean
  logger: Logger
}

interface QueuedBatch {
  batch: Batch
  /** Times this batch was already submitted and its job was lost. */
  resubmits: number
  notBefore: number
}

/**
 * Submits batches as import jobs and follows each job to its end ([F] §1): at most `maxJobsInFlight`
 * jobs at once, the rest queued in order. A job finishes when the status endpoint says `finished`; a
 * webhook only triggers an early status read ([F] §2: the callback carries no per-file results).
 *
 * Failures: retryable API errors (network, 429, 5xx; the client already retried) put the batch back at
 * the head of the queue after `resubmitDelayMs`, or after the server's `Retry-After` when that is longer
 * (then polls wait too); 401/403/410 mark the tracker unhealthy and keep the batch (nothing is lost,
 * offsets stay uncommitted) until the configuration is fixed; 400/413/422 split the batch in halves
 * until the offending file is alone, which then fails with the API's message. A job unfinished after
 * `jobTimeoutMs` is read once more, then its files fail with reason `timeout`.
 */
export class JobTracker {
  readonly #options: JobTrackerOptions
  readonly #client: ImportClient
  readonly #logger: Logger
  readonly #metrics: Metrics
  readonly #onSettled: (job: SettledJob) => void
  readonly #onJobStarted: ((jobId: string, batch: Batch) => void) | undefined
  readonly #queue: QueuedBatch[] = []
  readonly #jobs = new Map<string, TrackedJob & { resubmits: number }>()
  #submitting = 0
  #timer: NodeJS.Timeout | null = null
  #pollTimer: NodeJS.Timeout | null = null
  #fatal: string | null = null
  #closed = false
  /** No request before this time (epoch ms): the API asked so with a long Retry-After. */
  #apiPausedUntil = 0
  readonly #idleWaiters: Array<() => void> = []
  /** Webhooks that arrived before the submit response was processed: job id -> arrival (ms), batch id. */
  readonly #early = new Map<string, { at: number; batchId: string | undefined }>()

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
  }

  /** Starts the status poller. */
  start(): void {
    this.#pollTimer = setInterval(() => this.#pollAll(), this.#options.pollIntervalMs)
  }

  /** Files queued or in jobs not yet settled. */
  get filesPending(): number {
    let n = 0
    for (const q of this.#queue) n += q.batch.files.length
    for (const j of this.#jobs.values()) n += j.batch.files.length
    return n
  }

  get jobsInFlight(): number {
    return this.#jobs.size + this.#submitting
  }

  /** A configuration problem (401/403/410) that stops submitting, or null. */
  get fatalProblem(): string | null {
    return this.#fatal
  }

  /** Queues a closed batch for submission. */
  enqueue(batch: Batch): void {
    this.#queue.push({ batch, resubmits: 0, notBefore: 0 })
    this.#pump()
  }

  /**
   * The entry point for "job `jobId` has finished" notices: an authenticated webhook, or (with several
   * replicas) a notice forwarded from the replica that received it. Reads the status now if the job is
   * ours; the status endpoint stays the truth, so a duplicated or late notice costs one status read at
   * most and never a second result.
   *
   * @param notice.batchId the batch id the webhook's signed `context` carried; when given, it must be the
   *   job's batch, so a valid signature of one batch cannot be replayed for another job
   * @returns false when the id is not a job of this process (unknown, already settled, or another batch)
   */
  notify(jobId: string, notice: { batchId?: string } = {}): boolean {
    const job = this.#jobs.get(jobId)
    if (job === undefined) {
      // A fast job may call back before our POST's response is processed; remember it briefly.
      if (this.#submitting > 0) {
        const now = Date.now()
        // Forget notes older than a minute (insertion order is arrival order) and cap the map.
        for (const [id, early] of this.#early) {
          if (early.at > now - 60_000 && this.#early.size < 1000) break
          this.#early.delete(id)
        }
        this.#early.set(jobId, { at: now, batchId: notice.batchId })
      }
      return false
    }
    if (notice.batchId !== undefined && notice.batchId !== job.batch.id) {
      job.logger.warn('webhook for this job carried another batch id; ignored')
      return false
    }
    if (job.checking) job.recheck = true
    else void this.#check(job)
    return true
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
    const job = {
      id: jobId,
      batch,
      submittedAt: Date.now(),
      checking: false,
      recheck: false,
      logger: this.#logger.child({ batchId: batch.id, systemName: batch.systemName, jobId, adopted: true }),
      resubmits: 0,
    }
    this.#jobs.set(jobId, job)
    this.#metrics.jobsInFlight.set(this.#jobs.size)
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
    if (this.#pollTimer !== null) clearInterval(this.#pollTimer)
    if (this.#timer !== null) clearTimeout(this.#timer)
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && this.#jobs.size === 0 && this.#submitting === 0
  }

  #maybeIdle(): void {
    if (this.#isIdle()) for (const w of this.#idleWaiters.splice(0)) w()
  }

  #pump(): void {
    if (this.#closed) return
    const now = Date.now()
    if (this.#queue.length > 0 && now < this.#apiPausedUntil) {
      this.#arm(this.#apiPausedUntil - now)
      return
    }
    while (this.#queue.length > 0 && this.jobsInFlight < this.#options.maxJobsInFlight) {
      const next = this.#queue[0] as QueuedBatch
      if (next.notBefore > now) {
        this.#arm(next.notBefore - now)
        return
      }
      this.#queue.shift()
      void this.#submit(next)
    }
  }

  #arm(delayMs: number): void {
    if (this.#timer !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#pump()
    }, delayMs)
  }

  async #submit(queued: QueuedBatch): Promise<void> {
    const { batch } = queued
    // W3C trace context: the first traced file's traceparent goes on the request (src/tracing.ts).
    const trace = batchTrace(batch.files)
    const submit = (request: ImportRequest) => this.#client.submit(request, { headers: trace.headers })
    const log = this.#logger.child({
      batchId: batch.id,
      systemName: batch.systemName,
      files: batch.files.length,
      ...(trace.traceId === undefined ? {} : { traceId: trace.traceId }),
    })
    this.#submitting++
    const submittedAt = Date.now()
    try {
      const jobId = await submit({
        systemName: batch.systemName,
        files: batch.files.map((f) => f.entryJson),
        ...(this.#options.webhookUrl === undefined ? {} : { webhook: this.#options.webhookUrl }),
        context: {
          source: 'file-import-bridge',
          batchId: batch.id,
          ...(this.#options.webhookSecret === undefined
            ? {}
            : { signature: signBatchId(this.#options.webhookSecret, batch.id) }),
        },
      })
      this.#fatal = null
      this.#metrics.batchesSubmitted.inc()
      this.#metrics.batchFiles.observe(batch.files.length)
      this.#metrics.batchBytes.observe(batch.bytes)
      const jobLog = log.child({ jobId })
      jobLog.info(
        {
          bytes: batch.bytes,
          closedBy: batch.reason,
          ...(trace.traceparents.length === 0 ? {} : { traceparents: trace.traceparents }),
        },
        'import job submitted',
      )
      this.#jobs.set(jobId, {
        id: jobId,
        batch,
        submittedAt,
        checking: false,
        recheck: false,
        logger: jobLog,
        resubmits: queued.resubmits,
      })
      this.#metrics.jobsInFlight.set(this.#jobs.size)
      this.#onJobStarted?.(jobId, batch)
      const early = this.#early.get(jobId)
      this.#early.delete(jobId)
      if (early !== undefined && (early.batchId === undefined || early.batchId === batch.id))
        void this.#check(this.#jobs.get(jobId) as TrackedJob & { resubmits: number })
    } catch (err) {
      this.#onSubmitError(queued, err, log)
    } finally {
      this.#submitting--
      this.#pump()
      this.#maybeIdle()
    }
  }

  #onSubmitError(queued: QueuedBatch, err: unknown, log: Logger): void {
    const { batch } = queued
    if (isBridgeError(err, 'API_UNAUTHORIZED', 'API_FORBIDDEN', 'API_VERSION_GONE')) {
      if (this.#fatal === null)
        log.error({ err }, 'import API refused the configuration; submitting stops until it is fixed')
      this.#fatal = err.message
      this.#queue.unshift({
        ...queued,
        notBefore: Date.now() + Math.max(this.#options.resubmitDelayMs, 30_000),
      })
      return
    }
    if (isBridgeError(err, 'API_BAD_REQUEST')) {
      if (batch.files.length > 1) {
        const half = Math.ceil(batch.files.length / 2)
        const parts = [batch.files.slice(0, half), batch.files.slice(half)]
        log.warn(
          { err: err.message },
          'import API rejected the batch; splitting it to find the offending file',
        )
        this.#queue.unshift(
          ...parts.map((files, i) => ({
            batch: {
              ...batch,
              id: `${batch.id}.${i + 1}`,
              files,
              bytes: files.reduce((s, f) => s + f.bytes, 1024),
            },
            resubmits: queued.resubmits,
            notBefore: 0,
          })),
        )
        return
      }
      log.warn({ err: err.message }, 'import API rejected a single file')
      this.#settle(null, batch, () => ({
        state: 'failed',
        reason: `rejected by the import API: ${err.message}`,
      }))
      return
    }
    const retryAfterMs = this.#noteRetryAfter(err)
    log.warn({ err, retryAfterMs }, 'import job submission failed; will retry')
    this.#queue.unshift({
      ...queued,
      notBefore: Date.now() + Math.max(this.#options.resubmitDelayMs, retryAfterMs ?? 0),
    })
  }

  /**
   * A 429/503 whose Retry-After was longer than the client waits for itself: hold every request (submits
   * and polls) until then, as the server asked (RFC 9110 §10.2.3). @returns the Retry-After in ms
   */
  #noteRetryAfter(err: unknown): number | undefined {
    const retryAfterMs = isBridgeError(err) ? err.context.retryAfterMs : undefined
    if (typeof retryAfterMs !== 'number') return undefined
    this.#apiPausedUntil = Math.max(this.#apiPausedUntil, Date.now() + retryAfterMs)
    return retryAfterMs
  }

  #pollAll(): void {
    const now = Date.now()
    if (now < this.#apiPausedUntil) return
    const timeoutMs = this.#options.jobTimeoutMs ?? Number.POSITIVE_INFINITY
    for (const job of this.#jobs.values()) void this.#check(job, now - job.submittedAt >= timeoutMs)
  }

  /**
   * Reads a job's status and settles it when finished. `isFinalRead`: the job passed `jobTimeoutMs`, and
   * this is the one more read before it times out.
   */
  async #check(job: TrackedJob & { resubmits: number }, isFinalRead = false): Promise<void> {
    if (job.checking || this.#closed) return
    job.checking = true
    let status: JobStatus
    try {
      status = await this.#client.status(job.id)
    } catch (err) {
      this.#noteRetryAfter(err)
      job.checking = false
      if (isFinalRead && !this.#closed && this.#jobs.has(job.id)) this.#timeOut(job, err)
      else job.logger.warn({ err }, 'import job status read failed; the poller tries again')
      return
    }
    job.checking = false
    // After close() the publisher is closed too: leave the job unsettled (its offsets stay uncommitted).
    if (this.#closed) return
    if (!status.finished && isFinalRead && this.#jobs.has(job.id)) {
      this.#timeOut(job, undefined)
      return
    }
    if (!status.finished || !this.#jobs.has(job.id)) {
      if (job.recheck && !status.finished) {
        job.recheck = false
        void this.#check(job)
      }
      return
    }
    this.#jobs.delete(job.id)
    this.#metrics.jobsInFlight.set(this.#jobs.size)
    this.#metrics.jobDuration.observe({ state: status.state }, (Date.now() - job.submittedAt) / 1000)
    if (status.state === 'lost' && job.resubmits < this.#options.maxResubmits) {
      job.logger.warn('import job unknown to Livingdocs (lost); submitting its batch again')
      this.#queue.unshift({ batch: job.batch, resubmits: job.resubmits + 1, notBefore: 0 })
    } else if (status.state === 'success') {
      const byId = new Map<string, FileOutcome[]>()
      for (const f of status.files) {
        const list = byId.get(f.externalId)
        if (list === undefined) byId.set(f.externalId, [f])
        else list.push(f)
      }
      const counts = { imported: 0, skipped: 0, failed: 0 }
      this.#settle(job.id, job.batch, (file) => {
        const outcome = byId.get(file.event.externalId)?.shift()
        if (outcome === undefined) {
          counts.failed++
          return { state: 'failed', reason: 'the finished import job reported no result for this file' }
        }
        counts[outcome.state]++
        return outcome
      })
      job.logger.info({ ...counts, ms: Date.now() - job.submittedAt }, 'import job finished')
    } else {
      const reason = status.state === 'failed' ? 'import job failed' : 'import job lost'
      job.logger.warn({ state: status.state }, reason)
      this.#settle(job.id, job.batch, () => ({ state: 'failed', reason }))
    }
    this.#pump()
    this.#maybeIdle()
  }

  /**
   * Gives up on a job that did not finish within `jobTimeoutMs`: each file FAILED `timeout`, its
   * `maxJobsInFlight` slot released. A later webhook of the job is then unknown and ignored.
   */
  #timeOut(job: TrackedJob & { resubmits: number }, err: unknown): void {
    this.#jobs.delete(job.id)
    this.#metrics.jobsInFlight.set(this.#jobs.size)
    this.#metrics.jobsTimedOut.inc()
    this.#metrics.jobDuration.observe({ state: 'timeout' }, (Date.now() - job.submittedAt) / 1000)
    job.logger.warn(
      { ms: Date.now() - job.submittedAt, timeoutMs: this.#options.jobTimeoutMs, err },
      'import job did not finish in time; its files fail with reason timeout',
    )
    this.#settle(job.id, job.batch, () => ({ state: 'failed', reason: 'timeout' }))
    this.#pump()
    this.#maybeIdle()
  }

  #settle(
    jobId: string | null,
    batch: Batch,
    outcomeOf: (file: PendingFile) => FileOutcome | { state: 'failed'; reason: string },
  ): void {
    this.#onSettled({
      jobId,
      batch,
      outcomes: batch.files.map((file) => ({ file, outcome: outcomeOf(file) })),
    })
  }
}
