/**
 * Which partitions of the consumer group this process owns: what a rebalance changes, and what the
 * stages holding records of a partition ask before they keep or drop them.
 */

/**
 * The partitions this member of the consumer group owns, as the last group join assigned them. One
 * value with one key format, shared by the consumer (commits only for owned partitions), the intake
 * (drops files of revoked partitions), the offset tracker and the lag monitor.
 */
export class Assignment {
  /** Owns nothing: before the first join, and while a rebalance is in progress. */
  static readonly NONE = new Assignment([])

  readonly #keys: Set<string>
  /** Owned partitions per topic, ascending, e.g. `[{topic: 'in', partitions: [0, 2]}]`. */
  readonly topics: ReadonlyArray<{ topic: string; partitions: number[] }>

  constructor(topics: ReadonlyArray<{ topic: string; partitions: readonly number[] }>) {
    this.topics = topics.map((t) => ({ topic: t.topic, partitions: [...t.partitions].sort((a, b) => a - b) }))
    this.#keys = new Set(this.topics.flatMap((t) => t.partitions.map((p) => partitionKey(t.topic, p))))
  }

  /** True when partition `partition` of `topic` is owned. */
  has(topic: string, partition: number): boolean {
    return this.#keys.has(partitionKey(topic, partition))
  }

  /** True when the record at `position` lies on an owned partition. */
  owns(position: { topic: string; partition: number }): boolean {
    return this.#keys.has(partitionKey(position.topic, position.partition))
  }

  /** The owned partitions of `topic`, ascending (empty when none). */
  partitionsOf(topic: string): number[] {
    return this.topics.find((t) => t.topic === topic)?.partitions ?? []
  }

  /** Number of owned partitions over all topics. */
  get size(): number {
    return this.#keys.size
  }
}

/** The one key of a topic-partition in maps and sets: topic and partition joined by a NUL character. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}
