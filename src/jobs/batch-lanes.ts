import { partitionKey } from '../model/assignment.ts'
import type { Batch } from '../model/files.ts'

/** What {@link BatchLanes} needs of a waiting batch. */
export interface LaneEntry {
  batch: Batch
  /** The timestamp of its oldest record, epoch ms (0: none known): the order within its lane. */
  oldest?: number | undefined
}

/** One partition's waiting batches, oldest record first, and the round its next batch is served in. */
interface Lane<T extends LaneEntry> {
  key: string
  entries: T[]
  round: number
}

/**
 * The waiting batches of the submit queue, in the order they are submitted: batches put back at the
 * head (a retry, a hold, a split) first, in their order; then one lane per input partition, served
 * round-robin: each lane with batches waiting gives one batch per round, the lane whose head batch
 * holds the oldest record first within a round, and within a lane the batch with the oldest record
 * first (ties in the order they came). A batch holding files of several partitions (the batcher fills
 * batches in arrival order, so a batch often ends one partition's fetched records and starts the
 * next's) waits in the lane of each of them, and goes at the first of their turns.
 *
 * Why lanes (issue 26, a rebalance storm): a partition's committed offset moves only when the batch
 * holding its lowest uncommitted offset is done. Ordered by record timestamp alone, a backlog produced
 * at once (ties, or a few ms apart) was submitted one partition after another: a replica owning three
 * partitions submitted the whole backlog of one before the first batch of the next, so with owners
 * changing every few seconds one partition committed nothing for 20–32 s. Round-robin across
 * partitions is how Kafka's own consumer keeps one partition from starving the others (it rotates the
 * partitions of its fetch requests, KIP-74); a lane that gains batches after being empty (a partition
 * assigned by a rebalance) joins the current round (start-time fair queueing), so it neither waits
 * behind the others' whole backlogs nor, having had none, takes several turns in a row. A batch
 * keyed by one of its partitions only would hold the first records of the next partition back behind
 * the backlog of the first.
 *
 * Cost: a push walks its files once and scans its lanes from the tail (O(1) each when records come in
 * timestamp order); taking the next batch compares the lanes' heads (O(partitions)).
 */
export class BatchLanes<T extends LaneEntry> {
  /** Put back for a retry, a hold or a split: served before every lane, in this order. */
  readonly #head: T[] = []
  /** By partition key; a lane leaves when it empties (its round is then the current one again). */
  readonly #lanes = new Map<string, Lane<T>>()
  /** The entries waiting in lanes; a lane's entry not in it was taken through another lane. */
  readonly #waiting = new Set<T>()
  /** The round of the last batch taken from a lane (start-time fair queueing's virtual time). */
  #round = 0

  /** Batches waiting. */
  get size(): number {
    return this.#head.length + this.#waiting.size
  }

  /** Files of the waiting batches. */
  get files(): number {
    let n = 0
    for (const e of this) n += e.batch.files.length
    return n
  }

