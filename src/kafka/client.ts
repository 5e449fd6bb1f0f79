import kafkajs, { Kafka, logLevel } from 'kafkajs'
import type { Logger } from '../logging.ts'
import { lz4Codec, snappyCodec, zstdCodec } from './codecs.ts'
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
 * The one kafkajs instance of the process. kafkajs types stay inside src/kafka/, so a move to another
 * client touches this folder only. kafkajs logs are forwarded to pino under `component: "kafkajs"`.
 * (kafkajs is prepared when this module is imported, {@link prepareKafkajs}.)
 */
export function createKafka(
  options: { brokers: string[]; clientId: string },
  deps: { logger: Logger },
): Kafka {
  const log = deps.logger.child({ component: 'kafkajs' })
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.INFO,
    retry: { initialRetryTime: 300, retries: 8 },
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, timestamp: _t, logger: _l, ...rest } = entry
        if (level === logLevel.ERROR) log.error(rest, message)
        else if (level === logLevel.WARN) log.warn(rest, message)
        else if (level === logLevel.INFO) log.info(rest, message)
        else log.debug(rest, message)
      },
  })
}

export type { Kafka }
