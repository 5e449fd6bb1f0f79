/** Options of {@link createStatusPoller}. Durations in ms. */
export interface StatusPollerOptions {
  /** How often every unfinished job's status is read (`STATUS_POLL_INTERVAL_MS`). */
  intervalMs: number
}

/**
 * The fallback that finishes every job: the webhook is a hint, the status endpoint the truth ([F] §1.2,
 * §2), so every `intervalMs` each unfinished job is read, whether or not a webhook came. While the API
 * asked every request to wait (a `Retry-After`, a refused status read's re-check time), no poll goes
 * out; while it refuses our status reads, one job is read per poll (the re-check), not all of them.
 * Whether a job has run too long is the tracker's to judge from what the reads said.
 *
 * @param deps.jobs the unfinished jobs now
 * @param deps.read reads one job's status
 * @param deps.heldUntil until when status reads wait, epoch ms
 * @param deps.isRefused whether the API refuses our status reads now
 */
export function createStatusPoller<J>(
  options: StatusPollerOptions,
  deps: {
    jobs: () => Iterable<J>
    read: (job: J) => void
    heldUntil: () => number
    isRefused: () => boolean
  },
) {
  let timer: NodeJS.Timeout | null = null

  function pollAll(): void {
    if (Date.now() < deps.heldUntil()) return
    const probeOnly = deps.isRefused()
    for (const job of deps.jobs()) {
      deps.read(job)
      if (probeOnly) return
    }
  }

  return {
    /** Starts polling every `intervalMs` (the first poll one interval from now). */
    start(): void {
      if (timer === null) timer = setInterval(pollAll, options.intervalMs)
    },
    stop(): void {
      if (timer !== null) clearInterval(timer)
      timer = null
    },
  }
}
