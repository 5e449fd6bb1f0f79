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
  /** Job id -> arrival (epoch ms) and the batch id its signed context carried. Insertion order = arrival. */
  readonly #notes = new Map<string, { at: number; batchId: string | undefined }>()

  /** Remembers a webhook of `jobId`, forgetting notes older than the TTL and the oldest over the limit. */
  note(jobId: string, batchId: string | undefined, now = Date.now()): void {
    for (const [id, early] of this.#notes) {
      if (early.at > now - EARLY_WEBHOOK_TTL_MS && this.#notes.size < EARLY_WEBHOOK_LIMIT) break
      this.#notes.delete(id)
    }
    this.#notes.set(jobId, { at: now, batchId })
  }

  /**
   * Forgets the note of `jobId`.
   * @returns true when a webhook of `jobId` came early and its batch id (if it carried one) is `batchId`
   */
  take(jobId: string, batchId: string): boolean {
    const early = this.#notes.get(jobId)
    this.#notes.delete(jobId)
    return early !== undefined && (early.batchId === undefined || early.batchId === batchId)
  }
}
