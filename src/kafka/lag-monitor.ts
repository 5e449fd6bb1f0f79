import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { OffsetsSnapshot } from '../model/offsets.ts'
import type { GroupOffsetsReader } from './group-offsets.ts'

/** Options of {@link createLagMonitor}. */
export interface LagMonitorOptions {
  /** The input topic. */
  topic: string
  /** How often lag is measured, ms; 0 turns the monitor off. */
  intervalMs: number
}

/** Lag of one partition, in records. */
export interface PartitionLag {
  partition: number
  /** Log-end offset (high watermark): the offset the next produced record gets. */
  logEnd: bigint
  /** The group's committed offset (next to read), or null when the group never committed. */
  committed: bigint | null
  /** logEnd − committed; without a commit, logEnd − log start (a new group starts at the earliest offset). */
  lag: bigint
}

/**
 * Measures consumer lag of the bridge's consumer group on the input topic and exports it as
 * `bridge_consumer_lag{topic,partition}` (records), the way `kafka-consumer-groups.sh --describe`
 * computes it: the partition's log-end offset minus the group's committed offset.
 *
 * Cost is bounded and independent of traffic: every `intervalMs`, one OffsetFetch to the group
 * coordinator and one ListOffsets round for latest and earliest offsets of the topic's partition leaders
 * (`reader.read()`, one long-lived admin connection). The same read of every partition goes to
 * `onSnapshot` (the progress of the whole consumer group, src/progress/).
 *
 * Series: only the partitions this replica owns (from `owned()`, the current assignment). Summed over
 * replicas this is the group's lag without double counting; a partition that changes owner moves to
 * the new owner's series, and series of partitions no longer owned are removed. Committed offsets lag
 * the processed ones by up to the commit interval plus the oldest file still in flight, so the value
 * also counts records consumed but not yet resulted.
 *
 * A failed measurement is logged at warn and leaves the previous values; the next interval retries.
 */
export function createLagMonitor(
  reader: Pick<GroupOffsetsReader, 'read'>,
  options: LagMonitorOptions,
  deps: {
    metrics: Metrics
    logger: Logger
    owned: () => number[]
    onSnapshot?: (snapshot: OffsetsSnapshot) => void
  },
) {
  const log = deps.logger.child({ component: 'lag-monitor' })
  const gauge = deps.metrics.consumerLag
  let timer: NodeJS.Timeout | null = null
  let running: Promise<unknown> = Promise.resolve()
  let exported = new Set<number>()
  let failing = false
  let busy = false

  /**
   * Reads committed and log-end offsets once, updates the gauge for the owned partitions and hands the
   * read to `onSnapshot`.
   * @returns the lag of each owned partition, ascending by partition
   * @throws kafkajs errors when the broker or the group coordinator cannot be reached
   */
  async function measure(): Promise<PartitionLag[]> {
    const mine = new Set(deps.owned())
    const snapshot = await reader.read()
    deps.onSnapshot?.(snapshot)
    // Ownership may have changed while the requests were out: report what is owned now.
    const ownedNow = new Set(deps.owned())
    const lags: PartitionLag[] = []
    for (const p of snapshot.partitions) {
      if (!mine.has(p.partition) || !ownedNow.has(p.partition)) continue
      const from = p.committed ?? p.logStart
      const lag = p.logEnd > from ? p.logEnd - from : 0n
      lags.push({ partition: p.partition, logEnd: p.logEnd, committed: p.committed, lag })
    }
    for (const l of lags) gauge.set({ topic: options.topic, partition: String(l.partition) }, Number(l.lag))
    removeAllBut(new Set(lags.map((l) => l.partition)))
    return lags
  }

  function removeAllBut(keep: Set<number>): void {
    for (const partition of exported) {
      if (!keep.has(partition)) gauge.remove({ topic: options.topic, partition: String(partition) })
    }
    exported = keep
  }

  function tick(): void {
    // One measurement at a time: a slow broker never piles up requests.
    if (busy) return
    busy = true
    running = measure().then(
      () => {
        if (failing) log.info('consumer lag measured again')
        failing = false
      },
      (err: unknown) => {
        if (!failing) log.warn({ err }, 'consumer lag measurement failed; retrying on the next interval')
        failing = true
      },
    )
    void running.then(() => {
      busy = false
    })
  }

  return {
    measure,
    /** Starts measuring every `intervalMs` (no-op when it is 0). The first measurement runs at once. */
    start(): void {
      if (options.intervalMs <= 0 || timer !== null) return
      tick()
      timer = setInterval(tick, options.intervalMs)
      timer.unref()
    },
    /** Stops measuring and removes the series (the reader's connection is closed by its owner). */
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer)
      timer = null
      await running
      removeAllBut(new Set())
    },
  }
}

export type LagMonitor = ReturnType<typeof createLagMonitor>
