import type { Span } from '@opentelemetry/api'
import type { Logger } from '../logging.ts'
import type { TrackedJob } from './tracked-job.ts'

/** A job this process follows: its state and transitions, its logger (batch and job id bound), its span. */
export interface Followed {
  readonly job: TrackedJob
  readonly logger: Logger
  /** Its `import job` span while tracing is on (src/telemetry/). */
  readonly span: Span | undefined
}

/**
 * The jobs the job tracker follows, by job id and by batch id: a webhook on a batch's own URL names the
 * batch, not always the job. A batch has one current job at a time (a lost job's batch is submitted
 * again as a new one).
 */
export class FollowedJobs {
  readonly #jobs = new Map<string, Followed>()
  readonly #byBatch = new Map<string, Followed>()

  get size(): number {
    return this.#jobs.size
  }

  /** The job ids. */
  keys(): IterableIterator<string> {
    return this.#jobs.keys()
  }

  values(): IterableIterator<Followed> {
    return this.#jobs.values()
  }

  has(jobId: string): boolean {
    return this.#jobs.has(jobId)
  }

  /** The job `jobId`; when undefined, the current job of `batchId`. */
  find(jobId: string | undefined, batchId: string | undefined): Followed | undefined {
    return jobId !== undefined ? this.#jobs.get(jobId) : this.#byBatch.get(batchId ?? '')
  }

  /** True while `job` is the one followed under its id. */
  isCurrent(job: TrackedJob): boolean {
    return this.#jobs.get(job.id)?.job === job
  }

  add(followed: Followed): void {
    this.#jobs.set(followed.job.id, followed)
    this.#byBatch.set(followed.job.batch.id, followed)
  }

  remove(job: TrackedJob): void {
    this.#jobs.delete(job.id)
    if (this.#byBatch.get(job.batch.id)?.job === job) this.#byBatch.delete(job.batch.id)
  }
}
