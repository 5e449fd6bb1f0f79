import { type Assignment, partitionKey } from '../model/assignment.ts'
import type { CommittableOffset, RecordPosition } from '../model/records.ts'

interface PartitionState {
  topic: string
  partition: number
  /** Offsets in consumption order (ascending within a generation), from `head` on still tracked. */
  offsets: string[]
  head: number
  /** Tracked offsets not settled yet, with the bytes each record holds. */
  pending: Map<string, number>
  settled: Set<string>
  /** The last offset of the contiguous settled prefix (the commit is one past it); null until one settled. */
  settledUpTo: string | null
  /** The offset last committed, to skip commits that would not move. */
  committed: string | null
  /** The highest offset ever tracked (or passed over), to recognise redeliveries. */
  last: string | null
  /**
   * When records were consumed, coarsely: the first tracked offset of each {@link MARK_MS} window and
   * its consumption time (epoch ms), ascending; marks below the oldest pending offset are dropped.
   */
  marks: Array<{ offset: string; at: number }>
}

/**
 * Resolution of the consumption times kept per partition, ms: one mark per second of consumption at
 * most, so the age of the oldest record in flight costs a comparison per record, not an entry.
 */
const MARK_MS = 1000

/**
 * Orders two canonical non-negative decimal offsets (no sign, no leading zeros) without parsing them:
 * a longer string is a larger number, equal lengths compare as text. int64 offsets stay exact and no
 * BigInt is allocated per record.
 * @returns < 0, 0 or > 0 as `a` is below, equal to or above `b`
 */
