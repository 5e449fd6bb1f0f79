import type { ICustomPartitioner, Kafka, Message, Producer, TopicMessages } from 'kafkajs'
import type { RecordHeader } from '../model/records.ts'
import { isRecordTooLarge } from './kafka-errors.ts'
import { JavaCompatiblePartitioner } from './partitioner.ts'

/**
 * A message to publish: key and value bytes (null value: a tombstone), headers written in this order
 * exactly (names may repeat, values may be null: src/kafka/record-format.ts), the record timestamp
 * (epoch ms; default: the time of sending), and the partition (default: the partitioner's choice by
 * key; `npm run redrive` names the record's source partition).
 */
export interface OutgoingMessage {
  key: string | Buffer | null
  value: Buffer | null
  headers?: readonly RecordHeader[]
  timestamp?: number
  partition?: number
}

/**
 * Most bytes of keys, values and headers that sends joined into one produce request carry (a send larger
 * alone goes alone). The broker refuses a record batch over `max.message.bytes` (default 1 MiB): joining
 * every waiting send after a broker outage would build a request that never fits and fails forever.
 */
export const MAX_JOINED_REQUEST_BYTES = 256 * 1024
/** Bytes counted per record besides key, value and headers (record and batch framing, an estimate). */
const RECORD_OVERHEAD_BYTES = 32

/** Estimated bytes of `messages` in a produce request (see {@link MAX_JOINED_REQUEST_BYTES}). */
export function estimatedBytes(messages: readonly OutgoingMessage[]): number {
  let bytes = 0
  for (const m of messages) {
    bytes += RECORD_OVERHEAD_BYTES + (m.key?.length ?? 0) + (m.value?.length ?? 0)
    if (m.headers !== undefined)
      for (const [name, value] of m.headers) bytes += 2 + name.length * 3 + (value?.length ?? 0)
  }
  return bytes
}

interface Waiting {
  topic: string
  messages: OutgoingMessage[]
  bytes: number
  /** Sent in a request of its own: a joined request it was in was refused as too large. */
  alone?: boolean
  resolve: () => void
  reject: (err: unknown) => void
}

/**
 * The idempotent producer shared by result and DLQ publishing (acks=all; the broker drops duplicates
 * of a retried batch, KIP-98). kafkajs retries idempotent sends without limit, so a broker outage
 * delays a send rather than failing it.
 *
 * One produce request is in flight at a time (`maxInFlightRequests: 1`). Sends made while one is in
 * flight wait and then go out together as one request, in the order they were made, up to
 * {@link MAX_JOINED_REQUEST_BYTES} (as the Java producer's accumulator batches records while a request
 * is outstanding, bounded by `batch.size`): with one request per job of 100 results, the round trips
 * otherwise cap the results per second. A send made while none is in flight waits up to `lingerMs`
 * for others to join it (the Java producer's `linger.ms`, whose default became 5 ms in Kafka 4.0,
 * KIP-1030), and goes at once when the waiting sends reach the bound: each produce request costs a
 * socket write and a broker round trip whatever it carries (measured: with jobs finishing every few
 * ms, about one request per job, and kafkajs' network code took 0.57 s of the bridge's busy time in a
 * 200k-event run against 0.11 s for the baseline's one request per fetched batch).
 *
 * @param options.createPartitioner defaults to {@link JavaCompatiblePartitioner} (the Java client's
 *   partitions, as kafkajs' default partitioner, with a faster hash); the benchmark's baseline passes
 *   kafkajs' own
 * @param options.lingerMs how long a send waits for others to join its request, ms (default 0: none;
 *   the bridge passes `PRODUCER_LINGER_MS`)
 */
export function createIdempotentProducer(
  kafka: Kafka,
  options: { createPartitioner?: ICustomPartitioner; lingerMs?: number } = {},
) {
  const lingerMs = options.lingerMs ?? 0
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
  let lingering: NodeJS.Timeout | undefined

  async function flush(): Promise<void> {
    if (lingering !== undefined) {
      clearTimeout(lingering)
      lingering = undefined
    }
    sending = true
    while (waiting.length > 0) {
      let taken = 0
      let bytes = 0
      while (taken < waiting.length) {
        const next = waiting[taken] as Waiting
        bytes += next.bytes
        if (taken > 0 && (bytes > MAX_JOINED_REQUEST_BYTES || next.alone === true)) break
        taken++
        if (next.alone === true) break
      }
      const group = waiting.slice(0, taken)
      waiting = waiting.slice(taken)
      const byTopic = new Map<string, Message[]>()
      for (const w of group) {
        const list = byTopic.get(w.topic) ?? []
        if (list.length === 0) byTopic.set(w.topic, list)
        for (const m of w.messages) list.push(toKafkajs(m))
      }
      const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }))
      try {
        await producer.sendBatch({ acks: -1, topicMessages })
        for (const w of group) w.resolve()
      } catch (err) {
        if (group.length > 1 && isRecordTooLarge(err)) {
          // Which send is too large? Each goes again alone, so only that one fails with this error.
          for (const w of group) w.alone = true
          waiting = [...group, ...waiting]
        } else for (const w of group) w.reject(err)
      }
    }
    sending = false
  }

  function send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    const bytes = estimatedBytes(messages)
    if (bytes > MAX_JOINED_REQUEST_BYTES && messages.length > 1) {
      // A large send (a job of many files) in parts, so each produce request stays bounded.
      const half = Math.ceil(messages.length / 2)
      return Promise.all([send(topic, messages.slice(0, half)), send(topic, messages.slice(half))]).then(
        () => undefined,
      )
    }
    return new Promise<void>((resolve, reject) => {
      waiting.push({ topic, messages, bytes, resolve, reject })
      if (sending) return
      // Only sends made since the last request linger: a few at most.
      if (lingerMs <= 0 || waiting.reduce((sum, w) => sum + w.bytes, 0) >= MAX_JOINED_REQUEST_BYTES)
        void flush()
      else if (lingering === undefined) lingering = setTimeout(() => void flush(), lingerMs)
    })
  }

  return {
    async start(): Promise<void> {
      await producer.connect()
    },
    /**
     * Sends `messages` to `topic` and resolves once all are acknowledged by all in-sync replicas. A send
     * made while another is in flight joins the next request; a failed request fails every send in it,
     * except that a joined request refused as too large is sent again one send at a time.
     * @throws kafkajs' error of the request (see src/kafka/kafka-errors.ts)
     */
    send,
    async stop(): Promise<void> {
      // A send still lingering (made after the publisher drained) goes now, unawaited: its records
      // count as published only once acknowledged, and are consumed again otherwise.
      if (lingering !== undefined && !sending) void flush()
      await producer.disconnect()
    },
  }
}

export type IdempotentProducer = ReturnType<typeof createIdempotentProducer>

/** A kafkajs message; `headerList` is read by the record encoder of src/kafka/record-format.ts. */
function toKafkajs(m: OutgoingMessage): Message {
  const message: Message & { headerList?: readonly RecordHeader[] } = { key: m.key, value: m.value }
  if (m.headers !== undefined && m.headers.length > 0) message.headerList = m.headers
  if (m.timestamp !== undefined) message.timestamp = String(m.timestamp)
  if (m.partition !== undefined) message.partition = m.partition
  return message
}
