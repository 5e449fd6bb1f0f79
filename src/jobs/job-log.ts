import { z } from 'zod'
import type { Batch, PendingFile } from '../batcher/batcher.ts'
import { ENVELOPE_BYTES } from '../batcher/batcher.ts'
import type { ConsumedRecord } from '../kafka/consumer.ts'
import type { RecordPosition } from '../kafka/offset-tracker.ts'
import type { OutgoingMessage } from '../kafka/producer.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { drainInFlight } from '../timeouts.ts'

/**
 * One submitted import job in the job log (JSON, keyed by job id, on a compacted topic). A tombstone
 * (null value) for the key is written once the job's result events are published.
 */
export interface JobLogEntry {
  jobId: string
  /** The bridge's batch id (also in the request's `context`). */
  batchId: string
  systemName: string
  /** Epoch ms. */
  submittedAt: number
  /** Each file's source record and externalId, in request order. */
  files: Array<{ topic: string; partition: number; offset: string; externalId: string }>
}

const entrySchema = z.object({
  jobId: z.string().min(1),
  batchId: z.string().min(1),
  systemName: z.string().min(1),
  submittedAt: z.number(),
  files: z.array(
    z.object({
      topic: z.string().min(1),
      partition: z.number().int().nonnegative(),
      offset: z.string().regex(/^\d+$/),
      externalId: z.string(),
    }),
  ),
})

/** Options of {@link JobLog}. Durations in ms. */
export interface JobLogOptions {
  /** The compacted job log topic (`JOB_LOG_TOPIC`). */
  topic: string
  /**
   * How long an adoption waits for the job's files to be consumed again; afterwards the files it
   * holds go the normal way (a new import job).
   */
  adoptionTimeoutMs: number
}

type FileState = 'expected' | 'consumed' | 'claimed' | 'missing'

interface PendingAdoption {
  entry: JobLogEntry
  /** Position key -> state, for the files on partitions this process now owns. */
  files: Map<string, FileState>
  claimed: PendingFile[]
  timer: NodeJS.Timeout
}

/**
 * The job log, and adoption of running jobs after a rebalance or restart.
 *
 * Writing: every submitted import job is recorded ({@link started}) and tombstoned once its result
 * events are published ({@link finished}); so the compacted topic holds the jobs that may still be
 * running in Livingdocs. Every replica reads the whole topic ({@link onRecord}) and keeps it in memory
 * (one entry per running job).
 *
 * Adoption: when partitions are newly assigned ({@link onAssignment}), the logged jobs not followed by
 * this process with files on those partitions become pending adoptions. Their files are consumed again
 * from the committed offset (a running job's files are never below it); as each one comes out of the key
 * sequencer, {@link claim} takes it instead of the batcher. Once every expected file is claimed, or known
 * to be missing (a later offset of its partition was consumed first: it was below the committed
 * offset, so the entry was stale), the job is handed to the tracker's `adopt` with the claimed files,
 * and its status is followed instead of importing the files again. A job whose files are split over
 * several new owners is adopted by each for its own files.
 */
export class JobLog {
  readonly #options: JobLogOptions
  readonly #send: (topic: string, messages: OutgoingMessage[]) => Promise<void>
  readonly #tracker: { adopt(jobId: string, batch: Batch): boolean; tracks(jobId: string): boolean }
  readonly #release: (file: PendingFile) => void
  readonly #metrics: Metrics
  readonly #logger: Logger
  /** Logged jobs, from the topic: job id -> entry. */
  readonly #entries = new Map<string, JobLogEntry>()
  /** Batches this process submitted or adopted: batch id -> current job id (a lost job is resubmitted). */
  readonly #byBatch = new Map<string, string>()
  readonly #pending = new Map<string, PendingAdoption>()
  /** Position key -> job id of the pending adoption expecting that record. */
  readonly #expected = new Map<string, string>()
  /** Writes not yet acknowledged. */
  readonly #writes = new Set<Promise<void>>()

  /**
   * @param deps.send publishes to Kafka, resolves once acknowledged (the idempotent producer)
   * @param deps.tracker the job tracker (adopts jobs; says which it follows)
   * @param deps.release passes a file on the normal way (the batcher), when an adoption gives up
   */
  constructor(
    options: JobLogOptions,
    deps: {
      send: (topic: string, messages: OutgoingMessage[]) => Promise<void>
      tracker: { adopt(jobId: string, batch: Batch): boolean; tracks(jobId: string): boolean }
      release: (file: PendingFile) => void
      metrics: Metrics
      logger: Logger
    },
  ) {
    this.#options = options
    this.#send = deps.send
    this.#tracker = deps.tracker
    this.#release = deps.release
    this.#metrics = deps.metrics
    this.#logger = deps.logger.child({ component: 'job-log' })
  }

