// Kafka's own Java tools as producers this project did not write (scripts/stack kafka-tool: the
// kafka-tools jar from Maven Central, fetched on first use; needs Java and Maven, not the local stack).
import { resolve } from 'node:path'
import { runProcess } from './run-process.ts'

const STACK = resolve(import.meta.dirname, '../../scripts/stack')

/**
 * Produces `lines` with Kafka's console producer (`org.apache.kafka.tools.ConsoleProducer`), one record a
 * line, with `args` added (e.g. `--compression-codec lz4`, `--property parse.headers=true`). Resolves once
 * the tool exited 0 (it flushes and waits for the acknowledgements before exiting).
 * @throws Error with the tool's stderr when it exits otherwise, or after `timeoutMs`
 */
export async function consoleProduce(options: {
  brokers: string[]
  topic: string
  lines: string[]
  args?: string[]
  timeoutMs?: number
}): Promise<void> {
  const { code, stderr } = await runProcess(
    STACK,
    [
      'kafka-tool',
      'org.apache.kafka.tools.ConsoleProducer',
      '--bootstrap-server',
      options.brokers.join(','),
      '--topic',
      options.topic,
      ...(options.args ?? []),
    ],
    { input: `${options.lines.join('\n')}\n`, timeoutMs: options.timeoutMs ?? 120_000 },
  )
  if (code !== 0) throw new Error(`console producer exited ${code}: ${stderr.slice(-3000)}`)
}

/**
 * Runs one of Kafka's own tools (`scripts/stack kafka-tool`, e.g.
 * `org.apache.kafka.tools.TransactionalMessageCopier` and its arguments) to its end.
 * @returns its standard output
 * @throws Error with the tool's stderr when it exits other than 0, or after `timeoutMs`
 */
export async function kafkaTool(args: string[], timeoutMs = 180_000): Promise<string> {
  const { code, stdout, stderr } = await runProcess(STACK, ['kafka-tool', ...args], { timeoutMs })
  if (code !== 0) throw new Error(`${args[0]} exited ${code}: ${stderr.slice(-3000)}`)
  return stdout
}

/** One record as Kafka's console consumer printed it (`print.partition`, `print.offset`, `print.headers`, `print.key`). */
export interface ConsoleRecord {
  partition: number
  offset: number
  /** `name:value` pairs as printed, in order; empty for `NO_HEADERS`. */
  headers: string[]
  key: string
  value: string
}

/**
 * Reads `topic` from the beginning with Kafka's console consumer
 * (`org.apache.kafka.tools.consumer.ConsoleConsumer`), up to `maxMessages` records or `timeoutMs` of
 * silence, printing partition, offset, headers and key with each value; a client this project did not
 * write. The fields of a line are tab-separated and the header pairs comma-separated: values must hold
 * no tab, header values no comma (JSON values are fine).
 * @throws Error with the tool's stderr when it prints no record and exits non-zero
 */
export async function consoleConsume(options: {
  brokers: string[]
  topic: string
  maxMessages: number
  timeoutMs?: number
}): Promise<ConsoleRecord[]> {
  const { code, stdout, stderr } = await runProcess(
    STACK,
    [
      'kafka-tool',
      'org.apache.kafka.tools.consumer.ConsoleConsumer',
      '--bootstrap-server',
      options.brokers.join(','),
      '--topic',
      options.topic,
      '--from-beginning',
      '--max-messages',
      String(options.maxMessages),
      '--timeout-ms',
      String(options.timeoutMs ?? 30_000),
      ...['print.partition', 'print.offset', 'print.headers', 'print.key'].flatMap((p) => [
        '--property',
        `${p}=true`,
      ]),
    ],
    // The JVM's start and the tool's first fetch on top of the wait for records.
    { timeoutMs: (options.timeoutMs ?? 30_000) + 120_000 },
  )
  const records = stdout
    .split('\n')
    .filter((line) => line.startsWith('Partition:'))
    .map((line) => {
      const [partition, offset, headers, key, ...value] = line.split('\t')
      return {
        partition: Number(partition?.slice('Partition:'.length)),
        offset: Number(offset?.slice('Offset:'.length)),
        headers: headers === 'NO_HEADERS' || headers === undefined ? [] : headers.split(','),
        key: key ?? '',
        value: value.join('\t'),
      }
    })
  if (records.length === 0 && code !== 0)
    throw new Error(`console consumer exited ${code}: ${stderr.slice(-3000)}`)
  return records
}
