// State and job processing of the emulator: jobs, media library, downloads, webhooks, counters.
// Sheet: [F] §1.1/§1.2 (jobs and per-file results), §2 (webhook), §5 (quota), §9 (undocumented choices).
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, interceptors, request } from 'undici'
import type {
  EmulatorFaults,
  EmulatorLogger,
  EmulatorStats,
  EmulatorVariants,
  FileInput,
  FileOutcome,
  JobRecord,
  LivingdocsEmulatorOptions,
  MediaEntry,
  MediaTypeConfig,
  WebhookBody,
  WebhookDelivery,
} from './types.ts'
import { DEFAULT_VARIANTS, NO_FAULTS } from './types.ts'
import type { ImportRequest } from './validation.ts'
import { checkMetadata } from './validation.ts'

/** Documented per-file failure reason; detail follows after `: `. [F] §1.2, §6 */
export const UPLOAD_FAILED = 'Could not upload file'
/** Per-file reason of a metadata rule violation ([D] §6 wording). */
export const INVALID_METADATA = 'Invalid metadata'
/** Per-file reason of an unknown or non-file mediaType (undocumented, §9). */
export const INVALID_MEDIA_TYPE = 'Invalid mediaType'

const silentLogger: EmulatorLogger = { info: () => {}, warn: () => {} }
const DAY_MS = 24 * 60 * 60 * 1000
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789'
const MIXED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Default accepted versions: `v1`, `beta` and the odd months 2025-03 … 2026-11. [VER] §4 */
export const DEFAULT_API_VERSIONS: string[] = [
  'v1',
  'beta',
  ...['2025', '2026']
    .flatMap((year) => ['01', '03', '05', '07', '09', '11'].map((month) => `${year}-${month}`))
    .filter((v) => v >= '2025-03' && v <= '2026-11'),
]

/** Formats a date as the docs show `startedAt`: `YYYY-MM-DD HH:MM:SS` in UTC. [F] §1.2 */
export const formatStartedAt = (date: Date): string => date.toISOString().slice(0, 19).replace('T', ' ')

const clone = <T>(value: T): T => structuredClone(value)

