import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { type Batch, batchBytes, type PendingFile } from '../model/files.ts'
import { positionKey, type RecordPosition } from '../model/records.ts'
import type { JobLogEntry } from './job-log-entry.ts'

/**
 * How long an adoption waits for the job's files to be consumed again, ms; afterwards the files it
 * holds go the normal way (a new import job). A file may wait in the key sequencer behind another
 * event of its externalId, so this is generous.
 */
export const ADOPTION_TIMEOUT_MS = 60_000

type FileState = 'expected' | 'consumed' | 'claimed' | 'missing'

interface PendingAdoption {
  entry: JobLogEntry
  /** Position key -> state, for the files on partitions this process now owns. */
  files: Map<string, FileState>
  claimed: PendingFile[]
  timer: NodeJS.Timeout
}

/** What adoptions need of the job tracker. */
export interface AdoptingTracker {
  adopt(jobId: string, batch: Batch): boolean
  tracks(jobId: string): boolean
}

/**
 * Pending adoptions of running jobs found in the job log (see `JobLog`). When partitions are newly
 * assigned ({@link start}), the logged jobs not followed by this process with files on those partitions
 * become pending adoptions. Their files are consumed again from the committed offset (a running job's
 * files are never below it); as each one comes out of the key sequencer, {@link claim} takes it instead
 * of the batcher. Once every expected file is claimed, or known to be missing (a later offset of its
 * partition was consumed first: it was below the committed offset, so the entry was stale), the job is
 * handed to the tracker's `adopt` with the claimed files and its status is followed instead of
 * importing the files again. A job whose files are split over several new owners is adopted by each
 * for its own files.
 */
export class Adoptions {
  readonly #timeoutMs: number
  readonly #tracker: AdoptingTracker
  readonly #release: (file: PendingFile) => void
  readonly #adopted: (entry: JobLogEntry) => void
  readonly #stale: (jobId: string, committed: RecordPosition[]) => void
  readonly #metrics: Metrics
  readonly #logger: Logger
  readonly #pending = new Map<string, PendingAdoption>()
  /** Position key -> job id of the pending adoption expecting that record. */
  readonly #expected = new Map<string, string>()

  /**
   * @param deps.release passes a file on the normal way (the batcher), when an adoption gives up
   * @param deps.adopted called when the tracker took a job over
   * @param deps.stale called for a logged job whose files on the newly owned partitions all lie below
   *   the committed offset, with those files
   */
  constructor(
    options: { adoptionTimeoutMs?: number },
    deps: {
      tracker: AdoptingTracker
      release: (file: PendingFile) => void
      adopted: (entry: JobLogEntry) => void
      stale: (jobId: string, committed: RecordPosition[]) => void
      metrics: Metrics
      logger: Logger
    },
  ) {
    this.#timeoutMs = options.adoptionTimeoutMs ?? ADOPTION_TIMEOUT_MS
    this.#tracker = deps.tracker
    this.#release = deps.release
    this.#adopted = deps.adopted
    this.#stale = deps.stale
    this.#metrics = deps.metrics
    this.#logger = deps.logger
  }

  /** Files held by pending adoptions. */
  get held(): number {
    let n = 0
    for (const p of this.#pending.values()) n += p.claimed.length
    return n
  }

  /**
   * After a rebalance: gives up pending adoptions of partitions no longer owned, and starts adoptions
   * of `entries` with files on partitions newly owned (`isNew`) that this process does not follow. Files
   * whose results were published (marked in an entry, `published` holds their position keys) are not
   * waited for: they are settled when they come again (`RegainedFiles`), not adopted.
   * @returns files held by given-up adoptions, which the caller drops like other files of revoked
   *   partitions
   */
  onAssignment(
    entries: Iterable<JobLogEntry>,
    isOwned: (p: RecordPosition) => boolean,
    isNew: (p: RecordPosition) => boolean,
    published: ReadonlySet<string> = new Set(),
  ): PendingFile[] {
    const dropped: PendingFile[] = []
    for (const [jobId, pending] of this.#pending) {
      for (const f of pending.claimed) if (!isOwned(f.position)) dropped.push(f)
      pending.claimed = pending.claimed.filter((f) => isOwned(f.position))
      for (const [k, state] of pending.files) {
        if (isOwned(parseKey(k))) continue
        pending.files.delete(k)
        if (state === 'expected' || state === 'consumed') this.#expected.delete(k)
      }
      if (pending.files.size === 0) this.#forget(jobId)
    }
    let adoptions = 0
    for (const entry of entries) {
      if (this.#pending.has(entry.jobId) || this.#tracker.tracks(entry.jobId)) continue
      const files = new Map<string, FileState>()
      for (const f of entry.files) {
        const k = positionKey(f)
        if (!isNew(f) || f.published === true || published.has(k) || this.#expected.has(k)) continue
        files.set(k, 'expected')
        this.#expected.set(k, entry.jobId)
      }
      if (files.size === 0) continue
      const timer = setTimeout(() => this.#giveUp(entry.jobId), this.#timeoutMs)
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
   * Tells that `position` was consumed (every consumed record, in partition order, before the key
   * sequencer). Expected files of the partition below it that were not consumed are missing.
   */
  observe(position: RecordPosition): void {
    if (this.#pending.size === 0) return
    const own = this.#expected.get(positionKey(position))
    if (own !== undefined) this.#pending.get(own)?.files.set(positionKey(position), 'consumed')
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
    const k = positionKey(file.position)
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

  /** Clears the timers (shutdown); held files stay unsettled and are consumed again later. */
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
      this.#stale(jobId, [...pending.files.keys()].map(parseKey))
      return
    }
    const order = new Map(entry.files.map((f, i) => [positionKey(f), i]))
    const files = [...pending.claimed].sort(
      (a, b) => (order.get(positionKey(a.position)) ?? 0) - (order.get(positionKey(b.position)) ?? 0),
    )
    const batch: Batch = {
      id: entry.batchId,
      systemName: entry.systemName,
      kind: entry.kind,
      files,
      bytes: batchBytes(files),
      closedBy: 'adopted',
    }
    if (this.#tracker.adopt(jobId, batch)) {
      this.#adopted(entry)
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
}

function parseKey(k: string): RecordPosition {
  const [topic, partition, offset] = k.split('\u0000')
  return { topic: topic as string, partition: Number(partition), offset: offset as string }
}
