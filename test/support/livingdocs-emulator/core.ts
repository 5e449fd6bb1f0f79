// State and job processing of the emulator: jobs of the three imports, per-entry processing, counters.
// Sheet: [F] §1.1/§1.2, [I][V] §7 (jobs and per-item results), §5 (quota), §9/§10 (choices and facts).
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, type Dispatcher, interceptors } from 'undici'
import { processEntry } from './entries.ts'
import { stampRequestFaults } from './faults.ts'
import { MediaLibrary } from './library.ts'
import type { EmulatorStats, FileOutcome, JobRecord, MediaEntry, MediaKind } from './model.ts'
import { type EmulatorSettings, resolveSettings } from './settings.ts'
import type { EmulatorFaults, EmulatorLogger, EmulatorVariants, LivingdocsEmulatorOptions } from './types.ts'
import { DEFAULT_VARIANTS, NO_FAULTS } from './types.ts'
import type { ImportRequest } from './validation.ts'
import { sendWebhook, type WebhookContext } from './webhooks.ts'

export { INVALID_MEDIA_TYPE, UPLOAD_FAILED } from './entries.ts'

const silentLogger: EmulatorLogger = { info: () => {}, warn: () => {} }
const DAY_MS = 24 * 60 * 60 * 1000
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** Formats a date as the docs show `startedAt`: `YYYY-MM-DD HH:MM:SS` in UTC. [F] §1.2 */
export const formatStartedAt = (date: Date): string => date.toISOString().slice(0, 19).replace('T', ' ')

const emptyStats = (): EmulatorStats => ({
  requests: {},
  requestTotals: {},
  requestLog: [],
  jobsCreated: 0,
  jobsFinished: 0,
  filesProcessed: 0,
  webhooksSent: 0,
  webhooksDelivered: 0,
  webhooksFailed: 0,
  webhooksDropped: 0,
  webhookDeliveries: [],
  mediaPatches: [],
})

/** Runs `worker` over `items` with at most `limit` at a time, in index order of start. */
const runLimited = async <T>(
  items: T[],
  limit: number,
  worker: (item: T, index: number) => Promise<void>,
) => {
  let next = 0
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++
      await worker(items[index] as T, index)
    }
  })
  await Promise.all(lanes)
}

/** The emulator's state and job runner, independent of HTTP. Used by `createLivingdocsEmulator`. */
export class EmulatorCore {
  readonly settings: EmulatorSettings
  readonly logger: EmulatorLogger
  readonly random: () => number
  readonly now: () => Date
  faults: EmulatorFaults
  variants: EmulatorVariants
  /** Accepted tokens and their scopes now (`setTokens` replaces them; `reset()` restores the settings'). */
  tokens: Record<string, string[]>
  stats: EmulatorStats = emptyStats()
  /** All jobs; one id space over the three imports (they share the server's `import_jobs` table, §5). */
  readonly jobs = new Map<string, JobRecord>()
  readonly library: MediaLibrary
  /** Timestamps (ms) and entry counts of accepted POSTs, for the quota. */
  quotaUsage: { at: number; files: number }[] = []
  /** Triggers per request fault so far (a status list is cycled through by it). */
  faultHits: Record<string, number> = {}
  private readonly initialFaults: EmulatorFaults
  private readonly initialVariants: EmulatorVariants
  private controller = new AbortController()
  private readonly running = new Set<Promise<void>>()
  private readonly agent: Agent
  /** Downloads: the agent, following up to 5 redirects. */
  readonly dispatcher: Dispatcher
  private readonly webhooks: WebhookContext

  constructor(options: LivingdocsEmulatorOptions) {
    this.settings = resolveSettings(options)
    this.logger = options.logger ?? silentLogger
    this.random = options.random ?? Math.random
    this.now = options.now ?? (() => new Date())
    this.initialFaults = { ...NO_FAULTS, ...structuredClone(options.faults ?? {}) }
    this.initialVariants = { ...DEFAULT_VARIANTS, ...(options.variants ?? {}) }
    this.faults = stampRequestFaults(structuredClone(this.initialFaults), this.now().getTime())
    this.variants = { ...this.initialVariants }
    this.library = new MediaLibrary(this.random, this.now)
    this.tokens = structuredClone(this.settings.tokens)
    this.agent = new Agent({ keepAliveTimeout: 1000 })
    this.dispatcher = this.agent.compose(interceptors.redirect({ maxRedirections: 5 }))
    this.webhooks = {
      dispatcher: this.agent,
      stats: () => this.stats,
      faults: () => this.faults,
      variants: () => this.variants,
      logger: this.logger,
      now: this.now,
      timeoutMs: this.settings.webhookTimeoutMs,
      retries: this.settings.webhookRetries,
      retryDelayMs: this.settings.webhookRetryDelayMs,
    }
  }

  /** The media library entries by key (see `mediaKey`). */
  get media(): Map<string, MediaEntry> {
    return this.library.entries
  }

  /** A short lowercase alphanumeric job id like `25bzj8j`. [F] §1.1 */
  newJobId(): string {
    let id = ''
    do {
      id = Array.from({ length: 7 }, () => LOWER[Math.floor(this.random() * LOWER.length)]).join('')
    } while (this.jobs.has(id))
    return id
  }

