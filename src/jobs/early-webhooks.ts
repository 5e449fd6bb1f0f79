/** How long a webhook that came before its job's submit response is remembered, ms. */
export const EARLY_WEBHOOK_TTL_MS = 60_000
/** Most early webhooks remembered at once (the oldest are forgotten first). */
export const EARLY_WEBHOOK_LIMIT = 1000

/**
 * Webhooks of jobs the tracker does not know yet: a fast job can call back before the POST's response
 * (with its job id) has been processed (Livingdocs' own sample importer notes it, `dpa-example`
 * `handler.js`). Remembered briefly, bounded in time and count, so that the job's status is read at
 * once when its submit completes.
 */
export class EarlyWebhooks {
  /**
   * `job:<id>` or `batch:<id>` (a webhook that named no job) -> arrival (epoch ms) and the batch id it
   * was authenticated for. Insertion order = arrival.
   */
  readonly #notes = new Map<string, { at: number; batchId: string | undefined }>()

  /**
   * Remembers a webhook of job `jobId`, or of batch `batchId` when it named no job; forgets notes older
   * than the TTL and the oldest over the limit.
   */
  note(jobId: string | undefined, batchId: string | undefined, now = Date.now()): void {
    for (const [key, early] of this.#notes) {
      if (early.at > now - EARLY_WEBHOOK_TTL_MS && this.#notes.size < EARLY_WEBHOOK_LIMIT) break
      this.#notes.delete(key)
    }
    if (jobId !== undefined) this.#notes.set(`job:${jobId}`, { at: now, batchId })
    else if (batchId !== undefined) this.#notes.set(`batch:${batchId}`, { at: now, batchId })
  }

  /**
   * Forgets the notes of job `jobId` and of batch `batchId`.
   * @returns true when a webhook of `jobId` came early (its batch id, if it carried one, `batchId`), or
   *   one of batch `batchId` that named no job
   */
  take(jobId: string, batchId: string): boolean {
    const ofJob = this.#notes.get(`job:${jobId}`)
    const ofBatch = this.#notes.get(`batch:${batchId}`)
    this.#notes.delete(`job:${jobId}`)
    this.#notes.delete(`batch:${batchId}`)
    return (
      (ofJob !== undefined && (ofJob.batchId === undefined || ofJob.batchId === batchId)) ||
      ofBatch !== undefined
    )
  }
}
