/**
 * Prints the records of a topic as JSON lines, to look at result events or DLQ records, and counts them:
 *
 *   npm run consume -- [topic] [--state FAILED] [--reason upload] [--external-id ID] [--follow]
 *
 * Reads from the beginning in a throw-away consumer group (no offsets of a real group move). Values in
 * the Confluent wire format are decoded through the registry; other values are printed as UTF-8 text.
 * Each line: {"partition","offset","key","headers","value"}. Without --follow it exits once no record
 * arrived for --idle-ms, with a summary line of the counts by state. Brokers and registry come from
 * KAFKA_BROKERS and SCHEMA_REGISTRY_URL. The topic must exist: consume never creates one.
 */
import { parseArgs } from 'node:util'
import { createKafka } from '../src/kafka/client.ts'
import { createLogger } from '../src/logging.ts'
import { FILE_STATES } from '../src/metrics.ts'
import { FAILURE_CLASSES } from '../src/model/failure-reasons.ts'
import { createSchemaCodec } from '../src/registry/registry.ts'
import { startTopicReader } from '../test/support/result-reader.ts'
import { brokersOf, readCommandLine, requireTopics, runTool, UserMistake } from './cli.ts'
import { type Filters, factsOf, matches, StateCounts } from './consume-filter.ts'

const usage = `usage: npm run consume -- [topic] [options]

Prints every record of a topic as a JSON line {"partition","offset","key","headers","value"}, from the
beginning, in a throw-away consumer group, then a summary line with the counts by state (FAILED results
by reason class, DLQ records by reason code). Avro values (Confluent wire format) are decoded through the
registry; others are printed as text. Default topic: livingdocs.file-import-results.

options:
  --state S[,S]      print only results in these states (SUCCESS, SKIPPED, FAILED)
  --reason R         print only records with this reason: a DLQ reason code (INVALID_EVENT, ...),
                     text the reason contains, or a FAILED reason class:
                     ${FAILURE_CLASSES.join(', ')}
  --external-id ID   print only records of this externalId
  --follow           keep reading (Ctrl-C to stop)
  --idle-ms N        without --follow, stop after N ms without a new record (default 3000)
  --brokers LIST     host:port,... (default: $KAFKA_BROKERS)
  --registry URL     schema registry (default: $SCHEMA_REGISTRY_URL)
  -h, --help         this help

The counts cover every record read; the filters choose the lines printed.
exit codes: 0 read, 1 the topic does not exist or Kafka cannot be reached, 2 usage error`

const STATES: readonly string[] = FILE_STATES

async function main(): Promise<number> {
  const parsed = readCommandLine('consume', usage, parse)
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  const brokers = brokersOf(values.brokers)
  const registry = values.registry ?? process.env.SCHEMA_REGISTRY_URL
  const idleMs = Number(values['idle-ms'])
  const states = values.state?.split(',').map((s) => s.trim().toUpperCase())
  const problem =
    brokers === undefined
      ? 'KAFKA_BROKERS (or --brokers) is required'
      : registry === undefined
        ? 'SCHEMA_REGISTRY_URL (or --registry) is required'
        : !Number.isFinite(idleMs)
          ? '--idle-ms must be a number'
          : states?.some((s) => !STATES.includes(s))
            ? `--state must be among ${STATES.join(', ')}`
            : undefined
  if (problem !== undefined || brokers === undefined || registry === undefined)
    throw new UserMistake(`${problem}\n${usage}`, 2)
  const topic = positionals[0] ?? 'livingdocs.file-import-results'
  await requireTopics(brokers, [topic])
  const filters: Filters = {
    ...(states === undefined ? {} : { states }),
    ...(values.reason === undefined ? {} : { reason: values.reason }),
    ...(values['external-id'] === undefined ? {} : { externalId: values['external-id'] }),
  }
  const kafka = createKafka(
    { brokers: brokers.list, clientId: 'file-import-bridge-consume' },
    { logger: createLogger({ level: 'fatal', destination: process.stderr }) },
  )
  const codec = createSchemaCodec({ url: registry })
  const counts = new StateCounts()
  let read = 0
  let printed = 0
  let last = Date.now()
  const reader = await startTopicReader(
    kafka,
    topic,
    async (value) => {
      if (value === null) return null
      if (value[0] === 0 && value.length >= 5) {
        try {
          return await codec.decode(value)
        } catch (err) {
          return { undecodable: (err as Error).message, text: value.toString('utf8') }
        }
      }
      return value.toString('utf8')
    },
    { allowAutoTopicCreation: false },
  )
  const flush = () => {
    for (const r of reader.records.slice(read)) {
      const facts = factsOf(r)
      counts.add(facts)
      last = Date.now()
      if (!matches(facts, filters)) continue
      const { partition, offset, key, headers, value } = r
      process.stdout.write(`${JSON.stringify({ partition, offset, key, headers, value })}\n`)
      printed++
    }
    read = reader.records.length
  }
  let stopping = false
  process.once('SIGINT', () => {
    stopping = true
  })
  process.once('SIGTERM', () => {
    stopping = true
  })
  while (!stopping && (values.follow || Date.now() - last < idleMs)) {
    flush()
    await new Promise((r) => setTimeout(r, 100))
  }
  flush()
  await reader.stop()
  const shown = printed === read ? '' : `, ${printed} printed`
  process.stderr.write(`consume: ${read} records from ${topic}${shown}: ${counts.summary()}\n`)
  return 0
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      state: { type: 'string' },
      reason: { type: 'string' },
      'external-id': { type: 'string' },
      follow: { type: 'boolean', default: false },
      'idle-ms': { type: 'string', default: '3000' },
      brokers: { type: 'string' },
      registry: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
}

process.exitCode = await runTool('consume', main)
