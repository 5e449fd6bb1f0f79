import { z } from 'zod'
import { createKafka } from '../src/kafka/client.ts'
import { createIdempotentProducer } from '../src/kafka/producer.ts'
import { ensureTopics, findMissingTopics } from '../src/kafka/topics.ts'
import { createLogger } from '../src/logging.ts'
import { createSchemaCodec, readSchema } from '../src/registry/registry.ts'

/** One line of a legacy export: the fields of a file-created event (metadata as an object). */
export const exportRecordSchema = z.object({
  externalId: z.string().min(1),
  url: z.string().min(1),
  fileName: z.string().min(1),
  mediaType: z.string().min(1).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  systemName: z.string().min(1).optional(),
  occurredAt: z.union([z.iso.datetime({ offset: true }), z.number().int()]).optional(),
  // A checksum of the file's bytes (stored in CHECKSUM_METADATA_PROPERTY by the bridge).
  checksum: z.string().min(1).optional(),
})

export type ExportLine = z.infer<typeof exportRecordSchema>

/**
 * Parses NDJSON export text. Blank lines are skipped.
 * @returns the records and, per invalid line, `"<line>: <problem>"`
 */
export function parseExport(text: string): { records: ExportLine[]; problems: string[] } {
  const records: ExportLine[] = []
  const problems: string[] = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch (err) {
      problems.push(`${i + 1}: not JSON (${(err as Error).message})`)
      return
    }
    const parsed = exportRecordSchema.safeParse(json)
    if (parsed.success) records.push(parsed.data)
    else
      problems.push(
        `${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
      )
  })
  return { records, problems }
}

/**
 * Produces `records` to `topic`: Avro through the registry (schemas/file-created.avsc registered under
 * `<topic>-value`) or plain JSON, keyed by externalId, in chunks of 500.
 * @returns the registry schema id used (0 for JSON)
 * @throws Error when the topic does not exist and `createTopic` is not set
 */
export async function produceExport(options: {
  records: ExportLine[]
  topic: string
  brokers: string[]
  schemaRegistryUrl: string
  format: 'avro' | 'json'
  headers?: Record<string, string>
  /** Create the topic (3 partitions) when it does not exist, instead of failing. */
  createTopic?: boolean
  /** pino level of the Kafka client's logs on stderr (default `fatal`: its retries are noise here). */
  logLevel?: string
}): Promise<number> {
  const logger = createLogger({ level: options.logLevel ?? 'fatal', destination: process.stderr })
  const kafka = createKafka({ brokers: options.brokers, clientId: 'file-import-bridge-produce' }, { logger })
  if ((await findMissingTopics(kafka, [options.topic])).length > 0) {
    if (!options.createTopic) {
      throw new Error(`topic ${options.topic} does not exist (create it, or pass --create-topic)`)
    }
    await ensureTopics(kafka, [{ topic: options.topic, numPartitions: 3 }])
  }
  const codec = createSchemaCodec({ url: options.schemaRegistryUrl })
  const schemaId =
    options.format === 'avro'
      ? await codec.register(`${options.topic}-value`, await readSchema('fileCreated'))
      : 0
  const headers =
    options.headers && Object.entries(options.headers).map(([n, v]) => [n, Buffer.from(v)] as const)
  const producer = createIdempotentProducer(kafka)
  await producer.start()
  try {
    for (let i = 0; i < options.records.length; i += 500) {
      const chunk = options.records.slice(i, i + 500)
      const messages = await Promise.all(
        chunk.map(async (r) => {
          const event = {
            externalId: r.externalId,
            url: r.url,
            fileName: r.fileName,
            mediaType: r.mediaType ?? 'file',
            metadata: JSON.stringify(r.metadata ?? {}),
            systemName: r.systemName ?? null,
            occurredAt:
              typeof r.occurredAt === 'string' ? Date.parse(r.occurredAt) : (r.occurredAt ?? Date.now()),
            checksum: r.checksum ?? null,
          }
          const value =
            options.format === 'avro'
              ? await codec.encode(schemaId, event)
              : Buffer.from(JSON.stringify({ ...event, metadata: r.metadata ?? {} }))
          return { key: r.externalId, value, ...(headers === undefined ? {} : { headers }) }
        }),
      )
      await producer.send(options.topic, messages)
    }
  } finally {
    await producer.stop()
  }
  return schemaId
}
