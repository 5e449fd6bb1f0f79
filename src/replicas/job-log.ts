import type { OutgoingMessage } from '../kafka/producer.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { partitionKey } from '../model/assignment.ts'
import type { Batch, PendingFile } from '../model/files.ts'
import {
  type CommittableOffset,
  type ConsumedRecord,
  positionKey,
  type RecordPosition,
} from '../model/records.ts'
import { drainInFlight } from '../timeouts.ts'
import { type AdoptingTracker, Adoptions } from './adoptions.ts'
import { type JobLogEntry, jobLogEntrySchema } from './job-log-entry.ts'

export type { JobLogEntry }

/**
 * Ids of tombstoned jobs remembered (for `publishedElsewhere`): a job's results are concluded by each
 * replica that follows it within a status poll of one another, and many more jobs end in between.
 */
const TOMBSTONES_KEPT = 10_000

/**
 * How old (since its submit) an entry whose files are all published may get before it is tombstoned even
 * though no commit of its partitions was seen past them (a partition that gets no new record, so its
 * owner never commits again), ms. A commit that still had not passed them may then let their new owner
 * submit them again (a SKIPPED repeat), nothing worse.
 */
export const PUBLISHED_ENTRY_MAX_AGE_MS = 24 * 3600_000

/** How often the job log looks for such entries, ms. */
const SWEEP_INTERVAL_MS = 60_000

/** A publish to Kafka that resolves once acknowledged (the idempotent producer's `send`). */
export type SendRecords = (topic: string, messages: OutgoingMessage[]) => Promise<void>

/** Options of {@link JobLog}. Durations in ms. */
export interface JobLogOptions {
  /** The compacted job log topic (`JOB_LOG_TOPIC`). */
  topic: string
  /**
   * How long an adoption waits for the job's files to be consumed again; afterwards the files it
   * holds go the normal way (a new import job); default `ADOPTION_TIMEOUT_MS`.
   */
  adoptionTimeoutMs?: number
  /** See {@link PUBLISHED_ENTRY_MAX_AGE_MS} (the default). */
  publishedMaxAgeMs?: number
}

/**
 * The job log, and adoption of running jobs after a rebalance or restart.
 *
 * Writing: every submitted import job is recorded ({@link started}); the files whose result events are
 * published are marked `published` in its entry ({@link finished}), and a file leaves the entry once
 * the owner of its partition commits past it ({@link committed}); the tombstone is written when no file
 * is left. So the compacted topic holds the jobs that may still be running in Livingdocs and the
 * published files a new owner of their partition may still consume again. Every replica reads the whole
 * topic ({@link onRecord}) and keeps it in memory (one entry per such job).
 *
 * Adoption ({@link onAssignment}, {@link observe}, {@link claim}; the details in `Adoptions`): the logged
 * jobs with files on newly assigned partitions are followed instead of submitted again, once their
 * files have been consumed again.
 */
export class JobLog {
  readonly #options: JobLogOptions
  readonly #send: SendRecords
  readonly #logger: Logger
  readonly #adoptions: Adoptions
  /** Logged jobs, from the topic: job id -> entry. */
  readonly #entries = new Map<string, JobLogEntry>()
  /** Batches this process submitted or adopted: batch id -> current job id (a lost job is resubmitted). */
  readonly #byBatch = new Map<string, string>()
  /** Ids of jobs whose tombstone was read, the latest {@link TOMBSTONES_KEPT}. */
  readonly #tombstoned = new Set<string>()
  /** Writes not yet acknowledged. */
  readonly #writes = new Set<Promise<void>>()
  /** The offsets this process committed last on partitions it owns: partition key -> next offset. */
  readonly #committed = new Map<string, bigint>()
  #isOwned: (p: RecordPosition) => boolean = () => false
  /**
   * Files this process marked published, per logged job, until the job's tombstone: an entry read
   * without one of those marks (a replica rewrote it at the same moment from an older version) is
   * written again with them.
   */
  readonly #marked = new Map<string, Set<string>>()
  readonly #expectPublished: (positions: RecordPosition[]) => number
  readonly #sweeper: NodeJS.Timeout

