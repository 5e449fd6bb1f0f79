import { type Assignment, partitionKey } from '../model/assignment.ts'
import type { CommittableOffset, RecordPosition } from '../model/records.ts'

interface PartitionState {
  topic: string
  partition: number
  /** Offsets in consumption order (ascending within a generation), from `head` on still tracked. */
  offsets: string[]
  head: number
  /** Tracked offsets not settled yet. */
  pending: Set<string>
  settled: Set<string>
  /** The last offset of the contiguous settled prefix (the commit is one past it); null until one settled. */
  settledUpTo: string | null
  /** The offset last committed, to skip commits that would not move. */
  committed: string | null
  /** The highest offset ever tracked, to recognise redeliveries. */
  last: string | null
}

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

  /** Number of tracked offsets not yet settled, over all partitions. */
  get inFlight(): number {
    return this.#inFlight
  }

  /**
   * Starts tracking a consumed record. Offsets must arrive in ascending order per partition; an
   * offset at or below the last tracked one is a redelivery (after a rebalance the consumer fetches
   * again from the committed offset) of a record this process already has in hand.
   * @returns true when the record is new and must be processed; false for a redelivery to skip
   */
  track(position: RecordPosition): boolean {
    const state = this.#state(position.topic, position.partition, true) as PartitionState
    const offset = position.offset
    if (state.last !== null && compareOffsets(offset, state.last) <= 0) return false
    state.last = offset
    state.offsets.push(offset)
    state.pending.add(offset)
    this.#inFlight++
    return true
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
    if (!state.pending.delete(offset)) return false
    state.settled.add(offset)
    this.#inFlight--
    let moved = false
    while (state.head < state.offsets.length && state.settled.has(state.offsets[state.head] as string)) {
      const done = state.offsets[state.head] as string
      state.settled.delete(done)
      state.settledUpTo = done
      state.head++
      moved = true
    }
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
   */
  retainOnly(owned: Assignment): void {
    this.#last = undefined
    for (const [k, state] of this.#partitions) {
      if (!owned.has(state.topic, state.partition)) {
        this.#inFlight -= state.pending.size
        this.#partitions.delete(k)
      }
    }
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
        pending: new Set(),
        settled: new Set(),
        settledUpTo: null,
        committed: null,
        last: null,
      }
      this.#partitions.set(k, state)
    }
    if (state !== undefined) this.#last = { topic, partition, state }
    return state
  }
}
