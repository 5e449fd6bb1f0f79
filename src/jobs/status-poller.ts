/** A job as the poller sees it. */
export interface PolledJob {
  /** When the job was submitted (or adopted), epoch ms. */
  submittedAt: number
}

/** Options of {@link createStatusPoller}. Durations in ms. */
export interface StatusPollerOptions {
  /** How often every unfinished job's status is read (`STATUS_POLL_INTERVAL_MS`). */
  intervalMs: number
  /**
   * How long a job may stay unfinished (`JOB_TIMEOUT_MS`; default: no limit). The first poll after it
   * is the job's final read.
   */
  jobTimeoutMs?: number | undefined
}

/**
 * The fallback that finishes every job: the webhook is a hint, the status endpoint the truth ([F] §1.2,
 * §2), so every `intervalMs` each unfinished job is read, whether or not a webhook came. A read of a
 * job older than `jobTimeoutMs` is its final read (the tracker times the job out if it is still
 * unfinished or unreadable). While the API asked every request to wait (a long `Retry-After`), no poll
 * goes out.
 *
 * @param deps.jobs the unfinished jobs now
 * @param deps.read reads one job's status; `isFinalRead` as above
 * @param deps.heldUntil until when the API asked all requests to wait, epoch ms
 */
export function createStatusPoller<J extends PolledJob>(
  options: StatusPollerOptions,
  deps: {
    jobs: () => Iterable<J>
    read: (job: J, isFinalRead: boolean) => void
    heldUntil: () => number
  },
) {
  let timer: NodeJS.Timeout | null = null
  const timeoutMs = options.jobTimeoutMs ?? Number.POSITIVE_INFINITY

  function pollAll(): void {
    const now = Date.now()
    if (now < deps.heldUntil()) return
    for (const job of deps.jobs()) deps.read(job, now - job.submittedAt >= timeoutMs)
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
