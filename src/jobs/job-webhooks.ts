import type { ReceivedWebhook } from '../model/webhook.ts'
import type { BridgeTracing } from '../telemetry/bridge-tracing.ts'
import { EarlyWebhooks } from './early-webhooks.ts'
import type { Followed, FollowedJobs } from './followed-jobs.ts'
import type { JobSlots } from './job-slots.ts'

/** What {@link JobWebhooks} works with: the tracker's jobs and slots, and what it does next. */
export interface JobWebhooksDeps {
  jobs: FollowedJobs
  slots: JobSlots
  /** Submits what may go now (the submit queue). */
  pump: () => void
  /** Reads the job's status. */
  read: (followed: Followed) => void
  /** Records each notice as a child span of its job's span. */
  tracing: BridgeTracing
}

/**
 * The job tracker's "a job has finished" notices (`JobTracker.notify`): finds the job, remembers a
 * notice of a job whose submit is not answered yet ({@link EarlyWebhooks}), and acts on what the notice
 * means for the job (`TrackedJob.webhook`).
 *
 * A notice that frees the job's slot has the batches waiting for one submitted before the job's status
 * is read. Under `API_RATE_LIMIT_PER_SECOND`, when several jobs finish together, their submits take
 * the window's starts that are left before the reads do (status reads waiting for the window queue
 * behind submits, `import-client.ts`, for 2 s at most: `rate-limit.ts`), so Livingdocs gets its next
 * jobs sooner; the reads, which only publish results, wait instead. Measured with the bench's slow
 * mode (docs/benchmark.md).
 */
export class JobWebhooks {
  readonly #early = new EarlyWebhooks()
  readonly #deps: JobWebhooksDeps

  constructor(deps: JobWebhooksDeps) {
    this.#deps = deps
  }

  /** See `JobTracker.notify`. @returns false when the job is not one of this process */
  notify(jobId: string | undefined, notice: { batchId?: string; received?: ReceivedWebhook }): boolean {
    const followed = this.#deps.jobs.find(jobId, notice.batchId)
    if (followed === undefined) {
      // A fast job may call back before our POST's response is processed; remember it briefly.
      if (this.#deps.slots.submitting > 0) this.#early.note(jobId, notice.batchId)
      return false
    }
    if (notice.batchId !== undefined && notice.batchId !== followed.job.batch.id) {
      followed.logger.warn('webhook for this job carried another batch id; ignored')
      return false
    }
    this.#came(followed, notice.received)
    return true
  }

  /** A submit was answered and its job is followed: acts on its webhook now if it came first. */
  accepted(followed: Followed): void {
    if (this.#early.take(followed.job.id, followed.job.batch.id)) this.#came(followed, undefined)
  }

  #came(followed: Followed, received: ReceivedWebhook | undefined): void {
    this.#deps.tracing.webhook(followed.span, received)
    const { meaning, freesSlot } = followed.job.webhook()
    if (freesSlot) {
      this.#deps.slots.freedByWebhook()
      this.#deps.pump()
    }
    if (meaning === 'read-now') this.#deps.read(followed)
  }
}
