/**
 * Produces file-created events from a legacy export file (NDJSON, one file record a line) onto the
 * input topic, Avro-encoded through the schema registry (Confluent wire format, subject
 * `<topic>-value`), keyed by externalId.
 *
 *   npm run produce -- export.ndjson [--topic legacy.file-created] [--format avro|json]
 *
 * Brokers and registry come from KAFKA_BROKERS and SCHEMA_REGISTRY_URL (or --brokers, --registry).
 * Exit codes: 0 all lines produced, 1 a line was invalid, the topic is missing or producing failed
 * (nothing is produced when a line is invalid), 2 usage error or an export file that cannot be read.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { brokersOf, readCommandLine, requireTopics, runTool } from './cli.ts'
import { parseExport, produceExport } from './produce-export.ts'

const usage = `usage: npm run produce -- <export.ndjson> [options]

Produces one file-created event per line of a legacy export (NDJSON) onto the input topic, keyed by
externalId. Each line: {"externalId","url","fileName","mediaType"?,"metadata"?,"systemName"?,"occurredAt"?,"checksum"?}.
Every line is checked first; nothing is produced when one is invalid.

options:
  --topic T          input topic (default legacy.file-created)
  --format F         avro: Confluent wire format, schemas/file-created.avsc registered under <topic>-value
                     (default); json: plain JSON objects
  --brokers LIST     host:port,... (default: $KAFKA_BROKERS)
  --registry URL     schema registry (default: $SCHEMA_REGISTRY_URL)
  --create-topic     create the topic (3 partitions) if it does not exist
  --verbose          show the Kafka client's logs (retries, reconnects) on stderr
  -h, --help         this help

exit codes: 0 produced, 1 an invalid line, a missing topic or a failed send, 2 usage error or an export
file that cannot be read`

async function main(): Promise<number> {
  const parsed = readCommandLine('produce', usage, parse)
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  const file = positionals[0]
  const brokers = brokersOf(values.brokers)
  const registry = values.registry ?? process.env.SCHEMA_REGISTRY_URL
  const format = values.format
  if (
    file === undefined ||
    brokers === undefined ||
    registry === undefined ||
    (format !== 'avro' && format !== 'json')
  ) {
    process.stderr.write(
      `produce: ${file === undefined ? 'an export file is required' : brokers === undefined ? 'KAFKA_BROKERS (or --brokers) is required' : registry === undefined ? 'SCHEMA_REGISTRY_URL (or --registry) is required' : '--format must be avro or json'}\n${usage}\n`,
    )
    return 2
  }
  const { records, problems } = parseExport(await readFile(file, 'utf8'))
  if (problems.length > 0) {
    for (const p of problems.slice(0, 20)) process.stderr.write(`produce: ${file}:${p}\n`)
    process.stderr.write(`produce: ${problems.length} invalid line(s); nothing was produced\n`)
    return 1
  }
  if (!values['create-topic'])
    await requireTopics(brokers, [values.topic], '; pass --create-topic to create it')
  const started = Date.now()
  try {
    await produceExport({
      records,
      topic: values.topic,
      brokers: brokers.list,
      schemaRegistryUrl: registry,
      format,
      createTopic: values['create-topic'],
      logLevel: values.verbose ? 'info' : 'fatal',
    })
  } catch (err) {
    process.stderr.write(`produce: ${(err as Error).message}\n`)
    return 1
  }
  process.stdout.write(
    `produce: ${records.length} events to ${values.topic} (${format}) in ${Date.now() - started} ms\n`,
  )
  return 0
}

function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      topic: { type: 'string', default: 'legacy.file-created' },
      format: { type: 'string', default: 'avro' },
      brokers: { type: 'string' },
      registry: { type: 'string' },
      'create-topic': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
}

process.exitCode = await runTool('produce', main)