  /**
   * @param deps.send publishes to Kafka, resolves once acknowledged (the idempotent producer)
   * @param deps.tracker the job tracker (adopts jobs; says which it follows)
   * @param deps.release passes a file on the normal way (the batcher), when an adoption gives up
   * @param deps.expectPublished told, after a rebalance, the records of newly owned partitions whose
   *   results were published (the entries mark them): they are settled when they come again, neither
   *   submitted nor published again (`RegainedFiles.expectPublished`); returns how many it expects
   */
  constructor(
    options: JobLogOptions,
    deps: {
      send: SendRecords
      tracker: AdoptingTracker
      release: (file: PendingFile) => void
      expectPublished?: (positions: RecordPosition[]) => number
      metrics: Metrics
      logger: Logger
    },
  ) {
    this.#options = options
    this.#expectPublished = deps.expectPublished ?? (() => 0)
    this.#sweeper = setInterval(() => this.#sweepOld(), SWEEP_INTERVAL_MS)
    this.#sweeper.unref()
    this.#send = deps.send
    this.#logger = deps.logger.child({ component: 'job-log' })
    this.#adoptions = new Adoptions(options, {
      tracker: deps.tracker,
      release: deps.release,
      adopted: (entry) => this.#byBatch.set(entry.batchId, entry.jobId),
      // Its files on newly owned partitions are committed: they leave the entry (the files of other
      // partitions may still run).
      stale: (jobId, committed) => {
        const entry = this.#entries.get(jobId)
        const gone = new Set(committed.map(positionKey))
        const rest = entry?.files.filter((f) => !gone.has(positionKey(f))) ?? []
        this.#write(jobId, rest.length === 0 ? null : { ...(entry as JobLogEntry), files: rest })
      },
      metrics: deps.metrics,
      logger: this.#logger,
    })
  }

  /** Logged jobs known to this process (running somewhere, as far as the log says). */
  get size(): number {
    return this.#entries.size
  }

  /** Files held by pending adoptions. */
  get held(): number {
    return this.#adoptions.held
  }

  /** Records that `batch` became import job `jobId` (in the background; a failed write is logged). */
  started(jobId: string, batch: Batch): void {
    const previous = this.#byBatch.get(batch.id)
    this.#byBatch.set(batch.id, jobId)
    const entry = this.#entryOf(jobId, batch)
    // The job replaced a lost one of the same batch: that one runs nowhere any more.
    if (previous !== undefined && previous !== jobId) this.#write(previous, null)
    this.#write(jobId, entry)
  }

  /** A new entry of job `jobId`, submitted now, listing every file of `batch` (none published yet). */
  #entryOf(jobId: string, batch: Batch): JobLogEntry {
    return {
      jobId,
      batchId: batch.id,
      systemName: batch.systemName,
      kind: batch.kind,
      submittedAt: Date.now(),
      files: batch.files.map((f) => ({ ...f.position, externalId: f.event.externalId })),
    }
  }

  /**
   * Records that this process published the results of `published`, files of job `jobId`, and found
   * `elsewhere` published by another replica ({@link publishedElsewhere}). Those files are marked
   * `published` in the job's entry (the latest entry read from the topic or written here, or `batch`
   * when none is known), not taken out of it: a new owner of their partition that consumes them again
   * before the committed offset passes them settles them without a submit. The files below the committed
   * offset this process knows leave the entry; the tombstone is written when none is left. (Two replicas
   * that rewrite one entry at once may undo the other's marks; an adoption of such a file publishes its
   * result a second time under the same `importJobId`.)
   */
  finished(
    jobId: string,
    batch: Batch,
    published: readonly RecordPosition[],
    elsewhere: readonly RecordPosition[] = [],
  ): void {
    const done = new Set([...published, ...elsewhere].map(positionKey))
    this.#remember(jobId, done)
    this.#markElsewhere(jobId, new Set(published.map(positionKey)))
    const entry = this.#entries.get(jobId)
    // Its tombstone was read (every file committed): nothing to mark, and no entry to bring back.
    if (entry === undefined && this.#tombstoned.has(jobId)) return
    const base = entry ?? this.#entryOf(jobId, batch)
    const marked = base.files.map((f) =>
      f.published !== true && done.has(positionKey(f)) ? { ...f, published: true } : f,
    )
    if (marked.every((f) => f.published === true) && this.#byBatch.get(batch.id) === jobId)
      this.#byBatch.delete(batch.id)
    this.#rewrite({ ...base, files: marked })
  }

  /**
   * Marks the files whose results were just published under job `jobId` as published in the other
   * logged jobs that hold them too (a file submitted twice: its partition's new owner joined before the
   * first job's entry reached the log), so that a replica following or adopting one of those does not
   * publish a second result for them ({@link publishedElsewhere}), nor a new owner submit them again.
   */
  #markElsewhere(jobId: string, published: Set<string>): void {
    if (published.size === 0) return
    for (const [otherId, other] of [...this.#entries]) {
      if (
        otherId === jobId ||
        !other.files.some((f) => f.published !== true && published.has(positionKey(f)))
      )
        continue
      this.#remember(otherId, published)
      this.#rewrite({
        ...other,
        files: other.files.map((f) => (published.has(positionKey(f)) ? { ...f, published: true } : f)),
      })
    }
  }

  #remember(jobId: string, positions: Iterable<string>): void {
    let set = this.#marked.get(jobId)
    if (set === undefined) {
      set = new Set()
      this.#marked.set(jobId, set)
    }
    for (const k of positions) set.add(k)
  }

  /**
   * After a commit of this process: `offsets` (one past the last settled record of each partition) are
   * the group's committed offsets. The logged files below them leave their entries (nobody consumes them
   * again); an entry with none left is tombstoned.
   */
  committed(offsets: readonly CommittableOffset[]): void {
    let moved = false
    for (const o of offsets) {
      const k = partitionKey(o.topic, o.partition)
      const offset = BigInt(o.offset)
      if ((this.#committed.get(k) ?? -1n) >= offset) continue
      this.#committed.set(k, offset)
      moved = true
    }
    if (!moved) return
    for (const entry of [...this.#entries.values()]) this.#rewrite(entry, true)
  }

  /**
   * Writes `entry` without its files below the committed offsets this process knows, or its tombstone
   * when none is left; with `onlyIfSwept`, only when a file was taken out.
   */
  #rewrite(entry: JobLogEntry, onlyIfSwept = false): void {
    const files =
      this.#committed.size === 0
        ? entry.files
        : entry.files.filter((f) => {
            const committed = this.#committed.get(partitionKey(f.topic, f.partition))
            return committed === undefined || BigInt(f.offset) >= committed
          })
    if (onlyIfSwept && files.length === entry.files.length) return
    if (files.length === 0) {
      // A job id is kept under its own batch only (started, adopted).
      if (this.#byBatch.get(entry.batchId) === entry.jobId) this.#byBatch.delete(entry.batchId)
      this.#write(entry.jobId, null)
    } else this.#write(entry.jobId, { ...entry, files })
  }

  /**
   * Tombstones the entries whose files are all published and that were submitted more than
   * {@link PUBLISHED_ENTRY_MAX_AGE_MS} ago (by the owner of the partition of the entry's first file).
   */
  #sweepOld(): void {
    const before = Date.now() - (this.#options.publishedMaxAgeMs ?? PUBLISHED_ENTRY_MAX_AGE_MS)
    for (const entry of [...this.#entries.values()]) {
      const first = entry.files[0]
      if (entry.submittedAt > before || first === undefined || !this.#isOwned(first)) continue
      if (!entry.files.every((f) => f.published === true)) continue
      this.#logger.info(
        { jobId: entry.jobId, files: entry.files.length },
        'job log entry of published files is old; removing it',
      )
      this.#write(entry.jobId, null)
    }
  }

  /**
   * True when the result of the file at `position` of job `jobId` was published, as far as the job log
   * read (or written here) so far says: the job's tombstone was read, its entry marks the file
   * `published`, or no longer lists it (committed, or an entry of an older version). False when the
   * entry lists it unpublished, or nothing of the job was read.
   */
  publishedElsewhere(jobId: string, position: RecordPosition): boolean {
    if (this.#tombstoned.has(jobId)) return true
    const entry = this.#entries.get(jobId)
    if (entry === undefined) return false
    const f = entry.files.find(
      (f) => f.offset === position.offset && f.partition === position.partition && f.topic === position.topic,
    )
    return f === undefined || f.published === true
  }

  /** Applies one record of the job log topic (an entry, or a tombstone). Never throws. */
  onRecord(record: ConsumedRecord): void {
    const jobId = record.key?.toString('utf8')
    if (jobId === undefined || jobId === '') return
    if (record.value === null || record.value.length === 0) {
      this.#applyTombstone(jobId)
      return
    }
    try {
      const parsed = jobLogEntrySchema.safeParse(JSON.parse(record.value.toString('utf8')))
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '))
      let entry: JobLogEntry = { ...parsed.data, jobId }
      // Marks of this process missing (a replica rewrote the entry at once from an older version): put
      // back, and the entry written again with them.
      const marked = this.#marked.get(jobId)
      const lost =
        marked !== undefined && entry.files.some((f) => f.published !== true && marked.has(positionKey(f)))
      if (lost)
        entry = {
          ...entry,
          files: entry.files.map((f) => (marked.has(positionKey(f)) ? { ...f, published: true } : f)),
        }
      this.#entries.set(jobId, entry)
      // Files below a commit of this process (put back by a replica that rewrote the entry at once): out.
      if (lost) this.#rewrite(entry)
      else if (this.#committed.size > 0) this.#rewrite(entry, true)
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
    this.#isOwned = isOwned
    for (const k of [...this.#committed.keys()]) {
      const [topic, partition] = k.split('\u0000')
      if (!isOwned({ topic: topic as string, partition: Number(partition), offset: '0' }))
        this.#committed.delete(k)
    }
    // Files whose results were published, on partitions newly owned: settled when they come again.
    const published = new Map<string, RecordPosition>()
    for (const entry of this.#entries.values())
      for (const f of entry.files)
        if (f.published === true && isNew(f))
          published.set(positionKey(f), { topic: f.topic, partition: f.partition, offset: f.offset })
    if (published.size > 0) {
      const expected = this.#expectPublished([...published.values()])
      this.#logger.info(
        { files: published.size, expected },
        'rebalance: newly assigned partitions hold files whose results were published (job log); settling them when they come again, without a new submit',
      )
    }
    return this.#adoptions.onAssignment(this.#entries.values(), isOwned, isNew, new Set(published.keys()))
  }

  /**
   * Tells the job log that `position` was consumed (call for every consumed record, in partition
   * order, before the key sequencer).
   */
  observe(position: RecordPosition): void {
    this.#adoptions.observe(position)
  }

  /**
   * Takes `file` (released by the key sequencer) for a pending adoption that expects its record.
   * @returns true when taken; false when the file goes on to the batcher
   */
  claim(file: PendingFile): boolean {
    return this.#adoptions.claim(file)
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
    clearInterval(this.#sweeper)
    this.#adoptions.close()
  }

  /** Forgets job `jobId`, whose tombstone was read or written: its entry, its marks; remembers its id. */
  #applyTombstone(jobId: string): void {
    this.#entries.delete(jobId)
    this.#marked.delete(jobId)
    this.#tombstoned.add(jobId)
    // Insertion order: the oldest id goes first.
    if (this.#tombstoned.size > TOMBSTONES_KEPT)
      this.#tombstoned.delete(this.#tombstoned.values().next().value as string)
  }

  /**
   * Writes an entry or a tombstone (in the background; a failed write is logged) and applies it to the
   * entries known here at once, so that this process's next rewrite builds on it.
   */
  #write(jobId: string, entry: JobLogEntry | null): void {
    if (entry === null) this.#applyTombstone(jobId)
    else this.#entries.set(jobId, entry)
    const value = entry === null ? null : Buffer.from(JSON.stringify(entry))
    const write = this.#send(this.#options.topic, [{ key: jobId, value }])
      .catch((err: unknown) => {
        this.#logger.warn({ err, jobId, tombstone: value === null }, 'job log write failed')
      })
      .finally(() => this.#writes.delete(write))
    this.#writes.add(write)
  }
}
