/**
 * Prints the records of a topic as JSON lines, to look at result events or DLQ records:
 *
 *   npm run consume -- [topic] [--follow] [--idle-ms 3000]
 *
 * Reads from the beginning in a throw-away consumer group (no offsets of a real group move). Values in
 * the Confluent wire format are decoded through the registry; other values are printed as UTF-8 text.
 * Each line: {"partition","offset","key","headers","value"}. Without --follow it exits once no record
 * arrived for --idle-ms. Brokers and registry come from KAFKA_BROKERS and SCHEMA_REGISTRY_URL.
 */
import { parseArgs } from 'node:util'
import { createKafka } from '../src/kafka/client.ts'
import { createLogger } from '../src/logging.ts'
import { createSchemaCodec } from '../src/registry/registry.ts'
import { startTopicReader } from '../test/support/result-reader.ts'
import { readCommandLine } from './cli.ts'

const usage = `usage: npm run consume -- [topic] [options]

Prints every record of a topic as a JSON line {"partition","offset","key","headers","value"}, from the
beginning, in a throw-away consumer group. Avro values (Confluent wire format) are decoded through the
registry; others are printed as text. Default topic: livingdocs.file-import-results.

options:
  --follow           keep reading (Ctrl-C to stop)
  --idle-ms N        without --follow, stop after N ms without a new record (default 3000)
  --brokers LIST     host:port,... (default: $KAFKA_BROKERS)
  --registry URL     schema registry (default: $SCHEMA_REGISTRY_URL)
  -h, --help         this help`

async function main(): Promise<number> {
  const parsed = readCommandLine('consume', usage, parse)
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  const brokers = values.brokers ?? process.env.KAFKA_BROKERS
  const registry = values.registry ?? process.env.SCHEMA_REGISTRY_URL
  const idleMs = Number(values['idle-ms'])
  if (brokers === undefined || registry === undefined || !Number.isFinite(idleMs)) {
    process.stderr.write(
      `consume: ${brokers === undefined ? 'KAFKA_BROKERS (or --brokers) is required' : registry === undefined ? 'SCHEMA_REGISTRY_URL (or --registry) is required' : '--idle-ms must be a number'}\n`,
    )
    return 2
  }
  const topic = positionals[0] ?? 'livingdocs.file-import-results'
  const kafka = createKafka(
    { brokers: brokers.split(','), clientId: 'file-import-bridge-consume' },
    { logger: createLogger({ level: 'fatal', destination: process.stderr }) },
  )
  const codec = createSchemaCodec({ url: registry })
  let printed = 0
  let last = Date.now()
  const reader = await startTopicReader(kafka, topic, async (value) => {
    if (value === null) return null
    if (value[0] === 0 && value.length >= 5) {
      try {
        return await codec.decode(value)
      } catch (err) {
        return { undecodable: (err as Error).message, text: value.toString('utf8') }
      }
    }
    return value.toString('utf8')
  })
  const flush = () => {
    for (const r of reader.records.slice(printed)) {
      const { partition, offset, key, headers, value } = r
      process.stdout.write(`${JSON.stringify({ partition, offset, key, headers, value })}\n`)
      last = Date.now()
    }
    printed = reader.records.length
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
  process.stderr.write(`consume: ${printed} records from ${topic}\n`)
  return 0
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      follow: { type: 'boolean', default: false },
      'idle-ms': { type: 'string', default: '3000' },
      brokers: { type: 'string' },
      registry: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
}

process.exitCode = await main()
