/**
 * The progress of a migration, computed from what Kafka says of the consumer group (src/model/offsets.ts),
 * so that it covers every replica at once: per partition and in total, the records done and behind, the
 * rate at which records are settled, and the estimated time to drain. Pure: the callers read the offsets
 * (the bridge's lag monitor, `npm run status`, a status page) and decide how to show the result.
 *
 * The rate is the committed offsets' advance per second, smoothed by an exponentially weighted moving
 * average over the irregular times of the reads. Why the committed offsets and not the result topic's
 * growth: they move by exactly the records the backlog loses (a result, a DLQ record, a record the
 * mapping filtered; never a duplicate result, nor another writer of the result topic), and per input
 * partition. Commits come in steps (every COMMIT_INTERVAL_MS, held back by the slowest job of a
 * partition), which the average smooths out. One read alone has no rate: {@link progressOf} then takes
 * a rate measured elsewhere (the result and DLQ topics' growth over a window, `growthSince` of
 * src/kafka/group-offsets.ts).
 */

import type { OffsetsSnapshot, PartitionOffsets } from '../model/offsets.ts'

/** Progress of one partition (or, in {@link Progress.total}, of the whole topic). Counts are records. */
export interface PartitionProgress {
  partition: number
  logStart: string
  logEnd: string
  /** The committed offset, or null when the group never committed one on this partition. */
  committed: string | null
  /** Settled records still in the log: committed − log start (0 without a commit). */
  done: number
  /** Records behind: log end − committed (from the log start when there is no commit, or it is below it). */
  behind: number
  /** Records in the log: done + behind. */
  total: number
  /** Records settled per second, smoothed; null before a rate could be measured. */
  ratePerSecond: number | null
  /** Seconds until drained at that rate: 0 when nothing is behind, null when the rate is 0 or unknown. */
  etaSeconds: number | null
}

/** Totals over every partition of the topic. */
export type TotalProgress = Omit<PartitionProgress, 'partition' | 'logStart' | 'logEnd' | 'committed'>

/** The progress of a consumer group on a topic at one read. */
export interface Progress {
  topic: string
  groupId: string
  /** When the offsets were read, epoch ms. */
  at: number
  partitions: PartitionProgress[]
  total: TotalProgress
}

/** Where the group stands in a partition: its committed offset, or the log start without one or below it. */
function positionOf(p: PartitionOffsets): bigint {
  return p.committed === null || p.committed < p.logStart ? p.logStart : p.committed
}

/** Done and behind of one partition's offsets (see {@link PartitionProgress}). */
export function countsOf(p: PartitionOffsets): { done: number; behind: number } {
  const from = positionOf(p)
  return { done: Number(from - p.logStart), behind: p.logEnd > from ? Number(p.logEnd - from) : 0 }
}

/** Seconds to drain `behind` records at `rate` per second (see {@link PartitionProgress.etaSeconds}). */
export function etaOf(behind: number, rate: number | null): number | null {
  if (behind === 0) return 0
  return rate === null || rate <= 0 ? null : behind / rate
}

/**
 * The progress of one read, with the rates given: per partition (`rates.byPartition`), and in total
 * (`rates.total`, else the sum of the partitions' rates when every partition has one).
 */
export function progressOf(
  snapshot: OffsetsSnapshot,
  rates: { byPartition?: ReadonlyMap<number, number>; total?: number | null } = {},
): Progress {
  let done = 0
  let behind = 0
  let rateSum: number | null = 0
  const partitions = snapshot.partitions.map((p) => {
    const counts = countsOf(p)
    const rate = rates.byPartition?.get(p.partition) ?? null
    done += counts.done
    behind += counts.behind
    rateSum = rate === null || rateSum === null ? null : rateSum + rate
    return {
      partition: p.partition,
      logStart: String(p.logStart),
      logEnd: String(p.logEnd),
      committed: p.committed === null ? null : String(p.committed),
      ...counts,
      total: counts.done + counts.behind,
      ratePerSecond: rate,
      etaSeconds: etaOf(counts.behind, rate),
    }
  })
  const totalRate = rates.total !== undefined ? rates.total : snapshot.partitions.length > 0 ? rateSum : null
  return {
    topic: snapshot.topic,
    groupId: snapshot.groupId,
    at: snapshot.at,
    partitions,
    total: {
      done,
      behind,
      total: done + behind,
      ratePerSecond: totalRate,
      etaSeconds: etaOf(behind, totalRate),
    },
  }
}

/** Options of {@link ProgressEstimator}. */
export interface ProgressEstimatorOptions {
  /**
   * Time constant of the moving average, ms: a change of the rate shows by 63% after this long
   * (`BACKLOG_RATE_WINDOW_MS`, default 5 minutes).
   */
  windowMs: number
}

interface RateState {
  /** Committed position at the previous read (the log start when there was no commit). */
  position: bigint
  at: number
  /** The average so far, biased towards 0 (see {@link ProgressEstimator}). */
  average: number
  /** Time observed so far, ms. */
  observedMs: number
}

/**
 * Follows a consumer group's progress over successive reads ({@link observe}), with a rate per partition:
 * an exponentially weighted moving average of the committed offset's advance per second, weighted by
 * the time between reads (α = 1 − e^(−Δt/window)). Its start is corrected as in Adam (Kingma & Ba,
 * 2015, §3): the average starts at 0 and is divided by 1 − e^(−observed/window), so that for a time
 * shorter than the window it is the plain mean rate since the first read rather than a value biased
 * towards 0 or towards the first, noisy, step. A committed offset that moves back (a reset) starts its
 * partition's average again.
 */
export class ProgressEstimator {
  readonly #windowMs: number
  readonly #rates = new Map<number, RateState>()

  constructor(options: ProgressEstimatorOptions) {
    this.#windowMs = options.windowMs
  }

  /** Takes a read of the group's offsets (times ascending) and returns the progress with its rates. */
  observe(snapshot: OffsetsSnapshot): Progress {
    const rates = new Map<number, number>()
    const seen = new Set<number>()
    for (const p of snapshot.partitions) {
      seen.add(p.partition)
      const position = positionOf(p)
      const state = this.#rates.get(p.partition)
      if (state === undefined || position < state.position) {
        // First read of the partition, or a reset: no rate yet.
        this.#rates.set(p.partition, { position, at: snapshot.at, average: 0, observedMs: 0 })
        continue
      }
      if (snapshot.at <= state.at) {
        // No time passed: the rate so far.
        const rate = this.#rateOf(state)
        if (rate !== null) rates.set(p.partition, rate)
        continue
      }
      const dt = snapshot.at - state.at
      const instant = (Number(position - state.position) * 1000) / dt
      const alpha = 1 - Math.exp(-dt / this.#windowMs)
      state.average += alpha * (instant - state.average)
      state.observedMs += dt
      state.position = position
      state.at = snapshot.at
      rates.set(p.partition, this.#rateOf(state) as number)
    }
    for (const partition of this.#rates.keys()) if (!seen.has(partition)) this.#rates.delete(partition)
    return progressOf(snapshot, { byPartition: rates })
  }

  #rateOf(state: RateState): number | null {
    if (state.observedMs === 0) return null
    return state.average / (1 - Math.exp(-state.observedMs / this.#windowMs))
  }
}
