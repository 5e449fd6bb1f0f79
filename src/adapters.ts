import type { Config } from './config.ts'
import { createImportClient } from './import/import-client.ts'
import { createKafka, type Kafka } from './kafka/client.ts'
import { createGroupOffsetsReader } from './kafka/group-offsets.ts'
import { createIdempotentProducer } from './kafka/producer.ts'
import type { Logger } from './logging.ts'
import type { Metrics } from './metrics.ts'
import { createSchemaCodec, type SchemaCodec } from './registry/registry.ts'
import { prepareServices } from './startup.ts'
import type { BridgeTracing } from './telemetry/bridge-tracing.ts'

/**
 * The adapters the bridge's stages talk through, made in start-up order, each service checked first so
 * that a start-up failure names it and its setting (src/startup-checks.ts): Kafka (`KAFKA_BROKERS`),
 * then the topics, the input topic's partition count (with `API_LIMITS_SCOPE=group` only) and the
 * schema registry (`SCHEMA_REGISTRY_URL`, where the result schema is registered; src/startup.ts). Each step waits for its service, with one log
 * line per wait, until `deadline` (`STARTUP_TIMEOUT_MS` after start-up began); then
 * the idempotent producer, the import API client and the reader of the consumer group's offsets, none
 * of them started yet (src/app.ts starts and stops them in its lifecycle).
 *
 * @param deps.deadline epoch ms when start-up gives up waiting for a service
 * @param deps.kafka, deps.codec replace the Kafka client and the registry client in tests
 * @param deps.tracing the import client's HTTP spans while tracing is on (src/telemetry/)
 * @throws BridgeError `STARTUP_FAILED` when a service does not answer, `CONFIG_INVALID` when a topic
 *   does not exist or the registry URL leads to no registry API
 */
export async function connectAdapters(
  config: Config,
  deps: {
    logger: Logger
    metrics: Metrics
    deadline: number
    codec?: SchemaCodec
    kafka?: Kafka
    tracing?: BridgeTracing
  },
) {
  const { logger, metrics, deadline } = deps
  logger.info({ brokers: config.kafka.brokers }, 'starting: connecting to Kafka')
  const kafka = deps.kafka ?? createKafka(config.kafka, { logger })
  const codec = deps.codec ?? createSchemaCodec(config.registry)
  const { resultSchemaId, inputPartitions } = await prepareServices(config, {
    logger,
    codec,
    kafka: deps.kafka,
    deadline,
  })
  return {
    kafka,
    codec,
    resultSchemaId,
    inputPartitions,
    producer: createIdempotentProducer(kafka, { lingerMs: config.producerLingerMs }),
    client: createImportClient(config.importClient, { metrics, logger, tracing: deps.tracing }),
    // The group's offsets as Kafka has them: lag, the backlog of every replica, positions out of range.
    groupOffsets: createGroupOffsetsReader(kafka, config.consumer),
  }
}
