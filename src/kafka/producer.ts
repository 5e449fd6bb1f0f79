import { type Kafka, Partitioners, type Producer } from 'kafkajs'

/** A message to publish: key and value bytes plus UTF-8 headers. */
export interface OutgoingMessage {
  key: string | Buffer | null
  value: Buffer
  headers?: Record<string, string>
}

/**
 * The idempotent producer shared by result and DLQ publishing (acks=all; the broker drops duplicates
 * of a retried batch, KIP-98). kafkajs retries idempotent sends without limit, so a broker outage
 * delays a send rather than failing it.
 */
export function createIdempotentProducer(kafka: Kafka) {
  const producer: Producer = kafka.producer({
    idempotent: true,
    // The Java client's murmur2 partitioner (kafkajs' default since 2.0), set to silence its warning.
    createPartitioner: Partitioners.DefaultPartitioner,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // kafkajs' advice for the idempotent producer: unlimited retries keep its sequence numbers valid.
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 30_000 },
  })
  return {
    async start(): Promise<void> {
      await producer.connect()
    },
    /** Sends `messages` to `topic` and resolves once all are acknowledged by all in-sync replicas. */
    async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
      await producer.send({ topic, acks: -1, messages })
    },
    async stop(): Promise<void> {
      await producer.disconnect()
    },
  }
}

export type IdempotentProducer = ReturnType<typeof createIdempotentProducer>
