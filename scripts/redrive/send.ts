/**
 * Producing redrives onto the input topic, and the lines both sub-commands of `npm run redrive` print.
 */
import type { Kafka } from '../../src/kafka/client.ts'
import { createIdempotentProducer } from '../../src/kafka/producer.ts'
import type { ConsumedRecord } from '../../src/model/records.ts'
import type { Pick, Redrive } from './dlq-selection.ts'
import { startProgress } from './progress.ts'
import { type OffsetRange, readRanges } from './topic-ranges.ts'

/** Records per send: each send waits for its acknowledgement before the next (order kept). */
const CHUNK = 500

/** Sends redrives as they come, in chunks, and says how many went where. */
interface RedriveSender {
  /** Queues `redrive`; waits for a chunk's send when the queue is full (so the reading waits too). */
  add(redrive: Redrive): Promise<void>
  /**
   * Sends what is queued and closes. @returns records sent per partition
   * @throws Error saying how many records were sent before a send failed (kafkajs' error as its cause)
   */
  finish(): Promise<Map<number, number>>
}

/**
 * Opens a sender of redrives to `topic`, each to its source partition, with the idempotent producer
 * the bridge uses (acks=all; a retried request is not written twice, KIP-98). A progress bar over
 * `total` records shows on a terminal. At most {@link CHUNK} records are held at a time.
 * @throws kafkajs errors when the producer cannot connect
 */
async function openSender(kafka: Kafka, topic: string, total: number): Promise<RedriveSender> {
  const producer = createIdempotentProducer(kafka)
  await producer.start()
  const progress = startProgress('sending', total)
  const sent = new Map<number, number>()
  let done = 0
  let queue: Redrive[] = []
  let failure: Error | undefined
  const flush = async () => {
    const chunk = queue
    queue = []
    if (chunk.length === 0 || failure !== undefined) return
    try {
      await producer.send(
        topic,
        chunk.map((r) => r.message),
      )
    } catch (err) {
      failure = new Error(`sending stopped after ${done} records: ${(err as Error).message}`, { cause: err })
      throw failure
    }
    for (const r of chunk) sent.set(r.message.partition, (sent.get(r.message.partition) ?? 0) + 1)
    done += chunk.length
    progress.update(done)
  }
  return {
    async add(redrive) {
      if (failure !== undefined) throw failure
      queue.push(redrive)
      if (queue.length >= CHUNK) await flush()
    },
    async finish() {
      try {
        await flush()
        if (failure !== undefined) throw failure
        return sent
      } finally {
        progress.stop()
        await producer.stop()
      }
    },
  }
}

/**
 * Reads the record at each pick's `at` position of `from` (the DLQ, or the input topic for FAILED
 * results) and sends what `build` makes of it to `to` as it is read: memory holds one chunk of records.
 * @returns records sent per partition, and the picks whose record was not found at its position
 * @throws Error when a send failed (saying how many went before); kafkajs errors
 */
export async function sendPicks(
  kafka: Kafka,
  from: string,
  to: string,
  picks: readonly Pick[],
  build: (pick: Pick, record: ConsumedRecord) => Redrive,
  idleMs: number,
): Promise<{ sent: Map<number, number>; missing: Pick[] }> {
  const wanted = new Map(picks.map((p) => [`${p.at.partition}/${p.at.offset}`, p]))
  const ranges = new Map<number, OffsetRange>()
  for (const { at } of picks) {
    const offset = BigInt(at.offset)
    const r = ranges.get(at.partition)
    if (r === undefined) ranges.set(at.partition, { from: offset, to: offset + 1n })
    else {
      if (offset < r.from) r.from = offset
      if (offset + 1n > r.to) r.to = offset + 1n
    }
  }
  const sender = await openSender(kafka, to, picks.length)
  let readError: unknown
  await readRanges(
    kafka,
    from,
    ranges,
    async (record) => {
      const key = `${record.partition}/${record.offset}`
      const pick = wanted.get(key)
      if (pick === undefined) return
      wanted.delete(key)
      await sender.add(build(pick, record))
    },
    { idleMs },
  ).catch((err: unknown) => {
    readError = err
  })
  // What was read is sent (and the producer closed) also when reading failed.
  const sent = await sender.finish()
  if (readError !== undefined) throw readError
  return { sent, missing: [...wanted.values()] }
}

/** Counts per partition as `partition 0: 17, partition 2: 3` (ascending); `none` when empty. */
export function perPartition(counts: ReadonlyMap<number, number>): string {
  if (counts.size === 0) return 'none'
  return [...counts]
    .sort(([a], [b]) => a - b)
    .map(([p, n]) => `partition ${p}: ${n}`)
    .join(', ')
}

/** The records sent over every partition of `counts` (records sent per partition). */
export function totalSent(counts: ReadonlyMap<number, number>): number {
  return [...counts.values()].reduce((a, b) => a + b, 0)
}

/** How many of `partitions` name each partition. */
export function countByPartition(partitions: Iterable<number>): Map<number, number> {
  const counts = new Map<number, number>()
  for (const p of partitions) counts.set(p, (counts.get(p) ?? 0) + 1)
  return counts
}

/** The non-zero counts of `skipped`, each with its explanation from `texts`: `3 not selected; 1 …`. */
export function skippedText<K extends string>(skipped: Record<K, number>, texts: Record<K, string>): string {
  const parts = (Object.keys(texts) as K[])
    .filter((k) => skipped[k] > 0)
    .map((k) => `${skipped[k]} ${texts[k]}`)
  return parts.length === 0 ? 'none' : parts.join('; ')
}

/** A dry run's line about one record: where it was, what it failed with, where it goes. */
export function pickLine(p: Pick): string {
  const attempt = p.attempt > 0 ? `, redrive.attempt ${p.attempt}` : ''
  return `  ${p.source.topic} ${p.source.partition}/${p.source.offset}  ${p.origin}  -> partition ${p.source.partition}${attempt}`
}

/** A dry run's listing: at most `show` of `lines`, then how many more. */
export function listing(lines: readonly string[], show: number): string[] {
  const shown = lines.slice(0, show)
  if (lines.length > show) shown.push(`  … and ${lines.length - show} more (--show N lists more)`)
  return shown
}

/** Seconds with one decimal, e.g. `1.3 s`. */
export function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`
}
