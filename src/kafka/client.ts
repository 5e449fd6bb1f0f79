import kafkajs, { Kafka, logLevel } from 'kafkajs'
import type { Logger } from '../logging.ts'
import { lz4Codec, snappyCodec, zstdCodec } from './codecs.ts'
import { originalCause } from './kafka-errors.ts'
import { installRecordFormat } from './record-format.ts'

/**
 * Makes kafkajs read whatever a Kafka producer may write: registers the snappy, lz4 and zstd codecs
 * (gzip is built in; src/kafka/codecs.ts) in kafkajs' codec table, which is global to the process, and
 * installs the record format that keeps headers exactly (src/kafka/record-format.ts). Idempotent.
 * @throws Error when kafkajs already encoded or decoded records before (see `installRecordFormat`)
 */
export function prepareKafkajs(): void {
  // Not named imports: Node cannot see these CommonJS exports of kafkajs statically.
  const { CompressionCodecs, CompressionTypes } = kafkajs
  CompressionCodecs[CompressionTypes.Snappy] = () => snappyCodec
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec
  installRecordFormat()
}

// At import: kafkajs must be prepared before any record of the process is encoded or decoded, also by
// clients built elsewhere (tools and tests that import kafkajs next to this module).
prepareKafkajs()

/**
 * kafkajs log messages the bridge reports itself, in its own words and with more facts: logged at debug.
 * An OffsetOutOfRange reset names neither offset; the group consumer logs one line naming the partition,
 * both offsets and the records lost (src/kafka/consumer-reports.ts).
 */
const REPORTED_BY_THE_BRIDGE = new Set(['Offset out of range, resetting to default offset'])

/**
 * The one kafkajs instance of the process. kafkajs types stay inside src/kafka/, so a move to another
 * client touches this folder only. kafkajs logs are forwarded to pino under `component: "kafkajs"`.
 * (kafkajs is prepared when this module is imported, {@link prepareKafkajs}.)
 * @param options.retries kafkajs' own retries of a request or connection (default 8, about a minute);
 *   0 for a client whose caller retries and logs each wait itself (the start-up steps, src/startup.ts)
 */
export function createKafka(
  options: { brokers: string[]; clientId: string; retries?: number },
  deps: { logger: Logger },
): Kafka {
  const log = deps.logger.child({ component: 'kafkajs' })
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.INFO,
    retry: { initialRetryTime: 300, retries: options.retries ?? 8 },
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, timestamp: _t, logger: _l, ...rest } = entry
        if (REPORTED_BY_THE_BRIDGE.has(message)) log.debug(rest, message)
        else if (level === logLevel.ERROR) log.error(rest, message)
        else if (level === logLevel.WARN) log.warn(rest, message)
        else if (level === logLevel.INFO) log.info(rest, message)
        else log.debug(rest, message)
      },
  })
}

/**
 * Connects to the brokers once, quietly (no kafkajs log lines) and without kafkajs' own retries, and asks
 * for the cluster's brokers: whether the bridge can start at all, told in one error rather than kafkajs'
 * connection errors per retry. The caller retries and logs each wait (src/startup-checks.ts).
 * @throws the kafkajs error of the attempt (see {@link kafkaCause})
 */
export async function reachBrokers(options: { brokers: string[]; clientId: string }): Promise<void> {
  const admin = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 300, retries: 0 },
  }).admin()
  try {
    await admin.connect()
    await admin.describeCluster()
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/**
 * What went wrong with a Kafka call in a few words: the innermost cause of a kafkajs error (a retry
 * error wraps the connection error, which wraps the socket's), e.g. `connect ECONNREFUSED 127.0.0.1:1`.
 */
export function kafkaCause(err: unknown): string {
  const e = originalCause(err) as { message?: string } | undefined
  return e?.message?.replace(/^Connection error: /, '') ?? String(err)
}

export type { Kafka }
