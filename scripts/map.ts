/**
 * Dry run of a mapping (docs/mapping.md): prints for each legacy event the import entry
 * the bridge would send, or why it would be filtered or dead-lettered, with the same code as the bridge
 * (src/mapping/mapped-decoder.ts), and sends nothing.
 *
 *   npm run map -- --mapping m.yaml export.ndjson
 *   npm run map -- --mapping m.yaml --topic legacy.file-created [--count 20]
 *
 * Exit codes: 0 every event imported or filtered, 1 an event would go to the DLQ (or the topic or
 * registry could not be read), 2 usage error, 78 the mapping or a setting is invalid (as the bridge
 * would exit).
 */
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { loadMediaKinds } from '../src/config.ts'
import { BridgeError, isBridgeError } from '../src/errors.ts'
import type { MediaKindOptions } from '../src/events/media-kind.ts'
import { createKafka } from '../src/kafka/client.ts'
import { decodedHeaders } from '../src/kafka/record-format.ts'
import { createLogger } from '../src/logging.ts'
import { loadMappingOrThrow } from '../src/mapping/compile.ts'
import { createMappedDecoder } from '../src/mapping/mapped-decoder.ts'
import type { Mapping } from '../src/mapping/mapping.ts'
import type { ConsumedRecord } from '../src/model/records.ts'
import { createSchemaCodec, type SchemaCodec } from '../src/registry/registry.ts'
import { brokersOf, exitQuietlyOnEpipe, readCommandLine, requireTopics, runTool } from './cli.ts'
import { exportRecords, formatReport, reportOf, Tally } from './map-report.ts'

const usage = `usage: npm run map -- --mapping <file> (<export.ndjson> | --topic <topic>) [options]

Shows what the bridge would make of each legacy event with this mapping (MAPPING_FILE), sending nothing:
the import entry (with systemName and occurredAt), or why the event would be filtered or go to the DLQ
(the reason code, the mapping's field, the message). Then a summary line.

  <export.ndjson>      one legacy event (a JSON object) a line
  --topic T            read T from the beginning instead, through the registry (Avro or JSON), in a
                       throw-away consumer group that commits nothing (the bridge's group is not touched)

options:
  --mapping FILE       the mapping file (YAML or JSON), required
  --count N            with --topic: stop after N records (default 20)
  --idle-ms N          with --topic: stop after N ms without a new record (default 5000)
  --brokers LIST       host:port,... (default: $KAFKA_BROKERS)
  --registry URL       schema registry (default: $SCHEMA_REGISTRY_URL; needed for Avro records)
  -h, --help           this help

DEFAULT_SYSTEM_NAME, MEDIA_TYPE_KINDS and MEDIA_KIND_DETECTION are read from the environment, as the
bridge reads them; each import entry names its import (kind: file, image or video).
exit codes: 0 nothing would go to the DLQ, 1 something would (or reading failed), 2 usage, 78 invalid
mapping or setting`

