/**
 * Records as every stage sees them, free of Kafka client types: a consumed record, its place in its
 * partition, its headers, and the offset committed once it is done. The start of the data flow the
 * files of src/model/ describe (each stage imports these types from here, never from another stage):
 *
 *   ConsumedRecord ──decode──► PendingFile ──batch──► Batch ──import job──► ConcludedJob ──► result events
 *        │                                                                        │
 *        └──────────── DecodeFailure ──► DLQ record                               └─► FileOutcome per file
 *
 * (files.ts: the decoded event, the pending file and the batch; outcomes.ts: the concluded job and its
 * outcomes; assignment.ts: the partitions owned.) Every record taken from the input topic is tracked by
 * its {@link RecordPosition} until its result event or DLQ record is acknowledged (then its offset may
 * be committed, as a {@link CommittableOffset}), or until its partition is revoked (then the new owner
 * consumes it again).
 */

import { partitionKey } from './assignment.ts'

/**
 * A consumed record's place in its partition. `offset` is the canonical decimal string kafkajs gives
 * (Kafka offsets are int64, beyond a JS number's exact range).
 */
export interface RecordPosition {
  topic: string
  partition: number
  offset: string
}

/**
 * The one key of a record's position in maps and sets: its partition's key ({@link partitionKey}) and its
 * offset, joined by a NUL character.
 */
export function positionKey(p: RecordPosition): string {
  return `${partitionKey(p.topic, p.partition)}\u0000${p.offset}`
}

/** An offset to commit for one partition: the next offset to read, as Kafka expects (last done + 1). */
export interface CommittableOffset {
  topic: string
  partition: number
  offset: string
}

/**
 * One record header as Kafka defines it (KIP-82): a UTF-8 name and a value of bytes or null. A record's
 * headers are an ordered list in which a name may repeat; the bridge keeps them so (src/kafka/record-format.ts).
 */
export type RecordHeader = readonly [name: string, value: Buffer | null]

/** A consumed record, free of Kafka client types. */
export interface ConsumedRecord {
  topic: string
  partition: number
  offset: string
  key: Buffer | null
  value: Buffer | null
  /** Every header of the record, in order, repeats and null values kept. Shared: never mutated. */
  headers: readonly RecordHeader[]
  /** Broker or producer timestamp, epoch ms. */
  timestamp: number
}

/**
 * The first value of header `name` as UTF-8 text (invalid bytes become U+FFFD); undefined when the record
 * has no such header or its value is null. For headers that are text by their own standard (W3C
 * `traceparent`); headers that are copied are copied as bytes.
 */
export function headerText(headers: readonly RecordHeader[] | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined
  for (const [n, value] of headers) if (n === name) return value?.toString('utf8')
  return undefined
}
