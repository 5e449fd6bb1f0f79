/**
 * A consumer group's place in a topic as Kafka reports it: per partition the log-start and log-end
 * offsets (ListOffsets earliest and latest) and the group's committed offset (OffsetFetch). Read by
 * src/kafka/group-offsets.ts; the progress of a migration (src/progress/) is computed from it.
 */

/** The offsets of one partition. */
export interface PartitionOffsets {
  partition: number
  /** The first offset still in the log (records below it were deleted by retention or deleteRecords). */
  logStart: bigint
  /** The log-end offset (high watermark): the offset the next produced record gets. */
  logEnd: bigint
  /** The group's committed offset (the next record to read), or null when it never committed one. */
  committed: bigint | null
}

/** The offsets of every partition of a topic for one consumer group, read at `at`. */
export interface OffsetsSnapshot {
  topic: string
  groupId: string
  /** When the offsets were read, epoch ms. */
  at: number
  /** Ascending by partition. */
  partitions: PartitionOffsets[]
}
