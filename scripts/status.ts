/**
 * How far the migration is and when it will be done, from Kafka itself (no bridge needed, every replica
 * counted): per partition of the input topic and in total, the records done and behind (the consumer
 * group's committed offsets against the log), the rate and the estimated time to drain.
 *
 *   npm run status                      # live progress bars on a terminal, until Ctrl-C
 *   npm run status -- --json            # one reading as JSON, for scripts
 *   npm run status | cat                # not a terminal: one summary and exit
 *
 * The live view's rate is the committed offsets' advance, averaged (src/progress/progress.ts); a single
 * reading takes it from the growth of the result and DLQ topics over the window instead (ListOffsets by
 * timestamp), the one rate a single reading can give.
 */
import { parseArgs } from 'node:util'
import { loadTopicSettings } from '../src/config.ts'
import { createKafka } from '../src/kafka/client.ts'
import { createGroupOffsetsReader, type GroupOffsetsReader } from '../src/kafka/group-offsets.ts'
import { findMissingTopics } from '../src/kafka/topics.ts'
import { createLogger } from '../src/logging.ts'
import { ProgressEstimator, progressOf } from '../src/progress/progress.ts'
import { brokersOf, readCommandLine, requireTopics, runTool, UserMistake } from './cli.ts'
import { createLiveView, type RateSource, summaryJson, summaryLines } from './status-view.ts'

const usage = `usage: npm run status -- [options]

How far the consumer group is on the input topic, read from Kafka (every replica counted, no bridge
needed): per partition and in total the records done and behind, the rate and the ETA. On a terminal,
progress bars refreshed until Ctrl-C; otherwise (or with --once or --json) one reading and exit.

options:
  --group G          consumer group (default: $KAFKA_GROUP_ID, else file-import-bridge)
  --topic T          input topic (default: $INPUT_TOPIC, else legacy.file-created)
  --result-topic T   result topic, for the rate of one reading (default: $RESULT_TOPIC, else
                     livingdocs.file-import-results)
  --dlq-topic T      DLQ topic, likewise (default: $DLQ_TOPIC, else legacy.file-created.dlq)
  --window-ms N      the rate's window (default: $BACKLOG_RATE_WINDOW_MS, else 300000 = 5 min)
  --interval-ms N    live view: how often Kafka is read (default 2000)
  --once             one reading and exit, also on a terminal
  --json             one reading as JSON and exit
  --brokers LIST     host:port,... (default: $KAFKA_BROKERS)
  -h, --help         this help

exit codes: 0 read, 1 Kafka cannot be reached or the topic does not exist, 2 usage error`

async function main(): Promise<number> {
  const parsed = readCommandLine('status', usage, parse)
  if (typeof parsed === 'number') return parsed
  const { values } = parsed
  const env = process.env
  const brokers = brokersOf(values.brokers)
  const windowMs = Number(values['window-ms'] ?? env.BACKLOG_RATE_WINDOW_MS ?? 300_000)
  const intervalMs = Number(values['interval-ms'])
  if (brokers === undefined) throw new UserMistake(`KAFKA_BROKERS (or --brokers) is required\n${usage}`, 2)
  if (!(windowMs >= 1000 && intervalMs >= 100))
    throw new UserMistake(`--window-ms must be at least 1000 and --interval-ms at least 100\n${usage}`, 2)
  const groupId = values.group ?? env.KAFKA_GROUP_ID ?? 'file-import-bridge'
  // The bridge's default topic names (its topic settings with none set).
  const defaults = loadTopicSettings({})
  const topic = values.topic ?? env.INPUT_TOPIC ?? defaults.INPUT_TOPIC
  const outputs = [
    values['result-topic'] ?? env.RESULT_TOPIC ?? defaults.RESULT_TOPIC,
    values['dlq-topic'] ?? env.DLQ_TOPIC ?? defaults.DLQ_TOPIC,
  ]
  await requireTopics(brokers, [topic])
  const kafka = createKafka(
    { brokers: brokers.list, clientId: 'file-import-bridge-status' },
    { logger: createLogger({ level: 'fatal', destination: process.stderr }) },
  )
  const reader = createGroupOffsetsReader(kafka, { groupId, topic })
  try {
    const missing = new Set(await findMissingTopics(kafka, outputs))
    const rateTopics = outputs.filter((t) => !missing.has(t))
    const live = process.stdout.isTTY === true && !values.once && !values.json
    if (live) await watch(reader, rateTopics, { windowMs, intervalMs })
    else {
      const snapshot = await reader.read()
      const source: RateSource = { kind: 'results', windowMs }
      const progress = progressOf(snapshot, { total: await resultRate(reader, rateTopics, windowMs) })
      process.stdout.write(
        `${values.json ? summaryJson(progress, source) : summaryLines(progress, source).join('\n')}\n`,
      )
    }
  } finally {
    await reader.close()
  }
  return 0
}

/** Records per second written to the result and DLQ topics over the last `windowMs`; null without them. */
async function resultRate(
  reader: GroupOffsetsReader,
  topics: string[],
  windowMs: number,
): Promise<number | null> {
  if (topics.length === 0) return null
  return (await reader.growthSince(topics, Date.now() - windowMs)) / (windowMs / 1000)
}

/**
 * The live view: reads Kafka every `intervalMs` and redraws the bars until Ctrl-C (or SIGTERM), then
 * leaves the last frame and prints the summary of the last reading. Until the committed offsets have
 * moved twice, the total rate is the result topics' growth.
 */
async function watch(
  reader: GroupOffsetsReader,
  rateTopics: string[],
  options: { windowMs: number; intervalMs: number },
): Promise<void> {
  const estimator = new ProgressEstimator({ windowMs: options.windowMs })
  const view = createLiveView(process.stdout)
  const seed = await resultRate(reader, rateTopics, options.windowMs)
  let stop: () => void = () => undefined
  const stopped = new Promise<void>((resolve) => {
    stop = resolve
  })
  process.once('SIGINT', () => stop())
  process.once('SIGTERM', () => stop())
  let last = null as ReturnType<typeof estimator.observe> | null
  let source: RateSource = { kind: 'results', windowMs: options.windowMs }
  for (;;) {
    const snapshot = await reader.read()
    let progress = estimator.observe(snapshot)
    if (progress.total.ratePerSecond === null) progress = progressOf(snapshot, { total: seed })
    else source = { kind: 'commits', windowMs: options.windowMs }
    view.update(progress, source)
    last = progress
    const tick = new Promise((resolve) => setTimeout(resolve, options.intervalMs))
    if ((await Promise.race([tick.then(() => false), stopped.then(() => true)])) === true) break
  }
  view.stop()
  if (last !== null) process.stdout.write(`${summaryLines(last, source).join('\n')}\n`)
}

function parse() {
  return parseArgs({
    options: {
      group: { type: 'string' },
      topic: { type: 'string' },
      'result-topic': { type: 'string' },
      'dlq-topic': { type: 'string' },
      'window-ms': { type: 'string' },
      'interval-ms': { type: 'string', default: '2000' },
      once: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      brokers: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
}

process.exitCode = await runTool('status', main)
// kafkajs may leave timers behind; a finished command ends.
process.exit()