  /** Entries accepted in the last 24 h over all three imports (quota window). [F] §5 */
  quotaUsed(): number {
    const since = this.now().getTime() - DAY_MS
    this.quotaUsage = this.quotaUsage.filter((u) => u.at > since)
    return this.quotaUsage.reduce((sum, u) => sum + u.files, 0)
  }

  /** Creates a job of one import for a validated request and starts it in the background. Returns the job id. */
  createJob(kind: MediaKind, req: ImportRequest, apiVersion: string): string {
    const id = this.newJobId()
    const job: JobRecord = {
      id,
      kind,
      apiVersion,
      systemName: req.systemName,
      ...(req.webhook !== undefined ? { webhook: req.webhook } : {}),
      ...(req.context !== undefined ? { context: req.context } : {}),
      files: req.files,
      state: 'started',
      finished: false,
      startedAt: this.now(),
      webhooksDelivered: 0,
    }
    if (this.faults.stuckJobs) job.fault = 'stuck'
    else if (this.faults.failJobs) job.fault = 'failed'
    else if (this.faults.jobsStayStarted) job.fault = 'stays-started'
    const lost = this.faults.lostJobs
    if (lost && lost.count > 0) {
      lost.count--
      job.hidden = true
    }
    this.jobs.set(id, job)
    this.stats.jobsCreated++
    this.quotaUsage.push({ at: this.now().getTime(), files: req.files.length })
    if (job.fault !== 'stuck') {
      const promise = this.runJob(job, this.controller.signal).catch((error: unknown) => {
        this.logger.warn({ err: error, jobId: id }, 'livingdocs emulator: job crashed')
      })
      this.running.add(promise)
      void promise.finally(() => this.running.delete(promise))
    }
    return id
  }

  private async runJob(job: JobRecord, signal: AbortSignal): Promise<void> {
    // Draw from `random` only when jitter is on, so seeded tests keep their id sequences.
    const jitterMs = this.settings.jobDurationJitterMs
    const durationMs = this.settings.jobDurationMs + (jitterMs > 0 ? Math.floor(this.random() * jitterMs) : 0)
    if (durationMs > 0) await sleep(durationMs, undefined, { signal }).catch(() => {})
    if (signal.aborted) return this.cancel(job)
    if (job.fault === 'failed') {
      this.finish(job, 'failed', undefined)
    } else {
      const results = await this.processFiles(job, signal)
      if (signal.aborted) return this.cancel(job)
      if (job.fault === 'stays-started') {
        // The entries are in the media library; the job's status never says so, and no webhook comes.
        job.results = results
        this.logger.info(
          { jobId: job.id, kind: job.kind },
          'livingdocs emulator: job imported, stays started',
        )
        return
      }
      this.finish(job, 'success', results)
    }
    await sendWebhook(job, signal, this.webhooks)
  }

  private cancel(job: JobRecord): void {
    job.fault = 'cancelled'
    job.state = 'failed'
    job.finished = true
    job.finishedAt = this.now()
  }

  private finish(job: JobRecord, state: 'success' | 'failed', results: FileOutcome[] | undefined) {
    job.state = state
    job.finished = true
    job.finishedAt = this.now()
    if (results) job.results = results
    this.stats.jobsFinished++
    this.logger.info({ jobId: job.id, kind: job.kind, state }, 'livingdocs emulator: job finished')
  }

  /**
   * Processes the entries of a job with limited concurrency. Entries with the same `systemName`/`id` pair in
   * one batch are processed in request order, so a later one sees the earlier one (undocumented, §9).
   */
  private async processFiles(job: JobRecord, signal: AbortSignal): Promise<FileOutcome[]> {
    const results: FileOutcome[] = new Array(job.files.length)
    const lastIndexOfKey = new Map<string, number>()
    const previous = job.files.map((file, index) => {
      const prev = lastIndexOfKey.get(file.id)
      lastIndexOfKey.set(file.id, index)
      return prev
    })
    const resolvers: (() => void)[] = []
    const done = job.files.map((_, index) => new Promise<void>((resolve) => (resolvers[index] = resolve)))
    await runLimited(job.files, this.settings.fileConcurrency, async (file, index) => {
      const prev = previous[index]
      if (prev !== undefined) await done[prev]
      try {
        if (signal.aborted) return
        results[index] = await processEntry(this, job, file, signal)
        this.stats.filesProcessed++
      } finally {
        resolvers[index]?.()
      }
    })
    return results
  }

  /** Aborts running jobs and waits until they have settled. */
  async cancelRunning(): Promise<void> {
    this.controller.abort()
    await Promise.allSettled([...this.running])
    this.controller = new AbortController()
  }

  /** Clears jobs, media, counters, fault hits and quota usage; faults and variants go back to the construction values. */
  async reset(): Promise<void> {
    await this.cancelRunning()
    this.jobs.clear()
    this.library.clear()
    this.quotaUsage = []
    this.faultHits = {}
    this.stats = emptyStats()
    this.faults = stampRequestFaults(structuredClone(this.initialFaults), this.now().getTime())
    this.variants = { ...this.initialVariants }
    this.tokens = structuredClone(this.settings.tokens)
  }

  /** Cancels running jobs and closes the HTTP agent used for downloads and webhooks. */
  async close(): Promise<void> {
    await this.cancelRunning()
    await this.agent.close().catch(() => {})
  }
}