  /**
   * Queues `entry` in the lane of each partition it holds files of, behind the batches there with
   * older or as old records.
   */
  push(entry: T): void {
    this.#waiting.add(entry)
    for (const key of partitionsOf(entry.batch)) {
      let lane = this.#lanes.get(key)
      if (lane === undefined) {
        lane = { key, entries: [], round: this.#round }
        this.#lanes.set(key, lane)
      }
      insertByOldest(lane.entries, entry)
    }
  }

  /** Puts entries back before every other, in the given order. */
  putBack(...entries: T[]): void {
    this.#head.unshift(...entries)
  }

  /**
   * Puts an entry back behind the ones put back before it, before every lane: entries taken in turn and
   * returned in the same order (submits withdrawn unsent) keep that order.
   */
  putBackBehind(entry: T): void {
    this.#head.push(entry)
  }

  /** The batch submitted next, left in place; undefined when none waits. */
  peek(): T | undefined {
    return this.#head[0] ?? this.#nextLane()?.entries[0]
  }

  /** Takes the batch {@link peek} gives. */
  take(): T | undefined {
    const put = this.#head.shift()
    if (put !== undefined) return put
    const lane = this.#nextLane()
    if (lane === undefined) return undefined
    const entry = lane.entries.shift() as T
    this.#waiting.delete(entry)
    this.#round = Math.max(lane.round, this.#round)
    lane.round = this.#round + 1
    if (lane.entries.length === 0) this.#lanes.delete(lane.key)
    return entry
  }

  /** Every waiting entry, in the order they would be submitted if nothing else came. O(n × partitions). */
  ordered(): T[] {
    const out = [...this.#head]
    const lanes = [...this.#lanes.values()].map((l) => ({ ...l, entries: [...l.entries] }))
    const waiting = new Set(this.#waiting)
    let round = this.#round
    for (;;) {
      const lane = pickLane(lanes, round, waiting)
      if (lane === undefined) return out
      const entry = lane.entries.shift() as T
      waiting.delete(entry)
      out.push(entry)
      round = Math.max(lane.round, round)
      lane.round = round + 1
    }
  }

  /**
   * Applies `edit` to every waiting entry, the put-back ones first, then the others in the order they
   * came: it returns the entry to keep (possibly changed in place: its files may now be of fewer
   * partitions) or null to remove it. The lanes keep their rounds.
   * @returns the entries removed, in that order
   */
  filter(edit: (entry: T) => T | null): T[] {
    const removed: T[] = []
    const kept: T[] = []
    for (const e of this.#head) (edit(e) === null ? removed : kept).push(e)
    this.#head.splice(0, this.#head.length, ...kept)
    const waiting = [...this.#waiting]
    this.#waiting.clear()
    const rounds = new Map([...this.#lanes].map(([k, l]) => [k, l.round]))
    this.#lanes.clear()
    for (const e of waiting) {
      if (edit(e) === null) {
        removed.push(e)
        continue
      }
      this.push(e)
    }
    for (const [k, lane] of this.#lanes) lane.round = rounds.get(k) ?? lane.round
    return removed
  }

  /** Every waiting entry: the put-back ones, then the others in the order they came. */
  *[Symbol.iterator](): IterableIterator<T> {
    yield* this.#head
    yield* this.#waiting
  }

  /** The lane served next, after dropping from the lanes' heads the entries taken through other lanes. */
  #nextLane(): Lane<T> | undefined {
    for (const lane of [...this.#lanes.values()]) {
      while (lane.entries.length > 0 && !this.#waiting.has(lane.entries[0] as T)) lane.entries.shift()
      if (lane.entries.length === 0) this.#lanes.delete(lane.key)
    }
    return pickLane(this.#lanes.values(), this.#round, this.#waiting)
  }
}

/** The partition keys of a batch's files, in the order they first come. */
function partitionsOf(batch: Batch): string[] {
  const keys: string[] = []
  let topic: string | undefined
  let partition: number | undefined
  for (const f of batch.files) {
    const p = f.position
    if (p.partition === partition && p.topic === topic) continue
    topic = p.topic
    partition = p.partition
    const key = partitionKey(topic, partition)
    if (!keys.includes(key)) keys.push(key)
  }
  if (keys.length === 0) keys.push('')
  return keys
}

/** Inserts `entry` behind the entries with older or as old records (a scan from the tail). */
function insertByOldest<T extends LaneEntry>(entries: T[], entry: T): void {
  const oldest = entry.oldest ?? 0
  let at = entries.length
  while (at > 0 && ((entries[at - 1] as T).oldest ?? 0) > oldest) at--
  entries.splice(at, 0, entry)
}

/**
 * The lane served next: the lowest round (a lane's own, or `round` if it fell behind), then the oldest
 * head record, then the lane that came first. A lane's entries not `waiting` (taken through another
 * lane) are passed over.
 */
function pickLane<T extends LaneEntry>(
  lanes: Iterable<Lane<T>>,
  round: number,
  waiting: ReadonlySet<T>,
): Lane<T> | undefined {
  let best: Lane<T> | undefined
  let bestRound = 0
  let bestOldest = 0
  for (const lane of lanes) {
    while (lane.entries.length > 0 && !waiting.has(lane.entries[0] as T)) lane.entries.shift()
    const head = lane.entries[0]
    if (head === undefined) continue
    const r = Math.max(lane.round, round)
    const oldest = head.oldest ?? 0
    if (best === undefined || r < bestRound || (r === bestRound && oldest < bestOldest)) {
      best = lane
      bestRound = r
      bestOldest = oldest
    }
  }
  return best
}
