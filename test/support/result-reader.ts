import { randomUUID } from 'node:crypto'
import type { Kafka } from 'kafkajs'
import { decodedHeaders } from '../../src/kafka/record-format.ts'
import type { RecordHeader } from '../../src/model/records.ts'
import type { FileImportResult } from '../../src/outcome/outcome-event.ts'
import type { SchemaCodec } from '../../src/registry/registry.ts'

/** A record read from a topic by {@link startTopicReader}. */
export interface ReadRecord<T> {
  partition: number
  offset: string
  key: string | null
  /** The key's bytes as read. */
  rawKey: Buffer | null
  /** The first value of each header name, as UTF-8. */
  headers: Record<string, string>
  /** Every header as read: in order, repeats, null and binary values kept. */
  headerList: readonly RecordHeader[]
  value: T
  raw: Buffer | null
  /** The record's timestamp (producer CreateTime), epoch ms. */
  timestamp: number
}

/** Reads a topic from the beginning in its own consumer group and keeps every record. */
export interface TopicReader<T> {
  readonly records: ReadRecord<T>[]
  /** Resolves once `predicate(records)` holds. @throws Error with `what` after `timeoutMs` */
  waitFor(predicate: (records: ReadRecord<T>[]) => boolean, timeoutMs: number, what: string): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts reading `topic` from the beginning, decoding each value with `decode` (e.g. the registry codec
 * for result events, or `(b) => b` for DLQ records).
 * @param options.allowAutoTopicCreation false: never create the topic (kafkajs' consumer default is true,
 *   which makes a broker with `auto.create.topics.enable` create a topic that is only read)
 */
export async function startTopicReader<T>(
  kafka: Kafka,
  topic: string,
  decode: (value: Buffer | null) => Promise<T> | T,
  options: { allowAutoTopicCreation?: boolean } = {},
): Promise<TopicReader<T>> {
  const records: ReadRecord<T>[] = []
  const consumer = kafka.consumer({
    groupId: `reader-${randomUUID()}`,
    sessionTimeout: 10_000,
    allowAutoTopicCreation: options.allowAutoTopicCreation ?? true,
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headerList = decodedHeaders(message)
      const headers: Record<string, string> = {}
      for (const [k, v] of headerList)
        if (v !== null && !Object.hasOwn(headers, k)) headers[k] = v.toString('utf8')
      records.push({
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? null,
        rawKey: message.key,
        headers,
        headerList,
        value: await decode(message.value),
        raw: message.value,
        timestamp: Number(message.timestamp),
      })
    },
  })
  return {
    records,
    async waitFor(predicate, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs
      while (!predicate(records)) {
        if (Date.now() > deadline)
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} (have ${records.length} records)`,
          )
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    stop: () => consumer.disconnect(),
  }
}

/** Decoder of result events through the registry. */
export function resultDecoder(codec: SchemaCodec) {
  return async (value: Buffer | null) => (await codec.decode(value as Buffer)) as FileImportResult
}