export function compareOffsets(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Tracks, per partition, which consumed offsets are settled (result event or DLQ record acknowledged)
 * and computes the offset that is safe to commit: one past the highest offset below which every
 * tracked offset is settled. Offsets may settle in any order; gaps in the log (compaction,
 * transaction markers) are fine because only tracked offsets count.
 *
 * Cost: O(1) amortised per track/settle. Not thread-safe (single event loop).
 */
export class OffsetTracker {
  readonly #partitions = new Map<string, PartitionState>()
  #last: { topic: string; partition: number; state: PartitionState } | undefined
  #inFlight = 0
  #bytesInFlight = 0

  /** Number of tracked offsets not yet settled, over all partitions. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Bytes of the tracked records not yet settled (as given to {@link track}), over all partitions. */
  get bytesInFlight(): number {
    return this.#bytesInFlight
  }

  /**
   * Starts tracking a consumed record. Offsets must arrive in ascending order per partition; an
   * offset at or below the last tracked one is a redelivery (after a rebalance the consumer fetches
   * again from the committed offset) of a record this process already has in hand.
   * @param bytes what the record holds in memory until it is settled (its value and key), counted in
   *   {@link bytesInFlight}
   * @param consumedAt when the record was consumed (epoch ms, the time its pending file carries); kept
   *   per second for {@link oldestPendingAt}
   * @returns true when the record is new and must be processed; false for a redelivery to skip
   */
  track(position: RecordPosition, bytes = 0, consumedAt?: number): boolean {
    const state = this.#state(position.topic, position.partition, true) as PartitionState
    const offset = position.offset
    if (state.last !== null && compareOffsets(offset, state.last) <= 0) return false
    state.last = offset
    state.offsets.push(offset)
    state.pending.set(offset, bytes)
    this.#inFlight++
    this.#bytesInFlight += bytes
    if (consumedAt !== undefined) {
      const mark = state.marks[state.marks.length - 1]
      if (mark === undefined || consumedAt - mark.at >= MARK_MS) state.marks.push({ offset, at: consumedAt })
    }
    return true
  }

  /**
   * Passes over offsets that hold no record for the pipeline: every offset up to and including
   * `position.offset` above the last tracked one, which the consumer skipped without handing it over
   * (the commit marker of a transaction, records of an aborted transaction: Kafka's control batches,
   * KIP-98). They count as settled, so once the records before them are settled the commit moves past
   * them: a drained partition written in transactions commits its log-end offset (kedacore/keda#5675:
   * otherwise the committed offset stays one short of the log end for ever, the marker's offset).
   * An offset at or below the last tracked one is ignored.
   * @returns true when the partition's committable offset moved forward
   */
  passOver(position: RecordPosition): boolean {
    const state = this.#state(position.topic, position.partition, true) as PartitionState
    const offset = position.offset
    if (state.last !== null && compareOffsets(offset, state.last) <= 0) return false
    state.last = offset
    if (state.head < state.offsets.length) {
      // Behind records still in flight: reached once they are settled.
      state.offsets.push(offset)
      state.settled.add(offset)
      return false
    }
    state.settledUpTo = offset
    return true
  }

  /**
   * When the oldest record still in flight was consumed (epoch ms, to {@link MARK_MS}: never later than
   * the truth), over all partitions; null when none is in flight or no consumption time was given.
   * O(partitions) amortised.
   */
  oldestPendingAt(): number | null {
    let oldest: number | null = null
    for (const state of this.#partitions.values()) {
      if (state.head >= state.offsets.length) continue
      trimMarks(state.marks, state.offsets[state.head] as string)
      const at = state.marks[0]?.at
      if (at !== undefined && (oldest === null || at < oldest)) oldest = at
    }
    return oldest
  }

  /**
   * True when `position` is at or below the last offset tracked for its partition: a record this process
   * already has in hand (the consumer fetches again from the committed offset after a rebalance).
   */
  isRedelivery(position: RecordPosition): boolean {
    const state = this.#state(position.topic, position.partition, false)
    return state !== undefined && state.last !== null && compareOffsets(position.offset, state.last) <= 0
  }

  /**
   * Marks a tracked record as done. Unknown positions (e.g. of a revoked partition) are ignored.
   * @returns true when the partition's committable offset moved forward
   */
  settle(position: RecordPosition): boolean {
    const state = this.#state(position.topic, position.partition, false)
    if (state === undefined) return false
    const offset = position.offset
    const bytes = state.pending.get(offset)
    if (bytes === undefined) return false
    state.pending.delete(offset)
    state.settled.add(offset)
    this.#inFlight--
    this.#bytesInFlight -= bytes
    let moved = false
    while (state.head < state.offsets.length && state.settled.has(state.offsets[state.head] as string)) {
      const done = state.offsets[state.head] as string
      state.settled.delete(done)
      state.settledUpTo = done
      state.head++
      moved = true
    }
    // Drop the marks the head passed, as oldestPendingAt does, so they stay bounded without a scrape; with
    // nothing in flight the last settled offset bounds them (any later head lies above it).
    if (moved)
      trimMarks(
        state.marks,
        state.head < state.offsets.length
          ? (state.offsets[state.head] as string)
          : (state.settledUpTo as string),
      )
    // Compact the array once the consumed prefix dominates, keeping push/shift amortised O(1).
    if (state.head > 1024 && state.head * 2 > state.offsets.length) {
      state.offsets = state.offsets.slice(state.head)
      state.head = 0
    }
    return moved
  }

  /** Offsets that moved since the last {@link markCommitted}, one per partition. */
  committable(): CommittableOffset[] {
    const result: CommittableOffset[] = []
    for (const state of this.#partitions.values()) {
      if (state.settledUpTo === null) continue
      // One past the last settled offset; int64 arithmetic once per commit, not per record.
      const offset = (BigInt(state.settledUpTo) + 1n).toString()
      if (offset !== state.committed) result.push({ topic: state.topic, partition: state.partition, offset })
    }
    return result
  }

  /** Records that `offsets` were committed, so they are not offered again. */
  markCommitted(offsets: CommittableOffset[]): void {
    for (const o of offsets) {
      const state = this.#state(o.topic, o.partition, false)
      if (state !== undefined) state.committed = o.offset
    }
  }

  /**
   * Forgets partitions this member no longer owns (after a rebalance), so no offset is ever committed
   * for them. Their in-flight records stop counting; if they settle later, nothing happens.
   * @param owned the partitions still assigned
   * @returns per forgotten partition, the offsets of tracked records that were settled but not committed
   *   (ascending; those still held in memory): their results are published, so if the partition comes
   *   back they need not be imported again
   */
  retainOnly(owned: Assignment): Array<{ topic: string; partition: number; offsets: string[] }> {
    this.#last = undefined
    const forgotten: Array<{ topic: string; partition: number; offsets: string[] }> = []
    for (const [k, state] of this.#partitions) {
      if (!owned.has(state.topic, state.partition)) {
        this.#inFlight -= state.pending.size
        for (const bytes of state.pending.values()) this.#bytesInFlight -= bytes
        this.#partitions.delete(k)
        const settled = settledNotCommitted(state)
        if (settled.length > 0)
          forgotten.push({ topic: state.topic, partition: state.partition, offsets: settled })
      }
    }
    return forgotten
  }

  /**
   * Consumption-time marks held, over all partitions (for tests: they stay bounded by the records in
   * flight whether or not {@link oldestPendingAt} is called). O(partitions).
   */
  get marksHeld(): number {
    let n = 0
    for (const state of this.#partitions.values()) n += state.marks.length
    return n
  }

  /** Tracked, unsettled offset count per partition (for logs and tests). */
  pendingByPartition(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [k, s] of this.#partitions) out[k] = s.pending.size
    return out
  }

  #state(topic: string, partition: number, create: boolean): PartitionState | undefined {
    // Consecutive calls are mostly for one partition: skip building its key then.
    const last = this.#last
    if (last !== undefined && last.partition === partition && last.topic === topic) return last.state
    const k = partitionKey(topic, partition)
    let state = this.#partitions.get(k)
    if (state === undefined && create) {
      state = {
        topic,
        partition,
        offsets: [],
        head: 0,
        pending: new Map(),
        settled: new Set(),
        settledUpTo: null,
        committed: null,
        last: null,
        marks: [],
      }
      this.#partitions.set(k, state)
    }
    if (state !== undefined) this.#last = { topic, partition, state }
    return state
  }
}

/**
 * Drops the marks before the last one at or below `head` (the oldest offset in flight, or any offset at
 * or below it): the first mark left still dates `head`'s record, never later than it was consumed.
 */
function trimMarks(marks: PartitionState['marks'], head: string): void {
  let drop = 0
  while (drop + 1 < marks.length && compareOffsets((marks[drop + 1] as { offset: string }).offset, head) <= 0)
    drop++
  if (drop > 0) marks.splice(0, drop)
}

/**
 * The tracked offsets of a partition that are settled and at or above its last commit: the settled
 * prefix (before `head`) and the settled ones after it, ascending. Passed-over offsets (no record) are
 * among them; they are harmless where these are used.
 */
function settledNotCommitted(state: PartitionState): string[] {
  const out: string[] = []
  const committed = state.committed
  for (let i = 0; i < state.offsets.length; i++) {
    const offset = state.offsets[i] as string
    if (committed !== null && compareOffsets(offset, committed) < 0) continue
    if (i < state.head || state.settled.has(offset)) out.push(offset)
  }
  return out
}
