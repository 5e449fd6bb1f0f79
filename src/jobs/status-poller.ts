/** Options of {@link createStatusPoller}. Durations in ms. */
export interface StatusPollerOptions {
  /** How long an unfinished job may go without a status read before the poller reads it (`STATUS_POLL_INTERVAL_MS`). */
  intervalMs: number
}

/**
 * The fallback that finishes every job: the webhook is a hint, the status endpoint the truth ([F] §1.2,
 * §2), so each unfinished job whose status was last read (or which was submitted) `intervalMs` ago or
 * more is read, whether or not a webhook came. A job its webhook finished sooner is never polled: under
 * a rate limit (`API_RATE_LIMIT_PER_SECOND`) a poll of a job about to finish takes the place of a submit
 * or of another job's read. The poller looks every `intervalMs / 5`, so a job is read between
 * `intervalMs` and `1.2 × intervalMs` after it was last asked about.
 *
 * While the API asked every request to wait (a `Retry-After`, a refused status read's re-check time), no
 * poll goes out; while it refuses our status reads, one job is read per `intervalMs` (the re-check),
 * not all of them, and not while that read is in flight. Whether a job has run too long is the tracker's to
 * judge from what the reads said (`TrackedJob.readSaw`).
 *
 * @param deps.jobs the unfinished jobs now
 * @param deps.askedAt when the job's status read last started, or its submit was answered, epoch ms
 * @param deps.read reads one job's status
 * @param deps.heldUntil until when status reads wait, epoch ms
 * @param deps.isRefused whether the API refuses our status reads now
 */
export function createStatusPoller<J>(
  options: StatusPollerOptions,
  deps: {
    jobs: () => Iterable<J>
    askedAt: (job: J) => number
    read: (job: J) => void
    heldUntil: () => number
    isRefused: () => boolean
  },
) {
  const { intervalMs } = options
  let timer: NodeJS.Timeout | null = null
  let probedAt = Number.NEGATIVE_INFINITY

  function look(): void {
    const now = Date.now()
    if (now < deps.heldUntil()) return
    if (deps.isRefused()) {
      if (now - probedAt < intervalMs) return
      probedAt = now
      // The first job, every time: while its probe is in flight, reading it again does nothing.
      for (const job of deps.jobs()) {
        deps.read(job)
        return
      }
      return
    }
    for (const job of deps.jobs()) if (now - deps.askedAt(job) >= intervalMs) deps.read(job)
  }

  return {
    /** Starts looking every `intervalMs / 5`. */
    start(): void {
      if (timer === null) timer = setInterval(look, intervalMs / 5)
    },
    stop(): void {
      if (timer !== null) clearInterval(timer)
      timer = null
    },
  }
}
