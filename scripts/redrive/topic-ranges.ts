/**
 * Reading given offset ranges of a topic's partitions, for `npm run redrive` (docs/redrive.md): the
 * whole DLQ or results topic up to the end it had when the read began, or the stretch of an input
 * partition that holds the source records of FAILED results.
 */
import { randomUUID } from 'node:crypto'
import type { Kafka } from '../../src/kafka/client.ts'
import { decodedHeaders } from '../../src/kafka/record-format.ts'
import type { ConsumedRecord } from '../../src/model/records.ts'

/** The offsets a partition holds now: from its log start offset `low` up to, not including, `high`. */
export interface PartitionOffsets {
  low: bigint
  high: bigint
}

/** A stretch of a partition to read: offsets `from` up to, not including, `to`. */
export interface OffsetRange {
  from: bigint
  to: bigint
}

/** A partition whose read stopped before its end: the next offset it would have read. */
export interface IncompleteRange {
  partition: number
  reached: bigint
  to: bigint
}

/**
 * The offsets of every partition of `topic` (Kafka's ListOffsets, earliest and latest).
 * @throws Error naming the topic when it does not exist; kafkajs errors when the brokers cannot be reached
 */
export async function partitionOffsets(kafka: Kafka, topic: string): Promise<Map<number, PartitionOffsets>> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    if (!(await admin.listTopics()).includes(topic)) throw new Error(`topic ${topic} does not exist`)
    const offsets = await admin.fetchTopicOffsets(topic)
    return new Map(offsets.map((p) => [p.partition, { low: BigInt(p.low), high: BigInt(p.high) }]))
  } finally {
    await admin.disconnect()
  }
}

/** Every offset `offsets` holds, as ranges to read: each partition from `low` up to `high`. */
export function wholeRanges(offsets: ReadonlyMap<number, PartitionOffsets>): Map<number, OffsetRange> {
  return new Map([...offsets].map(([p, o]) => [p, { from: o.low, to: o.high }]))
}

/** How many offsets `ranges` span together (a progress bar's total). */
export function offsetCount(ranges: ReadonlyMap<number, OffsetRange>): number {
  return [...ranges.values()].reduce((sum, r) => sum + Number(r.to - r.from), 0)
}

/**
 * Reads `ranges` of `topic`, handing each record to `onRecord` in offset order per partition, and
 * resolves once every range was read to its end, or once no record came for `idleMs` (a range whose
 * last offsets the log no longer holds, e.g. compacted away, ends so).
 *
 * A consumer group of its own (`file-import-bridge-redrive-<uuid>`) joins at the log end of every
 * partition, seeks each range's partition to its `from`, pauses the others, and commits nothing: the
 * broker drops the group once it is empty, and no other group's offsets move. (Not `admin.setOffsets`:
 * kafkajs runs a consumer of its own for it, which costs seconds per call.)
 *
 * @param options.onProgress offsets passed so far, over all ranges (a progress bar)
 * @returns the ranges not read to their end (empty when all were)
 * @throws the error `onRecord` threw (the read stops there); kafkajs errors when the brokers cannot be
 *   reached or the consumer crashes
 */
export async function readRanges(
  kafka: Kafka,
  topic: string,
  ranges: ReadonlyMap<number, OffsetRange>,
  onRecord: (record: ConsumedRecord) => void | Promise<void>,
  options: { idleMs: number; onProgress?: (passed: number) => void },
): Promise<IncompleteRange[]> {
  const active = new Map([...ranges].filter(([, r]) => r.from < r.to))
  if (active.size === 0) return []
  const consumer = kafka.consumer({
    groupId: `file-import-bridge-redrive-${randomUUID()}`,
    sessionTimeout: 30_000,
    allowAutoTopicCreation: false,
    // A stop waits for the fetch in flight: a short long-poll ends the read quickly.
    maxWaitTimeInMs: 250,
  })
  const reached = new Map([...active].map(([p, r]) => [p, r.from]))
  const passed = () => {
    let sum = 0n
    for (const [p, r] of active) sum += (reached.get(p) ?? r.from) - r.from
    return Number(sum)
  }
  const finished = new Set<number>()
  let settle: (value: 'done' | 'idle') => void = () => undefined
  let fail: (err: unknown) => void = () => undefined
  const ended = new Promise<'done' | 'idle'>((resolve, reject) => {
    settle = resolve
    fail = reject
  })
  let idle: NodeJS.Timeout | undefined
  const armIdle = () => {
    clearTimeout(idle)
    idle = setTimeout(() => settle('idle'), options.idleMs)
  }
  try {
    consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error))
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: false })
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const p = batch.partition
        const range = active.get(p)
        if (range === undefined || finished.has(p)) return
        armIdle()
        for (const m of batch.messages) {
          const offset = BigInt(m.offset)
          // Before the seek took effect (the log end), or past the range: not ours.
          if (offset < range.from || offset >= range.to) continue
          try {
            await onRecord({
              topic,
              partition: p,
              offset: m.offset,
              key: m.key,
              value: m.value,
              headers: decodedHeaders(m),
              timestamp: Number(m.timestamp),
            })
          } catch (err) {
            // Not kafkajs' business (it would retry the batch): the read ends with this error.
            fail(err)
            return
          }
          reached.set(p, offset + 1n)
        }
        options.onProgress?.(passed())
        if ((reached.get(p) ?? range.from) >= range.to) {
          finished.add(p)
          consumer.pause([{ topic, partitions: [p] }])
          if (finished.size === active.size) settle('done')
        }
      },
    })
    const others = (await partitionsOf(kafka, topic)).filter((p) => !active.has(p))
    if (others.length > 0) consumer.pause([{ topic, partitions: others }])
    for (const [partition, r] of active) consumer.seek({ topic, partition, offset: r.from.toString() })
    armIdle()
    await ended
    return [...active]
      .filter(([p]) => !finished.has(p))
      .map(([partition, r]) => ({ partition, reached: reached.get(partition) ?? r.from, to: r.to }))
  } finally {
    clearTimeout(idle)
    await consumer.disconnect().catch(() => undefined)
  }
}

/** The partition numbers of `topic`. */
async function partitionsOf(kafka: Kafka, topic: string): Promise<number[]> {
  return [...(await partitionOffsets(kafka, topic)).keys()]
}
