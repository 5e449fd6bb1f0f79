import { type ConcludedJob, resultState } from '../model/outcomes.ts'

/** Length of one bucket, ms: the window moves a minute at a time. */
const BUCKET_MS = 60_000

/** Files concluded in the window: by state (SUCCESS, SKIPPED, FAILED), and the FAILED ones by reason. */
export interface RecentCounts {
  windowMs: number
  byState: Record<string, number>
  failedByReason: Record<string, number>
}

/** A FAILED reason as a short label: its text before the first colon, at most 80 characters. */
function reasonLabel(reason: string): string {
  return (reason.split(':')[0] ?? reason).trim().slice(0, 80)
}

/**
 * The files this replica concluded in the last `windowMs` (default an hour), for the status page: one
 * bucket a minute, counted when a job concludes (not on the per-record path). Memory is bounded by the
 * buckets and the distinct reason labels of the window.
 */
export class RecentOutcomes {
  readonly #windowMs: number
  readonly #buckets: Array<{ start: number; byState: Map<string, number>; failed: Map<string, number> }> = []

  constructor(windowMs = 3_600_000) {
    this.#windowMs = windowMs
  }

  /** Counts the outcomes of a concluded job at `now` (epoch ms). */
  record(job: ConcludedJob, now = Date.now()): void {
    const start = now - (now % BUCKET_MS)
    let bucket = this.#buckets.at(-1)
    if (bucket?.start !== start) {
      bucket = { start, byState: new Map(), failed: new Map() }
      this.#buckets.push(bucket)
      this.#prune(now)
    }
    for (const { outcome } of job.outcomes) {
      const state = resultState(outcome)
      bucket.byState.set(state, (bucket.byState.get(state) ?? 0) + 1)
      if (state === 'FAILED') {
        const label = reasonLabel(outcome.reason ?? 'unknown')
        bucket.failed.set(label, (bucket.failed.get(label) ?? 0) + 1)
      }
    }
  }

  /** The counts of the window ending at `now`. */
  counts(now = Date.now()): RecentCounts {
    this.#prune(now)
    const byState: Record<string, number> = { SUCCESS: 0, SKIPPED: 0, FAILED: 0 }
    const failedByReason: Record<string, number> = {}
    for (const b of this.#buckets) {
      for (const [k, n] of b.byState) byState[k] = (byState[k] ?? 0) + n
      for (const [k, n] of b.failed) failedByReason[k] = (failedByReason[k] ?? 0) + n
    }
    return { windowMs: this.#windowMs, byState, failedByReason }
  }

  #prune(now: number): void {
    while (this.#buckets.length > 0 && (this.#buckets[0]?.start ?? now) + BUCKET_MS <= now - this.#windowMs)
      this.#buckets.shift()
  }
}
