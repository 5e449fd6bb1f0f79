/**
 * The benchmark's input: synthetic file-created events of realistic size (a long URL, a title, a few
 * hundred bytes of metadata JSON), Avro-encoded through the schema registry (Confluent wire format,
 * subject `<topic>-value`) and produced in large batches.
 */
import { Partitioners } from 'kafkajs'
import type { Kafka } from '../../src/kafka/client.ts'
import { ensureTopics } from '../../src/kafka/topics.ts'
import { createSchemaCodec, readSchema } from '../../src/registry/registry.ts'
import { DAM_SCHEMA } from '../../test/support/mapping-example.ts'

/** systemName of every benchmark event. */
export const BENCH_SYSTEM_NAME = 'legacy-archive'

const WORDS = [
  'annual',
  'report',
  'harbour',
  'council',
  'minutes',
  'election',
  'budget',
  'festival',
  'railway',
  'museum',
  'interview',
  'portrait',
  'archive',
  'survey',
  'bridge',
  'weather',
]

/** The Avro value (schemas/file-created.avsc) of event `i` of a run. Deterministic. */
export function benchEvent(runId: string, i: number) {
  const w = (k: number) => WORDS[(i * 7 + k * 3) % WORDS.length] as string
  const year = 1990 + (i % 30)
  const title = `${w(0)} ${w(1)} ${w(2)} ${year} no. ${i}`
  const metadata = {
    title,
    description: `Scanned ${w(3)} of the ${w(4)} ${w(5)} department, ${year}; digitised from the legacy archive, box ${i % 977}, folder ${i % 53}.`,
    author: `${w(6)} ${w(7)}`,
    tags: [w(8), w(9), w(10), String(year)],
    source: { system: BENCH_SYSTEM_NAME, collection: `${w(11)}-${i % 40}`, shelf: `S-${i % 311}` },
    language: i % 3 === 0 ? 'de' : 'en',
    rights: 'internal use only',
  }
  return {
    externalId: `${runId}-${i}`,
    url: `https://files.legacy-archive.example.com/archive/${year}/${String((i % 12) + 1).padStart(2, '0')}/${w(0)}-${w(1)}-${i}.pdf`,
    fileName: title,
    mediaType: 'file',
    metadata: JSON.stringify(metadata),
    systemName: BENCH_SYSTEM_NAME,
    occurredAt: 946_684_800_000 + i * 1000,
  }
}

/** Event `i` of a run in the legacy DAM shape (`DAM_SCHEMA`, the mapping example of docs/mapping.md): every third one a PDF. Deterministic. */
export function damEvent(runId: string, i: number) {
  const w = (k: number) => WORDS[(i * 7 + k * 3) % WORDS.length] as string
  const id = `${runId}-${i}`
  const base = `https://dam.legacy-archive.example.com/r/${id}`
  return {
    eventType: 'ASSET_CREATED',
    occurredAt: 946_684_800_000 + i * 1000,
    asset: {
      id,
      title: `${w(0)} ${w(1)} ${w(2)} no. ${i}`,
      mime: i % 3 === 0 ? 'application/pdf' : 'image/jpeg',
      renditions: [
        { kind: 'thumbnail', href: `${base}/thumb.jpg` },
        { kind: 'original', href: `${base}/orig.${i % 3 === 0 ? 'pdf' : 'jpg'}` },
      ],
      credit: { photographer: `${w(3)} ${w(4)}`, agency: `${w(5)} press agency` },
      tags: [w(6), w(7), w(8)],
      caption:
        i % 5 === 0
          ? null
          : `The ${w(9)} ${w(10)} of the ${w(11)} department, digitised from box ${i % 977}.`,
    },
  }
}

/**
 * Creates `topic` (if missing) and produces `count` benchmark events to it, keyed by externalId.
 * Values are encoded through the registry; sends carry `chunk` records each, several in flight.
 * @returns the registry schema id and the mean value size in bytes
 */
export async function produceBenchEvents(
  kafka: Kafka,
  options: {
    topic: string
    partitions: number
    count: number
    runId: string
    schemaRegistryUrl: string
    /** `file-created` (default): the bridge's own schema; `dam`: the legacy DAM shape ({@link damEvent}). */
    shape?: 'file-created' | 'dam'
    chunk?: number
    onProgress?: (done: number) => void
  },
): Promise<{ schemaId: number; meanValueBytes: number; ms: number }> {
  const started = Date.now()
  await ensureTopics(kafka, [{ topic: options.topic, numPartitions: options.partitions }])
  const codec = createSchemaCodec({ url: options.schemaRegistryUrl })
  const dam = options.shape === 'dam'
  const schemaId = await codec.register(
    `${options.topic}-value`,
    dam ? DAM_SCHEMA : await readSchema('fileCreated'),
  )
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  })
  await producer.connect()
  const chunk = options.chunk ?? 2000
  let bytes = 0
  try {
    const inFlight = new Set<Promise<unknown>>()
    for (let start = 0; start < options.count; start += chunk) {
      const end = Math.min(options.count, start + chunk)
      const messages: Array<{ key: string; value: Buffer }> = []
      for (let i = start; i < end; i++) {
        const event = dam ? damEvent(options.runId, i) : benchEvent(options.runId, i)
        const value = await codec.encode(schemaId, event)
        bytes += value.length
        messages.push({ key: 'externalId' in event ? event.externalId : event.asset.id, value })
      }
      const send = producer.send({ topic: options.topic, acks: 1, messages })
      inFlight.add(send)
      void send.finally(() => inFlight.delete(send)).catch(() => undefined)
      if (inFlight.size >= 4) await Promise.race(inFlight)
      options.onProgress?.(end)
    }
    await Promise.all(inFlight)
  } finally {
    await producer.disconnect()
  }
  return { schemaId, meanValueBytes: bytes / Math.max(1, options.count), ms: Date.now() - started }
}
