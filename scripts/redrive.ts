/**
 * Fix and replay (docs/redrive.md): produces records again onto the input topic once the cause of
 * their failure is fixed, from the DLQ or from FAILED results.
 *
 *   npm run redrive -- dlq --reason MAPPING_FAILED [--dry-run]
 *   npm run redrive -- results --class upload --since 2026-12-01T00:00:00Z [--dry-run]
 *
 * Exit codes: 0 every selected record sent (or, with --dry-run, listed), 1 a failure (a topic missing,
 * the broker or registry unreachable, a topic not read to its end), 2 usage error, 3 some selected
 * records could not be sent (their source record is gone, e.g. removed by retention), the others were.
 */
import { parseArgs } from 'node:util'
import { loadTopicSettings, type TopicSettings } from '../src/config.ts'
import { DLQ_REASONS } from '../src/errors.ts'
import { createKafka } from '../src/kafka/client.ts'
import { createLogger } from '../src/logging.ts'
import { FAILURE_CLASSES, type FailureClass } from '../src/model/failure-reasons.ts'
import { createSchemaCodec } from '../src/registry/registry.ts'
import { brokersOf, exitQuietlyOnEpipe, readCommandLine, UserMistake } from './cli.ts'
import { runDlqCommand } from './redrive/dlq-command.ts'
import { runResultsCommand } from './redrive/results-command.ts'

/** `items` comma-separated in lines of at most 100 characters, indented as the options' texts. */
function wrap(items: readonly string[]): string {
  const lines: string[] = []
  let line = ''
  for (const item of items) {
    const next = line === '' ? item : `${line}, ${item}`
    if (next.length > 78 && line !== '') {
      lines.push(`${line},`)
      line = item
    } else line = next
  }
  lines.push(line)
  return lines.map((l) => `${' '.repeat(23)}${l}`).join('\n')
}

const overview = `usage: npm run redrive -- <dlq|results> [options]

Produces records again onto the input topic once the cause of their failure is fixed (docs/redrive.md):
each goes to the partition it came from, with its key, value, headers and timestamp, and a
redrive.attempt header one higher than it had. The bridge stops a record whose redrive.attempt reaches
REDRIVE_MAX_ATTEMPTS (DLQ reason REDRIVE_LIMIT_REACHED). Use --dry-run first.

sub-commands:
  dlq        records of the DLQ topic, selected by dlq.reason, failure time, source partition and offset
  results    the source records of FAILED results, selected by reason class and time

  npm run redrive -- dlq --help       the options of one sub-command

exit codes: 0 done, 1 failed, 2 usage error, 3 some selected records could not be sent (the rest were)`

const common = `  --dry-run            print the counts and what would be sent; send nothing
  --show N             with --dry-run: list the first N records (default 20)
  --json               print the summary as one JSON object instead of text
  --input-topic T      the input topic (default: $INPUT_TOPIC, else legacy.file-created)
  --brokers LIST       host:port,... (default: $KAFKA_BROKERS)
  --idle-ms N          stop reading a partition after N ms without a record (default 10000)
  --verbose            show the Kafka client's logs on stderr
  -h, --help           this help

TIME is ISO 8601 (2026-12-01T08:00:00Z, 2026-12-01) or epoch ms. A progress bar shows on a terminal;
the last line is a summary. Running the same redrive twice imports nothing twice: a file Livingdocs has
gets SKIPPED "already exists", and one run sends each source record once.`

const dlqUsage = `usage: npm run redrive -- dlq (--reason CODE | --since TIME | --until TIME | --partition N | --all) [options]

Reads the DLQ topic to its current end and produces each selected record again onto the input topic,
without its dlq.* headers: those of its last failure go along as previous.dlq.*. A record that was
redriven and failed again is sent once, as its latest DLQ record; one stopped by the loop guard
(REDRIVE_LIMIT_REACHED) only when --reason names that code.

selection (every one given must hold):
  --reason CODE        dlq.reason, repeated or comma-separated:
${wrap(DLQ_REASONS)}
  --since TIME         failed at or after TIME (dlq.failed.at)
  --until TIME         failed before TIME
  --partition N        source partition (dlq.source.partition)
  --from-offset N      with --partition: source offset at least N
  --to-offset N        with --partition: source offset at most N
  --all                every reason (but REDRIVE_LIMIT_REACHED), when nothing else selects

options:
  --dlq-topic T        the DLQ topic (default: $DLQ_TOPIC, else legacy.file-created.dlq)
${common}`