async function main(): Promise<number> {
  const parsed = readCommandLine('map', usage, parse)
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  const file = positionals[0]
  const count = Number(values.count)
  const idleMs = Number(values['idle-ms'])
  const problem =
    values.mapping === undefined
      ? '--mapping is required'
      : (file === undefined) === (values.topic === undefined)
        ? 'give an export file or --topic, one of the two'
        : !(Number.isInteger(count) && count > 0 && Number.isFinite(idleMs))
          ? '--count and --idle-ms must be positive numbers'
          : undefined
  if (problem !== undefined || values.mapping === undefined) {
    process.stderr.write(`map: ${problem}\n${usage}\n`)
    return 2
  }
  let mapping: Mapping
  let mediaKinds: MediaKindOptions
  try {
    mapping = loadMappingOrThrow(values.mapping)
    mediaKinds = loadMediaKinds(process.env)
  } catch (err) {
    process.stderr.write(`map: ${(err as Error).message}\n`)
    return 78
  }
  const registry = values.registry ?? process.env.SCHEMA_REGISTRY_URL
  const decode = createMappedDecoder(
    registry === undefined ? noRegistry : createSchemaCodec({ url: registry }),
    {
      defaultSystemName: process.env.DEFAULT_SYSTEM_NAME || undefined,
      // Routed as the bridge routes (MEDIA_TYPE_KINDS, MEDIA_KIND_DETECTION): the report names the import.
      mediaKinds,
    },
    mapping,
  )
  const tally = new Tally()
  const show = async (at: string, record: ConsumedRecord) => {
    const report = reportOf(at, await decode(record))
    tally.add(report)
    process.stdout.write(`${formatReport(report)}\n`)
  }
  try {
    if (file !== undefined) {
      for (const { at, record } of exportRecords(file, await readFile(file, 'utf8'), Date.now()))
        await show(at, record)
    } else {
      const brokers = brokersOf(values.brokers)
      if (brokers === undefined) {
        process.stderr.write('map: KAFKA_BROKERS (or --brokers) is required with --topic\n')
        return 2
      }
      // Only reads: a missing topic is named, never created.
      await requireTopics(brokers, [values.topic as string])
      await readTopic(brokers.list, values.topic as string, count, idleMs, show)
    }
  } catch (err) {
    process.stderr.write(`map: ${(err as Error).message}\n`)
    return 1
  }
  process.stdout.write(`${tally.summary()}\n`)
  return tally.counts.dlq > 0 ? 1 : 0
}

/** Without a registry an Avro record cannot be read: said so in its report, as a DLQ reason would be. */
const noRegistry: SchemaCodec = {
  register: () => Promise.reject(new Error('no schema registry')),
  encode: () => Promise.reject(new Error('no schema registry')),
  decode: () =>
    Promise.reject(
      new BridgeError('UNSUPPORTED_SCHEMA', 'an Avro record, and no registry given (--registry)'),
    ),
}

/** Longest wait for the throw-away consumer to join its group, ms. */
const JOIN_TIMEOUT_MS = 60_000

/**
 * Reads `topic` from the beginning in a consumer group of its own that commits nothing (the broker
 * drops such a group once it is empty), handing each record to `show` in order, until `count` records
 * or `idleMs` without one.
 */
async function readTopic(
  brokers: string[],
  topic: string,
  count: number,
  idleMs: number,
  show: (at: string, record: ConsumedRecord) => Promise<void>,
): Promise<void> {
  const kafka = createKafka(
    { brokers, clientId: 'file-import-bridge-map' },
    { logger: createLogger({ level: 'fatal', destination: process.stderr }) },
  )
  const consumer = kafka.consumer({
    groupId: `file-import-bridge-map-${randomUUID()}`,
    sessionTimeout: 10_000,
    allowAutoTopicCreation: false,
  })
  let seen = 0
  let failure: unknown
  // Idle time counts from the join: joining a group takes seconds, and an empty topic must still end.
  let joined = false
  let last = Date.now()
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true
    last = Date.now()
  })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (seen >= count || failure !== undefined) return
        seen++
        last = Date.now()
        const record: ConsumedRecord = {
          topic,
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          headers: decodedHeaders(message),
          timestamp: Number(message.timestamp),
        }
        await show(`${topic}:${partition}@${message.offset}`, record).catch((err: unknown) => {
          failure = isBridgeError(err) ? new Error(`${err.code}: ${err.message}`) : err
        })
      },
    })
    const joinBy = Date.now() + JOIN_TIMEOUT_MS
    while (
      seen < count &&
      failure === undefined &&
      (joined ? Date.now() - last < idleMs : Date.now() < joinBy)
    )
      await new Promise((resolve) => setTimeout(resolve, 50))
    if (!joined && failure === undefined)
      failure = new Error(`the consumer did not join its group within ${JOIN_TIMEOUT_MS} ms`)
  } finally {
    await consumer.disconnect()
  }
  if (failure !== undefined) throw failure
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      mapping: { type: 'string' },
      topic: { type: 'string' },
      count: { type: 'string', default: '20' },
      'idle-ms': { type: 'string', default: '5000' },
      brokers: { type: 'string' },
      registry: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
}

exitQuietlyOnEpipe()
process.exitCode = await runTool('map', main)