  /** Logged jobs known to this process (running somewhere, as far as the log says). */
  get size(): number {
    return this.#entries.size
  }

  /** Files held by pending adoptions. */
  get held(): number {
    let n = 0
    for (const p of this.#pending.values()) n += p.claimed.length
    return n
  }

  /** Records that `batch` became import job `jobId` (in the background; a failed write is logged). */
  started(jobId: string, batch: Batch): void {
    const previous = this.#byBatch.get(batch.id)
    this.#byBatch.set(batch.id, jobId)
    const entry: JobLogEntry = {
      jobId,
      batchId: batch.id,
      systemName: batch.systemName,
      submittedAt: Date.now(),
      files: batch.files.map((f) => ({ ...f.position, externalId: f.event.externalId })),
    }
    // The job replaced a lost one of the same batch: that one runs nowhere any more.
    if (previous !== undefined && previous !== jobId) this.#write(previous, null)
    this.#write(jobId, Buffer.from(JSON.stringify(entry)))
  }

  /** Writes the tombstone of `jobId`, whose result events are published. */
  finished(jobId: string, batchId: string): void {
    if (this.#byBatch.get(batchId) === jobId) this.#byBatch.delete(batchId)
    this.#write(jobId, null)
  }

  /** Applies one record of the job log topic (an entry, or a tombstone). Never throws. */
  onRecord(record: ConsumedRecord): void {
    const jobId = record.key?.toString('utf8')
    if (jobId === undefined || jobId === '') return
    if (record.value === null || record.value.length === 0) {
      this.#entries.delete(jobId)
      return
    }
    try {
      const parsed = entrySchema.safeParse(JSON.parse(record.value.toString('utf8')))
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '))
      this.#entries.set(jobId, { ...parsed.data, jobId })
    } catch (err) {
      this.#logger.warn(
        { err, partition: record.partition, offset: record.offset },
        'malformed job log entry skipped',
      )
    }
  }

  /**
   * After a rebalance: gives up pending adoptions of partitions no longer owned, and starts adoptions
   * of logged jobs with files on partitions newly owned (`isNew`) that this process does not follow.
   * @returns files held by given-up adoptions, which the caller drops like other files of revoked
   *   partitions
   */
  onAssignment(
    isOwned: (p: RecordPosition) => boolean,
    isNew: (p: RecordPosition) => boolean,
  ): PendingFile[] {
    const dropped: PendingFile[] = []
    for (const [jobId, pending] of this.#pending) {
      const kept = pending.claimed.filter((f) => isOwned(f.position))
      dropped.push(...pending.claimed.filter((f) => !isOwned(f.position)))
      pending.claimed = kept
      for (const [k, state] of pending.files) {
        if (!isOwned(parseKey(k))) {
          pending.files.delete(k)
          if (state === 'expected' || state === 'consumed') this.#expected.delete(k)
        }
      }
      if (pending.files.size === 0) this.#forget(jobId)
    }
    let adoptions = 0
    for (const entry of this.#entries.values()) {
      if (this.#pending.has(entry.jobId) || this.#tracker.tracks(entry.jobId)) continue
      const mine = entry.files.filter((f) => isNew(f))
      if (mine.length === 0) continue
      const files = new Map<string, FileState>()
      for (const f of mine) {
        const k = key(f)
        if (this.#expected.has(k)) continue
        files.set(k, 'expected')
        this.#expected.set(k, entry.jobId)
      }
      if (files.size === 0) continue
      const timer = setTimeout(() => this.#giveUp(entry.jobId), this.#options.adoptionTimeoutMs)
      timer.unref()
      this.#pending.set(entry.jobId, { entry, files, claimed: [], timer })
      adoptions++
    }
    if (adoptions > 0)
      this.#logger.info(
        { adoptions },
        'rebalance: running import jobs found in the job log; waiting for their files',
      )
    return dropped
  }

  /**
   * Tells the job log that `position` was consumed (call for every consumed record, in partition
   * order, before the key sequencer). Expected files of the partition below it that were not consumed
   * are missing (they were below the committed offset).
   */
  observe(position: RecordPosition): void {
    if (this.#pending.size === 0) return
    const own = this.#expected.get(key(position))
    if (own !== undefined) this.#pending.get(own)?.files.set(key(position), 'consumed')
    const offset = BigInt(position.offset)
    for (const [jobId, pending] of this.#pending) {
      let changed = false
      for (const [k, state] of pending.files) {
        if (state !== 'expected') continue
        const p = parseKey(k)
        if (p.topic === position.topic && p.partition === position.partition && BigInt(p.offset) < offset) {
          pending.files.set(k, 'missing')
          this.#expected.delete(k)
          changed = true
        }
      }
      if (changed) this.#maybeAdopt(jobId)
    }
  }

  /**
   * Takes `file` (released by the key sequencer) for a pending adoption that expects its record.
   * @returns true when taken; false when the file goes on to the batcher
   */
  claim(file: PendingFile): boolean {
    const k = key(file.position)
    const jobId = this.#expected.get(k)
    if (jobId === undefined) return false
    const pending = this.#pending.get(jobId)
    if (pending === undefined) return false
    this.#expected.delete(k)
    pending.files.set(k, 'claimed')
    pending.claimed.push(file)
    this.#maybeAdopt(jobId)
    return true
  }

  /**
   * Waits for job log writes in progress, at most `timeoutMs` (shutdown: an entry of a job still
   * running must reach the log before the process goes, or the next owner submits the files again).
   * @returns true when all were acknowledged
   */
  drain(timeoutMs: number): Promise<boolean> {
    return drainInFlight(this.#writes, timeoutMs)
  }

  /** Clears the adoption timers (shutdown); held files stay unsettled and are consumed again later. */
  close(): void {
    for (const p of this.#pending.values()) clearTimeout(p.timer)
    this.#pending.clear()
    this.#expected.clear()
  }

  #maybeAdopt(jobId: string): void {
    const pending = this.#pending.get(jobId)
    if (pending === undefined) return
    for (const state of pending.files.values()) if (state === 'expected' || state === 'consumed') return
    this.#forget(jobId)
    const { entry } = pending
    if (pending.claimed.length === 0) {
      // Every file was below the committed offset: the job's results were published, its tombstone not.
      this.#logger.info({ jobId }, 'job log entry is stale (its files are committed); removing it')
      this.#write(jobId, null)
      return
    }
    const order = new Map(entry.files.map((f, i) => [key(f), i]))
    const files = [...pending.claimed].sort(
      (a, b) => (order.get(key(a.position)) ?? 0) - (order.get(key(b.position)) ?? 0),
    )
    const batch: Batch = {
      id: entry.batchId,
      systemName: entry.systemName,
      files,
      bytes: files.reduce((n, f) => n + f.bytes, ENVELOPE_BYTES),
      reason: 'adopted',
    }
    if (this.#tracker.adopt(jobId, batch)) {
      this.#byBatch.set(entry.batchId, jobId)
      this.#metrics.jobsAdopted.inc()
    } else {
      for (const f of files) this.#release(f)
    }
  }

  #giveUp(jobId: string): void {
    const pending = this.#pending.get(jobId)
    if (pending === undefined) return
    this.#forget(jobId)
    this.#logger.warn(
      { jobId, held: pending.claimed.length },
      'adoption timed out waiting for the job’s files; importing the held files again',
    )
    for (const f of pending.claimed) this.#release(f)
  }

  #forget(jobId: string): void {
    const pending = this.#pending.get(jobId)
    if (pending === undefined) return
    clearTimeout(pending.timer)
    this.#pending.delete(jobId)
    for (const [k, state] of pending.files)
      if ((state === 'expected' || state === 'consumed') && this.#expected.get(k) === jobId)
        this.#expected.delete(k)
  }

  #write(jobId: string, value: Buffer | null): void {
    const write = this.#send(this.#options.topic, [{ key: jobId, value: value as Buffer }])
      .catch((err: unknown) => {
        this.#logger.warn({ err, jobId, tombstone: value === null }, 'job log write failed')
      })
      .finally(() => this.#writes.delete(write))
    this.#writes.add(write)
  }
}

function key(p: { topic: string; partition: number; offset: string }): string {
  return `${p.topic}\u0000${p.partition}\u0000${p.offset}`
}

function parseKey(k: string): RecordPosition {
  const [topic, partition, offset] = k.split('\u0000')
  return { topic: topic as string, partition: Number(partition), offset: offset as string }
}
