import type { Config } from './config.ts'
import { createKafka, type Kafka, kafkaCause } from './kafka/client.ts'
import { isBrokerHiccup } from './kafka/kafka-errors.ts'
import { checkTopics, requiredTopics, topicPartitionCount } from './kafka/topics.ts'
import type { Logger } from './logging.ts'
import { readSchema, type SchemaCodec } from './registry/registry.ts'
import { retryUntil } from './retry-until.ts'
import { checkKafka, registerResultSchema } from './startup-checks.ts'

/** What the start-up steps found out, for the components built after them. */
export interface Prepared {
  /** The id of the result schema, registered under `<RESULT_TOPIC>-value`. */
  resultSchemaId: number
  /**
   * The input topic's partition count (each replica's share of the API budget is by partition), read
   * with `API_LIMITS_SCOPE=group` only: undefined with `replica`, whose share does not depend on it.
   */
  inputPartitions: number | undefined
}

/**
 * The start-up steps that talk to the broker and the schema registry before anything else starts: a
 * broker of `KAFKA_BROKERS` reached (src/startup-checks.ts `checkKafka`), the topics checked (or created with `CREATE_MISSING_TOPICS`), the input topic's partition count read (`API_LIMITS_SCOPE=group` only), the
 * result schema registered. On a loaded machine each of them may time out or find its service not
 * there yet: each is retried on a transient failure (a broker hiccup, src/kafka/kafka-errors.ts; a
 * registry timeout, refused connection, 408, 429 or 5xx) with backoff (500 ms doubling to 5 s) until
 * `STARTUP_TIMEOUT_MS` is spent, with one log line per wait naming the service and its setting
 * ("start-up: waiting for the Kafka broker", `KAFKA_BROKERS`, or "… the schema registry",
 * `SCHEMA_REGISTRY_URL`). Every step is idempotent and completes what an earlier
 * attempt or start left half-done: topics are listed before the missing ones are created, and a
 * registration converges (src/registry/schema-subject.ts).
 *
 * The Kafka steps use a client of their own without kafkajs' internal retries (about a minute of silent
 * attempts), so that each wait is seen as it happens; the pipeline's clients keep those retries.
 *
 * @param deps.kafka a Kafka client to use instead (tests)
 * @param deps.deadline epoch ms when start-up gives up (`STARTUP_TIMEOUT_MS` after it began)
 * @throws BridgeError `CONFIG_INVALID` for a missing topic or a refused schema; the last transient error
 *   once the deadline passed
 */
export async function prepareServices(
  config: Config,
  deps: { logger: Logger; codec: SchemaCodec; kafka?: Kafka | undefined; deadline: number },
): Promise<Prepared> {
  const { logger, deadline } = deps
  const log = logger.child({ component: 'startup' })
  const kafka = deps.kafka ?? createKafka({ ...config.kafka, retries: 0 }, { logger })
  // The cause as the service's own reading names it: kafkaCause unwraps kafkajs' retry wrappers; a
  // registry error's message already says what the request saw (src/registry/schema-subject.ts).
  const waitFor = (service: string, setting: string, step: string) => (err: unknown, retryInMs: number) =>
    log.warn(
      {
        service,
        setting,
        step,
        err: service === 'Kafka broker' ? kafkaCause(err) : (err as Error).message,
        retryInMs,
        leftMs: Math.max(0, deadline - Date.now()),
      },
      `start-up: waiting for the ${service}`,
    )
  const brokerStep = <T>(step: string, run: () => Promise<T>) =>
    retryUntil(run, {
      deadline,
      isTransient: isBrokerHiccup,
      onWait: waitFor('Kafka broker', 'KAFKA_BROKERS', step),
    })

  await checkKafka(config.kafka, { deadline, onWait: waitFor('Kafka broker', 'KAFKA_BROKERS', 'connect') })
  await brokerStep('topic check', () =>
    checkTopics(kafka, requiredTopics(config), {
      create: config.topics.createMissing,
      partitions: config.topics.createdPartitions,
    }),
  )
  const inputPartitions =
    config.apiBudget.scope === 'group'
      ? await brokerStep('partition count', () => topicPartitionCount(kafka, config.topics.input))
      : undefined
  const subject = `${config.topics.result}-value`
  const resultSchemaId = await registerResultSchema(
    deps.codec,
    config.registry,
    subject,
    await readSchema('fileImportResult'),
    {
      deadline,
      onWait: waitFor('schema registry', 'SCHEMA_REGISTRY_URL', `registration of ${subject}`),
      onRegistered: ({ id, compatibility, compatibilityBefore }) => {
        if (compatibilityBefore !== undefined)
          log.info(
            { subject, id, compatibility, compatibilityBefore },
            'result subject: compatibility level set',
          )
      },
    },
  )
  log.info(
    {
      heapLimitBytes: config.memory.heapLimitBytes,
      maxBytesInFlight: config.backpressure.maxBytesInFlight,
      from: config.memory.maxBytesInFlightFrom,
    },
    'memory: heap limit and the bytes in flight at which fetching pauses',
  )
  return { resultSchemaId, inputPartitions }
}