const resultsUsage = `usage: npm run redrive -- results (--class CLASS | --since TIME | --until TIME | --all) [options]

Reads the results topic to its current end, takes each file whose latest result is a selected FAILED
one, reads its source record at the position the result names on the input topic, and produces it
again. Records retention has removed are named and not sent (exit code 3).

selection (every one given must hold):
  --class CLASS        reason class, repeated or comma-separated:
${wrap(FAILURE_CLASSES)}
                       (upload: Livingdocs could not download or store the file, e.g. the file server was down)
  --since TIME         result completed at or after TIME (completedAt)
  --until TIME         result completed before TIME
  --all                every FAILED result, when nothing else selects

options:
  --results-topic T    the results topic (default: $RESULT_TOPIC, else livingdocs.file-import-results)
  --registry URL       schema registry of the result events (default: $SCHEMA_REGISTRY_URL)
${common}`

const commonOptions = {
  'dry-run': { type: 'boolean', default: false },
  show: { type: 'string', default: '20' },
  json: { type: 'boolean', default: false },
  'input-topic': { type: 'string' },
  brokers: { type: 'string' },
  'idle-ms': { type: 'string', default: '10000' },
  since: { type: 'string' },
  until: { type: 'string' },
  all: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === '-h' || sub === '--help') {
    process.stdout.write(`${overview}\n`)
    return 0
  }
  if (sub !== 'dlq' && sub !== 'results') {
    process.stderr.write(
      `redrive: ${sub === undefined ? 'a sub-command is required' : `unknown sub-command "${sub}"`}\n${overview}\n`,
    )
    return 2
  }
  const usage = sub === 'dlq' ? dlqUsage : resultsUsage
  const parsed = readCommandLine(`redrive ${sub}`, usage, () =>
    sub === 'dlq'
      ? parseArgs({
          args: rest,
          options: {
            ...commonOptions,
            reason: { type: 'string', multiple: true },
            partition: { type: 'string' },
            'from-offset': { type: 'string' },
            'to-offset': { type: 'string' },
            'dlq-topic': { type: 'string' },
          },
        })
      : parseArgs({
          args: rest,
          options: {
            ...commonOptions,
            class: { type: 'string', multiple: true },
            'results-topic': { type: 'string' },
            registry: { type: 'string' },
          },
        }),
  )
  if (typeof parsed === 'number') return parsed
  const v = parsed.values as Record<string, string | string[] | boolean | undefined>
  const text = (name: string) => v[name] as string | undefined
  try {
    const brokers = brokersOf(text('brokers'))
    if (brokers === undefined) throw new UserMistake('KAFKA_BROKERS (or --brokers) is required', 2)
    const topics = topicsOf(sub, v)
    const since = timeOf('--since', text('since'))
    const until = timeOf('--until', text('until'))
    if (since !== undefined && until !== undefined && since >= until)
      throw new UserMistake('--since must be before --until', 2)
    const show = countOf('--show', text('show') as string)
    const idleMs = countOf('--idle-ms', text('idle-ms') as string)
    const kafka = createKafka(
      { brokers: brokers.list, clientId: 'file-import-bridge-redrive' },
      { logger: createLogger({ level: v.verbose === true ? 'info' : 'fatal', destination: process.stderr }) },
    )
    const out = (line: string) => process.stdout.write(`${line}\n`)
    const shared = {
      inputTopic: topics.INPUT_TOPIC,
      dryRun: v['dry-run'] === true,
      show,
      json: v.json === true,
      idleMs,
    }
    if (sub === 'dlq') {
      const reasons = listOf(v.reason, DLQ_REASONS, '--reason')
      const partition = text('partition')
      const fromOffset = offsetOf('--from-offset', text('from-offset'))
      const toOffset = offsetOf('--to-offset', text('to-offset'))
      if ((fromOffset !== undefined || toOffset !== undefined) && partition === undefined)
        throw new UserMistake('--from-offset and --to-offset need --partition (offsets are per partition)', 2)
      requireSelection(v, [reasons, since, until, partition])
      return await runDlqCommand(
        kafka,
        {
          ...shared,
          dlqTopic: topics.DLQ_TOPIC,
          selection: {
            reasons: reasons === undefined ? 'all' : new Set(reasons),
            sinceMs: since,
            untilMs: until,
            partition: partition === undefined ? undefined : countOf('--partition', partition),
            fromOffset,
            toOffset,
            inputTopic: topics.INPUT_TOPIC,
          },
        },
        out,
      )
    }
    const classes = listOf(v.class, FAILURE_CLASSES, '--class') as FailureClass[] | undefined
    requireSelection(v, [classes, since, until])
    const registry = text('registry') ?? process.env.SCHEMA_REGISTRY_URL
    if (registry === undefined || registry === '')
      throw new UserMistake('SCHEMA_REGISTRY_URL (or --registry) is required to read result events', 2)
    return await runResultsCommand(
      kafka,
      createSchemaCodec({ url: registry }),
      {
        ...shared,
        resultsTopic: topics.RESULT_TOPIC,
        selection: {
          classes: classes === undefined ? 'all' : new Set(classes),
          sinceMs: since,
          untilMs: until,
          inputTopic: topics.INPUT_TOPIC,
        },
      },
      out,
    )
  } catch (err) {
    // A mistake in the command line (UserMistake, exit 2): the message and the usage.
    if (err instanceof UserMistake && err.exitCode === 2) {
      process.stderr.write(`redrive ${sub}: ${err.message}\n${usage}\n`)
      return 2
    }
    process.stderr.write(`redrive ${sub}: ${(err as Error).message}\n`)
    return 1
  }
}

