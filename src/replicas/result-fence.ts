import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { PendingFile } from '../model/files.ts'
import type { ConcludedJob } from '../model/outcomes.ts'
import type { RecordPosition } from '../model/records.ts'

/** What the fence asks of the consumer group member: which partitions it owns now. */
export interface Ownership {
  /** True between the start of a rebalance and the next join (what this member owns is not known). */
  readonly rebalancing: boolean
  /** Whether this member owns `position`'s partition since its last join. */
  owns(position: RecordPosition): boolean
}

/** What the fence needs of the rest of the bridge. */
export interface ResultFenceDeps {
  ownership: Ownership
  /** Whether another replica published the result of this file of job `jobId` (the job log says). */
  publishedElsewhere(jobId: string, position: RecordPosition): boolean
  /** Publishes the job's result events (the outcome publisher); resolves true once acknowledged. */
  publish(job: ConcludedJob): Promise<boolean>
  /**
   * Settles records whose results another replica published (the intake's `settle`): `positions` may
   * be committed, and each of `files` releases its key in the key sequencer.
   */
  settle(positions: RecordPosition[], files: PendingFile[]): void
  /** Releases the keys of files left to another replica (their partitions' offsets are not tracked here). */
  release(files: PendingFile[]): void
  /** After the publish was acknowledged: the job log keeps the job's other files or tombstones it. */
  finished(jobId: string, job: ConcludedJob, published: RecordPosition[], elsewhere: RecordPosition[]): void
  /** Ends the job's span (tracing) when this replica publishes none of its results. */
  endSpan?: (job: ConcludedJob) => void
  metrics: Metrics
  logger: Logger
}

/**
 * With the job log on, a concluded job's results are published by one replica per file: the one that
 * owns the file's partition when it decides (docs/replicas.md, "Rebalance"). Both the replica that
 * submitted a job and the one that adopted it from the job log follow the job and see it conclude; each
 * publishes only the files of the partitions it owns, so a file gets one result, not one per replica.
 *
 * For each file of a concluded job:
 * - its partition is owned, and the job log does not say another replica published it: published;
 * - its partition is not owned (revoked by a rebalance): left to the partition's owner, which adopts
 *   the job from the job log (or already did) and publishes the result under the same `importJobId`
 *   (`bridge_results_fenced_total{outcome="left_to_owner"}`, one log line per job);
 * - owned, but the job log says another replica published it (its entry no longer lists the file, or
 *   the job's tombstone was read): settled without a second result
 *   (`bridge_results_fenced_total{outcome="published_elsewhere"}`).
 *
 * A job that concludes during a rebalance waits for the next join (ownership is unknown until then).
 * Once its publish is acknowledged, `finished` lets the job log keep the files left to other replicas
 * (it writes the tombstone only when none is left). A file without an import job (never sent) is
 * fenced by ownership alone. Not used with the job log off: nobody adopts then, so the replica that
 * submitted a job publishes all its results.
 */
export class ResultFence {
  readonly #deps: ResultFenceDeps
  readonly #logger: Logger
  /** Jobs concluded during a rebalance, decided at the next join. */
  #waiting: ConcludedJob[] = []
  #closed = false

  constructor(deps: ResultFenceDeps) {
    this.#deps = deps
    this.#logger = deps.logger.child({ component: 'result-fence' })
  }

  /** Jobs waiting for the end of a rebalance. */
  get waiting(): number {
    return this.#waiting.length
  }

  /** A job concluded (its files checked): publishes the results this replica owns, now or after the rebalance. */
  conclude(job: ConcludedJob): void {
    if (this.#closed) return
    if (this.#deps.ownership.rebalancing) this.#waiting.push(job)
    else this.#decide(job)
  }

  /** After each join of the consumer group: decides the jobs that concluded during the rebalance. */
  joined(): void {
    const jobs = this.#waiting
    if (jobs.length === 0 || this.#closed) return
    this.#waiting = []
    this.#logger.info(
      { jobs: jobs.length },
      'rebalance ended: publishing the results of jobs that concluded during it, for the partitions owned now',
    )
    for (const job of jobs) this.#decide(job)
  }

  /** Shutdown: jobs still waiting are dropped (their records stay uncommitted and are consumed again). */
  close(): void {
    this.#closed = true
    this.#waiting = []
  }

  #decide(job: ConcludedJob): void {
    const { ownership, publishedElsewhere } = this.#deps
    const mine: ConcludedJob['outcomes'] = []
    const left: PendingFile[] = []
    const elsewhere: PendingFile[] = []
    for (const o of job.outcomes) {
      const p = o.file.position
      if (!ownership.owns(p)) left.push(o.file)
      else if (job.jobId !== null && publishedElsewhere(job.jobId, p)) elsewhere.push(o.file)
      else mine.push(o)
    }
    if (left.length > 0) {
      this.#deps.metrics.resultsFenced.inc({ outcome: 'left_to_owner' }, left.length)
      this.#logger.info(
        {
          jobId: job.jobId,
          batchId: job.batch.id,
          left: left.length,
          partitions: [...new Set(left.map((f) => f.position.partition))],
        },
        "results left to the partitions' new owner: their partitions were revoked while the job ran",
      )
    }
    if (elsewhere.length > 0) {
      this.#deps.metrics.resultsFenced.inc({ outcome: 'published_elsewhere' }, elsewhere.length)
      this.#logger.info(
        { jobId: job.jobId, batchId: job.batch.id, files: elsewhere.length },
        'results already published by another replica (job log); settled without a second result',
      )
    }
    // Left files are of revoked partitions (their offsets no longer tracked): their keys are released.
    if (left.length > 0) this.#deps.release(left)
    if (elsewhere.length > 0)
      this.#deps.settle(
        elsewhere.map((f) => f.position),
        elsewhere,
      )
    if (mine.length === 0) {
      this.#deps.endSpan?.(job)
      return
    }
    const jobId = job.jobId
    const published = this.#deps.publish(
      mine.length === job.outcomes.length ? job : { ...job, outcomes: mine },
    )
    if (jobId === null) return
    void published.then((ok) => {
      if (ok)
        this.#deps.finished(
          jobId,
          job,
          mine.map((o) => o.file.position),
          elsewhere.map((f) => f.position),
        )
    })
  }
}
