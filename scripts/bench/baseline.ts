/**
 * The benchmark's baseline, run as its own process: a bare kafkajs consumer that decodes each Avro
 * value through the schema registry (the same SchemaCodec the bridge uses) and produces one Avro result
 * event per input event, with the bridge's idempotent producer, one send per fetched batch. No HTTP, no
 * batching for an API, no offset tracking beyond kafkajs' own. Its producer keeps kafkajs' own
 * partitioner (`--partitioner kafkajs`, bare kafkajs) unless `--partitioner bridge` gives it the
 * bridge's (src/kafka/partitioner.ts: the same partitions, a faster hash).
 *
 *   node scripts/bench/baseline.ts --brokers H:P --registry URL --topic T --result-topic R --group G --events N
 *
 * Prints JSON lines: `{"event":"joined","at":ms}` after the group join, then, once N results are
 * acknowledged, `{"event":"done",firstConsumedAt,lastPublishedAt,results,latencyMs:{p50,p95,p99}}`,
 * and keeps running until SIGTERM (so its /proc figures can be read).
 */
import { parseArgs } from 'node:util'
import { Partitioners } from 'kafkajs'
import { createKafka } from '../../src/kafka/client.ts'
import { createIdempotentProducer } from '../../src/kafka/producer.ts'
import { createLogger } from '../../src/logging.ts'
import type { FileImportResult } from '../../src/outcome/outcome-event.ts'
import { createSchemaCodec, readSchema } from '../../src/registry/registry.ts'
import { percentiles } from './stats.ts'

const { values } = parseArgs({
  options: {
    brokers: { type: 'string' },
    registry: { type: 'string' },
    topic: { type: 'string' },
    'result-topic': { type: 'string' },
    group: { type: 'string' },
    events: { type: 'string' },
    partitioner: { type: 'string', default: 'kafkajs' },
  },
})
const need = (name: string, v: string | undefined): string => {
  if (v === undefined) throw new Error(`--${name} is required`)
  return v
}
const events = Number(need('events', values.events))
const resultTopic = need('result-topic', values['result-topic'])
const emit = (obj: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(obj)}\n`)

const logger = createLogger({ level: 'warn', destination: process.stderr })
const kafka = createKafka(
  { brokers: need('brokers', values.brokers).split(','), clientId: 'bench-baseline' },
  { logger },
)
const codec = createSchemaCodec({ url: need('registry', values.registry) })
const resultSchemaId = await codec.register(`${resultTopic}-value`, await readSchema('fileImportResult'))
const producer = createIdempotentProducer(
  kafka,
  values.partitioner === 'bridge' ? {} : { createPartitioner: Partitioners.DefaultPartitioner },
)
await producer.start()
const consumer = kafka.consumer({ groupId: need('group', values.group), allowAutoTopicCreation: false })
consumer.on(consumer.events.GROUP_JOIN, () => emit({ event: 'joined', at: Date.now() }))

const latencies = new Float64Array(events)
let results = 0
let firstConsumedAt = 0
let lastPublishedAt = 0

await consumer.connect()
await consumer.subscribe({ topic: need('topic', values.topic), fromBeginning: true })
await consumer.run({
  eachBatchAutoResolve: true,
  eachBatch: async ({ batch, heartbeat }) => {
    const consumedAt = Date.now()
    if (firstConsumedAt === 0) firstConsumedAt = consumedAt
    const messages = []
    for (const message of batch.messages) {
      const event = (await codec.decode(message.value as Buffer)) as {
        externalId: string
        systemName: string | null
        occurredAt: number
      }
      const result: FileImportResult = {
        systemName: event.systemName ?? 'unknown',
        externalId: event.externalId,
        state: 'SUCCESS',
        kind: 'FILE',
        mediaId: 'baseline',
        reason: null,
        importJobId: null,
        sourceTopic: batch.topic,
        sourcePartition: batch.partition,
        sourceOffset: Number(message.offset),
        eventTime: event.occurredAt,
        completedAt: Date.now(),
      }
      messages.push({
        key: `${result.systemName}:${result.externalId}`,
        value: await codec.encode(resultSchemaId, result),
      })
    }
    await producer.send(resultTopic, messages)
    const now = Date.now()
    for (let i = 0; i < messages.length && results < events; i++) latencies[results++] = now - consumedAt
    lastPublishedAt = now
    await heartbeat()
    if (results >= events && messages.length > 0) {
      emit({
        event: 'done',
        firstConsumedAt,
        lastPublishedAt,
        results,
        latencyMs: percentiles(Array.from(latencies.subarray(0, results))),
      })
    }
  },
})

process.once('SIGTERM', () => {
  void (async () => {
    await consumer.disconnect().catch(() => undefined)
    await producer.stop().catch(() => undefined)
    process.exit(0)
  })()
})