/** The topics from the options, else the bridge's settings and defaults; no two the same. */
function topicsOf(sub: 'dlq' | 'results', v: Record<string, unknown>): TopicSettings {
  const env = {
    ...process.env,
    ...(v['input-topic'] === undefined ? {} : { INPUT_TOPIC: v['input-topic'] as string }),
    ...(v['dlq-topic'] === undefined ? {} : { DLQ_TOPIC: v['dlq-topic'] as string }),
    ...(v['results-topic'] === undefined ? {} : { RESULT_TOPIC: v['results-topic'] as string }),
  }
  try {
    return loadTopicSettings(env)
  } catch (err) {
    const names = { INPUT_TOPIC: '--input-topic', DLQ_TOPIC: '--dlq-topic', RESULT_TOPIC: '--results-topic' }
    let message = (err as Error).message.replace(/^invalid configuration:\n\s*/, '').replace(/\n\s*/g, '; ')
    if (sub === 'results') message = message.replace(/\bDLQ_TOPIC\b/, 'DLQ_TOPIC (the bridge setting)')
    for (const [setting, option] of Object.entries(names))
      message = message.replaceAll(setting, `${setting} (${option})`)
    throw new UserMistake(message, 2)
  }
}

/** The values of a repeatable, comma-separating option, each one of `allowed`; undefined when not given. */
function listOf(value: unknown, allowed: readonly string[], option: string): string[] | undefined {
  if (value === undefined) return undefined
  const items = (value as string[])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '')
  const wrong = items.filter((i) => !allowed.includes(i))
  if (wrong.length > 0 || items.length === 0)
    throw new UserMistake(
      `${option}: ${wrong.length > 0 ? `unknown ${wrong.map((w) => `"${w}"`).join(', ')}` : 'no value'}; one of ${allowed.join(', ')}`,
      2,
    )
  return items
}

/** Fails unless one selection was given, or --all. */
function requireSelection(v: Record<string, unknown>, given: unknown[]): void {
  if (v.all !== true && given.every((g) => g === undefined))
    throw new UserMistake('say what to redrive (a selection option), or --all', 2)
}

/** An instant from ISO 8601 or epoch ms. */
function timeOf(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isFinite(ms))
    throw new UserMistake(
      `${option}: "${value}" is not a time (ISO 8601 such as 2026-12-01T08:00:00Z, or epoch ms)`,
      2,
    )
  return ms
}

/** A whole number ≥ 0. */
function countOf(option: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new UserMistake(`${option}: "${value}" is not a whole number`, 2)
  return Number(value)
}

/** An offset (a whole number, exact beyond 2^53). */
function offsetOf(option: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined
  if (!/^\d{1,19}$/.test(value)) throw new UserMistake(`${option}: "${value}" is not an offset`, 2)
  return BigInt(value)
}

exitQuietlyOnEpipe()
process.exitCode = await main(process.argv.slice(2))
