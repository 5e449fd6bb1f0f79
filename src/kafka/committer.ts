import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { partitionKey } from '../model/assignment.ts'
import type { CommittableOffset } from '../model/records.ts'
import type { OffsetTracker } from './offset-tracker.ts'

/** Shortest commit interval, ms: a 0 setting still leaves the event loop room between commits. */
const MIN_COMMIT_INTERVAL_MS = 50

/**
 * The commit loop: every `intervalMs` the offsets the tracker says are settled are committed, one
 * commit at a time (a commit started while one is out waits for it, so they reach the coordinator in
 * order). A failed commit is logged and retried at the next interval with whatever is settled by then;
 * nothing is lost, since a later commit covers an earlier one. The consumer commits only partitions it
 * owns now; only what it committed is marked committed in the tracker, so an offset it left out (its
 * partition in the middle of a rebalance, kept after it) is offered again at the next interval. At the
 * start of a rebalance {@link commitNow} commits what settled since, before the partitions are revoked.
 *
 * @param deps.consumer commits and returns what it actually committed (owned partitions only)
 * @param deps.onCommitted told what was committed (the job log takes the files below it out)
 */
export function createCommitter(
  options: { intervalMs: number },
  deps: {
    offsets: OffsetTracker
    consumer: { commit(offsets: CommittableOffset[]): Promise<CommittableOffset[]> }
    /** Told what was committed, after each commit that committed something (the job log). */
    onCommitted?: (done: CommittableOffset[]) => void
    metrics: Metrics
    logger: Logger
  },
) {
  let committing: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | null = null
  /** The last offset committed per partition, by partition key. */
  const last = new Map<string, CommittableOffset>()

  /** Commits `ready` (the consumer keeps the partitions it owns now) and records what it committed. Never rejects. */
  async function send(ready: CommittableOffset[]): Promise<void> {
    try {
      const done = await deps.consumer.commit(ready)
      deps.offsets.markCommitted(done)
      for (const o of done) last.set(partitionKey(o.topic, o.partition), o)
      if (done.length > 0) {
        deps.metrics.offsetsCommitted.inc()
        deps.onCommitted?.(done)
        deps.logger.debug({ offsets: done }, 'offsets committed')
      }
    } catch (err) {
      deps.logger.warn({ err }, 'offset commit failed; retrying on the next interval')
    }
  }

  /** Commits what is settled now, after any commit in progress. Never rejects. */
  function commit(): Promise<void> {
    committing = committing.then(() => {
      const ready = deps.offsets.committable()
      return ready.length === 0 ? undefined : send(ready)
    })
    return committing
  }

  /**
   * Commits what is settled now at once, not after a commit in progress (the commits after it wait for
   * it): for the start of a rebalance. kafkajs rejoins the group right after it tells of one (the eager
   * protocol revokes every partition), and its JoinGroup waits for a FindCoordinator answer first, so a
   * commit begun synchronously here reaches the coordinator before it, under the generation that owns
   * the partitions still, which the coordinator accepts while the group prepares the rebalance (Kafka's
   * GroupCoordinator; the Java consumer commits in `onPartitionsRevoked` the same way). Without it, what
   * settled since the last interval was committed by nobody, and the partition's next owner imported
   * it again. Offsets it sends are never below one in flight. Never rejects.
   */
  function commitNow(): Promise<void> {
    const ready = deps.offsets.committable()
    if (ready.length === 0) return committing
    const sent = send(ready)
    committing = committing.then(() => sent)
    return sent
  }

  return {
    commit,
    commitNow,
    /** The last offset this process committed on each partition, ascending by topic and partition. */
    get lastCommitted(): CommittableOffset[] {
      return [...last.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    },
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