const emptyStats = (): EmulatorStats => ({
  requests: {},
  requestTotals: {},
  jobsCreated: 0,
  jobsFinished: 0,
  filesProcessed: 0,
  webhooksSent: 0,
  webhooksDelivered: 0,
  webhooksFailed: 0,
  webhooksDropped: 0,
  webhookDeliveries: [],
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

/** Resolved settings (options with defaults applied). */
export type EmulatorSettings = {
  tokens: Record<string, string[]>
  token: string
  apiVersions: string[]
  removedVersions: string[]
  apiVersion: string
  maxFilesPerRequest: number
  bodyLimitBytes: number
  downloadTimeoutMs: number
  maxFileBytes: number
  fileConcurrency: number
  jobDurationMs: number
  jobDurationJitterMs: number
  mediaTypes: Record<string, MediaTypeConfig>
  webhookTimeoutMs: number
  webhookRetries: number
  webhookRetryDelayMs: number
  skipDownloads: boolean
  rateLimitPerSecond: number | undefined
}

/**
 * Applies defaults to the options.
 * @throws Error when `apiVersion` is not an accepted version
 */
export const resolveSettings = (options: LivingdocsEmulatorOptions): EmulatorSettings => {
  const token = options.token ?? Object.keys(options.tokens ?? {})[0] ?? 'emulator-token'
  const removedVersions = options.removedVersions ?? []
  const apiVersions = (options.apiVersions ?? DEFAULT_API_VERSIONS).filter(
    (v) => !removedVersions.includes(v),
  )
  const dateVersions = apiVersions.filter((v) => /^\d{4}-\d{2}$/.test(v)).sort()
  const apiVersion = options.apiVersion ?? dateVersions.at(-1) ?? apiVersions[0] ?? 'v1'
  if (!apiVersions.includes(apiVersion)) {
    throw new Error(`apiVersion ${apiVersion} is not among the accepted versions ${apiVersions.join(', ')}`)
  }
  return {
    tokens: options.tokens ?? { [token]: ['public-api:write'] },
    token,
    apiVersions,
    removedVersions,
    apiVersion,
    maxFilesPerRequest: options.maxFilesPerRequest ?? 1000,
    bodyLimitBytes: options.bodyLimitBytes ?? 10 * 1024 * 1024,
    downloadTimeoutMs: options.downloadTimeoutMs ?? 10_000,
    maxFileBytes: options.maxFileBytes ?? 100 * 1024 * 1024,
    fileConcurrency: options.fileConcurrency ?? 8,
    jobDurationMs: options.jobDurationMs ?? 0,
    jobDurationJitterMs: options.jobDurationJitterMs ?? 0,
    mediaTypes: options.mediaTypes ?? { file: { type: 'mediaFile' } },
    webhookTimeoutMs: options.webhookTimeoutMs ?? 10_000,
    webhookRetries: options.webhookRetries ?? 0,
    webhookRetryDelayMs: options.webhookRetryDelayMs ?? 500,
    skipDownloads: options.skipDownloads ?? false,
    rateLimitPerSecond: options.rateLimitPerSecond,
  }
}

type Download = { ok: true; bytes: Buffer; mimeType: string } | { ok: false; detail: string }

/**
 * The emulator's state and job runner, independent of HTTP. Used by `createLivingdocsEmulator`.
 */
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
  readonly jobs = new Map<string, JobRecord>()
  readonly media = new Map<string, MediaEntry>()
  /** Timestamps (ms) and file counts of accepted POSTs, for the quota. */
  quotaUsage: { at: number; files: number }[] = []
  private readonly initialFaults: EmulatorFaults
  private readonly initialVariants: EmulatorVariants
  private controller = new AbortController()
  private readonly running = new Set<Promise<void>>()
  private readonly agent: Agent
  private readonly dispatcher

  constructor(options: LivingdocsEmulatorOptions) {
    this.settings = resolveSettings(options)
    this.logger = options.logger ?? silentLogger
    this.random = options.random ?? Math.random
    this.now = options.now ?? (() => new Date())
    this.initialFaults = { ...NO_FAULTS, ...clone(options.faults ?? {}) }
    this.initialVariants = { ...DEFAULT_VARIANTS, ...(options.variants ?? {}) }
    this.faults = clone(this.initialFaults)
    this.variants = { ...this.initialVariants }
    this.tokens = clone(this.settings.tokens)
    this.agent = new Agent({ keepAliveTimeout: 1000 })
    this.dispatcher = this.agent.compose(interceptors.redirect({ maxRedirections: 5 }))
  }

  /** A short lowercase alphanumeric job id like `25bzj8j`. [F] §1.1 */
  newJobId(): string {
    let id = ''
    do {
      id = Array.from({ length: 7 }, () => LOWER[Math.floor(this.random() * LOWER.length)]).join('')
    } while (this.jobs.has(id))
    return id
  }

  /** A 12 character mixed-case alphanumeric mediaId (fits the media library id pattern `^[a-zA-Z0-9-]{1,32}$`, [M] §7). */
  newMediaId(): string {
    return Array.from({ length: 12 }, () => MIXED[Math.floor(this.random() * MIXED.length)]).join('')
  }

  /** Files accepted in the last 24 h (quota window). [F] §5 */
  quotaUsed(): number {
    const since = this.now().getTime() - DAY_MS
    this.quotaUsage = this.quotaUsage.filter((u) => u.at > since)
    return this.quotaUsage.reduce((sum, u) => sum + u.files, 0)
  }

  /** Creates a job for a validated request and starts it in the background. Returns the job id. [F] §1.1 */
  createJob(req: ImportRequest, apiVersion: string): string {
    const id = this.newJobId()
    const job: JobRecord = {
      id,
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
    const stats = this.stats
    // Draw from `random` only when jitter is on, so seeded tests keep their id sequences.
    const jitterMs = this.settings.jobDurationJitterMs
    const durationMs = this.settings.jobDurationMs + (jitterMs > 0 ? Math.floor(this.random() * jitterMs) : 0)
    if (durationMs > 0) {
      await sleep(durationMs, undefined, { signal }).catch(() => {})
    }
    if (signal.aborted) return this.cancel(job)
    if (job.fault === 'failed') {
      this.finish(job, 'failed', undefined, stats)
    } else {
      const results = await this.processFiles(job, signal, stats)
      if (signal.aborted) return this.cancel(job)
      this.finish(job, 'success', results, stats)
    }
    await this.sendWebhook(job, signal, stats)
  }

  private cancel(job: JobRecord): void {
    job.fault = 'cancelled'
    job.state = 'failed'
    job.finished = true
    job.finishedAt = this.now()
  }

  private finish(
    job: JobRecord,
    state: 'success' | 'failed',
    results: FileOutcome[] | undefined,
    stats: EmulatorStats,
  ) {
    job.state = state
    job.finished = true
    job.finishedAt = this.now()
    if (results) job.results = results
    stats.jobsFinished++
    this.logger.info({ jobId: job.id, state }, 'livingdocs emulator: job finished')
  }

  /**
   * Processes the files of a job with limited concurrency. Files with the same `systemName`/`id` pair in one
   * batch are processed in request order, so a later one sees the earlier one (undocumented, §9).
   */
  private async processFiles(
    job: JobRecord,
    signal: AbortSignal,
    stats: EmulatorStats,
  ): Promise<FileOutcome[]> {
    const results: FileOutcome[] = new Array(job.files.length)
    const done: Promise<void>[] = new Array(job.files.length)
    const lastIndexOfKey = new Map<string, number>()
    const previous: (number | undefined)[] = job.files.map((file, index) => {
      const key = `${job.systemName}\u0000${file.id}`
      const prev = lastIndexOfKey.get(key)
      lastIndexOfKey.set(key, index)
      return prev
    })
    const resolvers: (() => void)[] = []
    job.files.forEach((_, index) => {
      done[index] = new Promise<void>((resolve) => {
        resolvers[index] = resolve
      })
    })
    await runLimited(job.files, this.settings.fileConcurrency, async (file, index) => {
      const prev = previous[index]
      if (prev !== undefined) await done[prev]
      try {
        if (signal.aborted) return
        results[index] = await this.processFile(job.systemName, file, signal)
        stats.filesProcessed++
      } finally {
        resolvers[index]?.()
      }
    })
    return results
  }

  private async processFile(systemName: string, file: FileInput, signal: AbortSignal): Promise<FileOutcome> {
    const base = { systemName, externalId: file.id }
    const failed = (reason: string): FileOutcome => ({ state: 'failed', ...base, reason })
    const mediaType = this.settings.mediaTypes[file.mediaType]
    if (!mediaType) return failed(`${INVALID_MEDIA_TYPE}: "${file.mediaType}" is not configured`)
    if ((mediaType.type ?? 'mediaFile') !== 'mediaFile') {
      return failed(`${INVALID_MEDIA_TYPE}: "${file.mediaType}" is not a mediaFile`)
    }
    const problems = checkMetadata(file.metadata, mediaType)
    if (problems.length > 0) return failed(`${INVALID_METADATA}: ${problems.join('; ')}`)
    if (this.faults.fileFailureRate > 0 && this.random() < this.faults.fileFailureRate) {
      return failed(`${UPLOAD_FAILED}: emulated failure`)
    }
    const download: Download = this.settings.skipDownloads
      ? { ok: true, bytes: Buffer.from(file.url), mimeType: 'application/octet-stream' }
      : await this.download(file.url, signal)
    if (!download.ok) return failed(`${UPLOAD_FAILED}: ${download.detail}`)
    const contentHash = createHash('sha256').update(download.bytes).digest('hex')
    const key = `${systemName}\u0000${file.id}`
    const existing = this.media.get(key)
    const now = this.now()
    if (existing && existing.contentHash === contentHash) {
      // [F] §1.1 status example and [GIT] §1.2: a repeated pair is `skipped`, with the existing mediaId.
      return { state: 'skipped', ...base, reason: 'already exists', mediaId: existing.id }
    }
    const entry: MediaEntry = {
      id: existing?.id ?? this.newMediaId(),
      version: (existing?.version ?? 0) + 1,
      systemName,
      externalId: file.id,
      mediaType: file.mediaType,
      fileName: file.fileName,
      // The request's metadata is a fresh parse owned by this job; the copy only guards the default mode's
      // tests, and the benchmark (skipDownloads) spends its time here instead of in the bridge.
      metadata: this.settings.skipDownloads ? file.metadata : clone(file.metadata),
      url: file.url,
      contentHash,
      size: download.bytes.length,
      mimeType: download.mimeType,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    }
    // [F] §1.1 prose: a repeated pair with new content is an update (same mediaId).
    this.media.set(key, entry)
    return { state: 'imported', ...base, mediaId: entry.id }
  }

  /** GETs a file with a timeout and a size cap. Never throws. */
  private async download(url: string, jobSignal: AbortSignal): Promise<Download> {
    const timeout = AbortSignal.timeout(this.settings.downloadTimeoutMs)
    const signal = AbortSignal.any([jobSignal, timeout])
    try {
      const res = await request(url, {
        method: 'GET',
        dispatcher: this.dispatcher,
        signal,
        headersTimeout: this.settings.downloadTimeoutMs,
        bodyTimeout: this.settings.downloadTimeoutMs,
      })
      if (res.statusCode < 200 || res.statusCode >= 300) {
        await res.body.dump().catch(() => {})
        return { ok: false, detail: `HTTP ${res.statusCode}` }
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length
        if (size > this.settings.maxFileBytes) {
          res.body.destroy()
          return { ok: false, detail: `file larger than ${this.settings.maxFileBytes} bytes` }
        }
        chunks.push(chunk as Buffer)
      }
      const contentType = res.headers['content-type']
      const mimeType = (Array.isArray(contentType) ? contentType[0] : contentType)?.split(';')[0]?.trim()
      return { ok: true, bytes: Buffer.concat(chunks), mimeType: mimeType || 'application/octet-stream' }
    } catch (error) {
      if (timeout.aborted) return { ok: false, detail: `timeout after ${this.settings.downloadTimeoutMs} ms` }
      const err = error as { code?: string; message?: string }
      return { ok: false, detail: err.code ?? err.message ?? String(error) }
    }
  }

  /** The callback body (undocumented shape; README "Webhook"). [F][D] §2, §9, [DPA] */
  webhookBody(job: JobRecord): WebhookBody {
    const results = job.results ?? []
    const count = (state: FileOutcome['state']) => results.filter((r) => r.state === state).length
    const failedJob = job.state === 'failed'
    return {
      id: job.id,
      source: 'livingdocs-file-import',
      state: failedJob ? 'failed' : 'success',
      overview: {
        total: job.files.length,
        details: failedJob
          ? { imported: 0, skipped: 0, failed: job.files.length }
          : { imported: count('imported'), skipped: count('skipped'), failed: count('failed') },
      },
      ...(job.context !== undefined ? { context: clone(job.context) } : {}),
    }
  }

  private async sendWebhook(job: JobRecord, signal: AbortSignal, stats: EmulatorStats): Promise<void> {
    if (!job.webhook) return
    if (this.faults.dropWebhooks) {
      stats.webhooksDropped++
      this.logger.info({ jobId: job.id }, 'livingdocs emulator: webhook dropped (fault)')
      return
    }
    const body = this.webhookBody(job)
    const copies = this.faults.duplicateWebhooks ? 2 : 1
    for (let copy = 0; copy < copies; copy++) {
      for (let attempt = 0; attempt <= this.settings.webhookRetries; attempt++) {
        if (signal.aborted) return
        if (attempt > 0) await sleep(this.settings.webhookRetryDelayMs, undefined, { signal }).catch(() => {})
        if (signal.aborted) return
        if (await this.postWebhook(job, body, signal, stats)) break
      }
    }
  }

  private async postWebhook(job: JobRecord, body: WebhookBody, signal: AbortSignal, stats: EmulatorStats) {
    const url = job.webhook as string
    const delivery: WebhookDelivery = { jobId: job.id, url, body: clone(body), at: this.now() }
    stats.webhooksSent++
    stats.webhookDeliveries.push(delivery)
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'livingdocs-emulator' },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.settings.webhookTimeoutMs)]),
        headersTimeout: this.settings.webhookTimeoutMs,
        bodyTimeout: this.settings.webhookTimeoutMs,
      })
      await res.body.dump().catch(() => {})
      delivery.status = res.statusCode
      if (res.statusCode >= 200 && res.statusCode < 300) {
        stats.webhooksDelivered++
        job.webhooksDelivered++
        return true
      }
      stats.webhooksFailed++
      this.logger.warn(
        { jobId: job.id, url, status: res.statusCode },
        'livingdocs emulator: webhook answered non-2xx',
      )
      return false
    } catch (error) {
      const err = error as { code?: string; message?: string }
      delivery.error = err.code ?? err.message ?? String(error)
      stats.webhooksFailed++
      this.logger.warn(
        { jobId: job.id, url, err: delivery.error },
        'livingdocs emulator: webhook delivery failed',
      )
      return false
    }
  }

  /** Aborts running jobs and waits until they have settled. */
  async cancelRunning(): Promise<void> {
    this.controller.abort()
    await Promise.allSettled([...this.running])
    this.controller = new AbortController()
  }

  /** Clears jobs, media, counters and quota usage; faults and variants go back to the construction values. */
  async reset(): Promise<void> {
    await this.cancelRunning()
    this.jobs.clear()
    this.media.clear()
    this.quotaUsage = []
    this.stats = emptyStats()
    this.faults = clone(this.initialFaults)
    this.variants = { ...this.initialVariants }
    this.tokens = clone(this.settings.tokens)
  }

  /** Cancels running jobs and closes the HTTP agent used for downloads and webhooks. */
  async close(): Promise<void> {
    await this.cancelRunning()
    await this.agent.close().catch(() => {})
  }
}
