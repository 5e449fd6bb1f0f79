import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { CommittableOffset } from '../model/records.ts'
import type { OffsetTracker } from './offset-tracker.ts'

/** Shortest commit interval, ms: a 0 setting still leaves the event loop room between commits. */
const MIN_COMMIT_INTERVAL_MS = 50

/**
 * The commit loop: every `intervalMs` the offsets the tracker says are settled are committed, one
 * commit at a time (a commit started while one is out waits for it, so they reach the coordinator in
 * order). A failed commit is logged and retried at the next interval with whatever is settled by then;
 * nothing is lost, since a later commit covers an earlier one. The consumer commits only partitions it
 * owns now.
 *
 * @param deps.consumer commits and returns what it actually committed (owned partitions only)
 */
export function createCommitter(
  options: { intervalMs: number },
  deps: {
    offsets: OffsetTracker
    consumer: { commit(offsets: CommittableOffset[]): Promise<CommittableOffset[]> }
    metrics: Metrics
    logger: Logger
  },
) {
  let committing: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | null = null

  /** Commits what is settled now, after any commit in progress. Never rejects. */
  function commit(): Promise<void> {
    committing = committing.then(async () => {
      const ready = deps.offsets.committable()
      if (ready.length === 0) return
      try {
        const done = await deps.consumer.commit(ready)
        deps.offsets.markCommitted(ready)
        if (done.length > 0) {
          deps.metrics.offsetsCommitted.inc()
          deps.logger.debug({ offsets: done }, 'offsets committed')
        }
      } catch (err) {
        deps.logger.warn({ err }, 'offset commit failed; retrying on the next interval')
      }
    })
    return committing
  }

  return {
    commit,
    /** Starts committing every `intervalMs`. */
    start(): void {
      timer ??= setInterval(() => void commit(), Math.max(options.intervalMs, MIN_COMMIT_INTERVAL_MS))
    },
    /** Stops the loop after one last commit of what is settled now. */
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer)
      timer = null
      await commit()
    },
  }
}
