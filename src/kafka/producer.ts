import type { ICustomPartitioner, Kafka, Producer, TopicMessages } from 'kafkajs'
import { JavaCompatiblePartitioner } from './partitioner.ts'

/** A message to publish: key and value bytes (null value: a tombstone) plus UTF-8 headers. */
export interface OutgoingMessage {
  key: string | Buffer | null
  value: Buffer | null
  headers?: Record<string, string>
}

interface Waiting {
  topic: string
  messages: OutgoingMessage[]
  resolve: () => void
  reject: (err: unknown) => void
}

/**
 * The idempotent producer shared by result and DLQ publishing (acks=all; the broker drops duplicates
 * of a retried batch, KIP-98). kafkajs retries idempotent sends without limit, so a broker outage
 * delays a send rather than failing it.
 *
 * One produce request is in flight at a time (`maxInFlightRequests: 1`). Sends made while one is in
 * flight wait and then go out together as one request, in the order they were made (as the Java
 * producer's accumulator batches records while a request is outstanding, without a linger): with one
 * request per job of 100 results, the round trips otherwise cap the results per second.
 *
 * @param options.createPartitioner defaults to {@link JavaCompatiblePartitioner} (the Java client's
 *   partitions, as kafkajs' default partitioner, with a faster hash); the benchmark's baseline passes
 *   kafkajs' own
 */
export function createIdempotentProducer(
  kafka: Kafka,
  options: { createPartitioner?: ICustomPartitioner } = {},
) {
  const producer: Producer = kafka.producer({
    idempotent: true,
    createPartitioner: options.createPartitioner ?? JavaCompatiblePartitioner,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // kafkajs' advice for the idempotent producer: unlimited retries keep its sequence numbers valid.
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 30_000 },
  })
  let waiting: Waiting[] = []
  let sending = false

  async function flush(): Promise<void> {
    sending = true
    while (waiting.length > 0) {
      const group = waiting
      waiting = []
      const byTopic = new Map<string, OutgoingMessage[]>()
      for (const w of group) {
        const list = byTopic.get(w.topic)
        if (list === undefined) byTopic.set(w.topic, [...w.messages])
        else for (const m of w.messages) list.push(m)
      }
      const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }))
      try {
        await producer.sendBatch({ acks: -1, topicMessages })
        for (const w of group) w.resolve()
      } catch (err) {
        for (const w of group) w.reject(err)
      }
    }
    sending = false
  }

  return {
    async start(): Promise<void> {
      await producer.connect()
    },
    /**
     * Sends `messages` to `topic` and resolves once all are acknowledged by all in-sync replicas. A send
     * made while another is in flight joins the next request; a failed request fails every send in it.
     */
    send(topic: string, messages: OutgoingMessage[]): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ topic, messages, resolve, reject })
        if (!sending) void flush()
      })
    },
    async stop(): Promise<void> {
      await producer.disconnect()
    },
  }
}

export type IdempotentProducer = ReturnType<typeof createIdempotentProducer>
