import type { OutgoingMessage } from '../kafka/producer.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { Batch, PendingFile } from '../model/files.ts'
import type { ConsumedRecord, RecordPosition } from '../model/records.ts'
import { drainInFlight } from '../timeouts.ts'
import { type AdoptingTracker, Adoptions } from './adoptions.ts'
import { type JobLogEntry, jobLogEntrySchema } from './job-log-entry.ts'

export type { JobLogEntry }

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
}

/**
 * The job log, and adoption of running jobs after a rebalance or restart.
 *
 * Writing: every submitted import job is recorded ({@link started}) and tombstoned once its result
 * events are published ({@link finished}); so the compacted topic holds the jobs that may still be
 * running in Livingdocs. Every replica reads the whole topic ({@link onRecord}) and keeps it in memory
 * (one entry per running job).
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
      send: SendRecords
      tracker: AdoptingTracker
      release: (file: PendingFile) => void
      metrics: Metrics
      logger: Logger
    },
  ) {
    this.#options = options
    this.#send = deps.send
    this.#logger = deps.logger.child({ component: 'job-log' })
    this.#adoptions = new Adoptions(options, {
      tracker: deps.tracker,
      release: deps.release,
      adopted: (entry) => this.#byBatch.set(entry.batchId, entry.jobId),
      stale: (jobId) => this.#write(jobId, null),
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
    const entry: JobLogEntry = {
      jobId,
      batchId: batch.id,
      systemName: batch.systemName,
      kind: batch.kind,
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
      const parsed = jobLogEntrySchema.safeParse(JSON.parse(record.value.toString('utf8')))
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
    return this.#adoptions.onAssignment(this.#entries.values(), isOwned, isNew)
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
    this.#adoptions.close()
  }

  #write(jobId: string, value: Buffer | null): void {
    const write = this.#send(this.#options.topic, [{ key: jobId, value }])
      .catch((err: unknown) => {
        this.#logger.warn({ err, jobId, tombstone: value === null }, 'job log write failed')
      })
      .finally(() => this.#writes.delete(write))
    this.#writes.add(write)
  }
}
