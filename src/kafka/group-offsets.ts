import type { Admin, Kafka } from 'kafkajs'
import type { OffsetsSnapshot, PartitionOffsets } from '../model/offsets.ts'

/** Options of {@link createGroupOffsetsReader}. */
export interface GroupOffsetsOptions {
  groupId: string
  /** The input topic. */
  topic: string
}

/**
 * Reads a consumer group's offsets on one topic from Kafka, over one long-lived admin connection
 * (connected on first use): what the lag monitor measures, what the consumer reads before the first fetch
 * of newly assigned partitions, and what `npm run status` shows. Works without a bridge running.
 */
export function createGroupOffsetsReader(kafka: Kafka, options: GroupOffsetsOptions) {
  let admin: Admin | null = null
  let connecting: Promise<Admin> | null = null

  function connected(): Promise<Admin> {
    if (admin !== null) return Promise.resolve(admin)
    connecting ??= (async () => {
      const created = kafka.admin()
      try {
        await created.connect()
      } finally {
        connecting = null
      }
      admin = created
      return created
    })()
    return connecting
  }

  /**
   * The group's committed offsets of `partitions` (all of the topic's when omitted), null where none.
   * @throws kafkajs errors when the broker or the group coordinator cannot be reached
   */
  async function committed(partitions?: number[]): Promise<Map<number, bigint | null>> {
    const client = await connected()
    const [entry] = await client.fetchOffsets({ groupId: options.groupId, topics: [options.topic] })
    const wanted = partitions === undefined ? null : new Set(partitions)
    const out = new Map<number, bigint | null>()
    for (const p of entry?.partitions ?? []) {
      if (wanted !== null && !wanted.has(p.partition)) continue
      const offset = BigInt(p.offset)
      out.set(p.partition, offset >= 0n ? offset : null)
    }
    return out
  }

  return {
    committed,
    /**
     * Every partition's log-start, log-end and committed offsets: one OffsetFetch to the group
     * coordinator and one ListOffsets round to the partition leaders (`admin.fetchTopicOffsets`).
     * @throws kafkajs errors when the broker cannot be reached or the topic does not exist
     */
    async read(): Promise<OffsetsSnapshot> {
      const client = await connected()
      const [done, ends] = await Promise.all([committed(), client.fetchTopicOffsets(options.topic)])
      const partitions: PartitionOffsets[] = ends
        .map((p) => ({
          partition: p.partition,
          logStart: BigInt(p.low),
          logEnd: BigInt(p.high),
          committed: done.get(p.partition) ?? null,
        }))
        .sort((a, b) => a.partition - b.partition)
      return { topic: options.topic, groupId: options.groupId, at: Date.now(), partitions }
    },
    /**
     * Records written to `topics` since `sinceMs` (epoch ms), summed over their partitions: the log-end
     * offset minus the first offset whose timestamp is at or after `sinceMs` (ListOffsets by timestamp,
     * KIP-79). One round per topic.
     */
    async growthSince(topics: string[], sinceMs: number): Promise<number> {
      const client = await connected()
      let total = 0n
      for (const topic of topics) {
        const [ends, since] = await Promise.all([
          client.fetchTopicOffsets(topic),
          client.fetchTopicOffsetsByTimestamp(topic, sinceMs),
        ])
        const from = new Map(since.map((p) => [p.partition, BigInt(p.offset)]))
        for (const p of ends) {
          const end = BigInt(p.high)
          // No record at or after the time: ListOffsets answers -1 (kafkajs: the log end).
          const start = from.get(p.partition) ?? end
          if (start >= 0n && end > start) total += end - start
        }
      }
      return Number(total)
    },
    /** Disconnects the admin client (a later call connects again). */
    async close(): Promise<void> {
      const client = admin ?? (await connecting?.catch(() => null)) ?? null
      admin = null
      await client?.disconnect()
    },
  }
}

export type GroupOffsetsReader = ReturnType<typeof createGroupOffsetsReader>
