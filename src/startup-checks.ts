import type { Config } from './config.ts'
import { BridgeError, isBridgeError } from './errors.ts'
import { kafkaCause, reachBrokers } from './kafka/client.ts'
import { isBrokerHiccup } from './kafka/kafka-errors.ts'
import { type RegisterOptions, registryCause, type SchemaCodec } from './registry/registry.ts'
import { retryUntil } from './retry-until.ts'

/**
 * The start-up steps that talk to a service the bridge needs, each failing with one error that names
 * the service and the setting to check (exit 1, `STARTUP_FAILED`; 78, `CONFIG_INVALID`, when the
 * answer shows the setting is wrong), instead of the client library's own words.
 */

/**
 * Waits until a broker of `KAFKA_BROKERS` answers, retrying a refused or lost connection with backoff
 * (src/retry-until.ts) until `deadline` (`STARTUP_TIMEOUT_MS` after start-up began), instead of kafkajs'
 * own retries and error lines; the first start-up step of src/startup.ts, which logs each wait.
 * @param options.deadline epoch ms after which no attempt starts
 * @param options.onWait told before each wait, with the failure and the wait in ms
 * @throws BridgeError `STARTUP_FAILED` naming `KAFKA_BROKERS` and the last cause
 */
export async function checkKafka(
  kafka: Config['kafka'],
  options: { deadline: number; onWait: (err: unknown, retryInMs: number) => void },
): Promise<void> {
  try {
    await retryUntil(() => reachBrokers(kafka), {
      deadline: options.deadline,
      isTransient: isBrokerHiccup,
      onWait: options.onWait,
    })
  } catch (err) {
    throw new BridgeError(
      'STARTUP_FAILED',
      `Kafka cannot be reached at KAFKA_BROKERS=${kafka.brokers.join(',')}: ${kafkaCause(err)}`,
      { cause: err },
    )
  }
}

/**
 * Registers the result schema under `subject`, the bridge's first call to the schema registry; `options`
 * (the start-up deadline, a callback per wait) go to {@link SchemaCodec.register}, which retries
 * timeouts, 5xx and refused connections until the deadline.
 * @returns its schema id
 * @throws BridgeError naming `SCHEMA_REGISTRY_URL`: `CONFIG_INVALID` when the URL leads to no registry
 *   API (404) or the registry refuses the schema (409), `STARTUP_FAILED` when the registry cannot be reached or fails
 */
export async function registerResultSchema(
  codec: SchemaCodec,
  registry: { url: string },
  subject: string,
  schema: Record<string, unknown>,
  options?: RegisterOptions,
): Promise<number> {
  try {
    return await codec.register(subject, schema, options)
  } catch (err) {
    const cause = registryCause(err)
    const what = cause.reachable ? 'answered' : 'cannot be reached:'
    // A wrong URL (404, a bad port) is CONFIG_INVALID already (src/registry/schema-subject.ts).
    throw new BridgeError(
      isBridgeError(err, 'CONFIG_INVALID') ? 'CONFIG_INVALID' : 'STARTUP_FAILED',
      `the schema registry at SCHEMA_REGISTRY_URL=${registry.url} ${what} ${cause.message} (registering ${subject})`,
      { cause: err },
    )
  }
}

/**
 * Runs a start-up step against Kafka (the producer, the consumers joining their groups): a failure names
 * the step and its settings, e.g. `the consumer group KAFKA_GROUP_ID=… on INPUT_TOPIC=…`.
 * @throws BridgeError `STARTUP_FAILED` (a BridgeError from the step is passed on as it is)
 */
export async function kafkaStep<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (err) {
    if (err instanceof BridgeError) throw err
    throw new BridgeError('STARTUP_FAILED', `${what} could not start: ${kafkaCause(err)}`, { cause: err })
  }
}

/**
 * Binds an HTTP port with `listen(address)`: an address in use or not allowed names its setting.
 * @throws BridgeError `STARTUP_FAILED` naming `setting` (`HTTP_PORT`, `METRICS_PORT`) and `HTTP_HOST`
 */
export async function bindPort<T>(
  setting: 'HTTP_PORT' | 'METRICS_PORT',
  address: { host: string; port: number },
  listen: (address: { host: string; port: number }) => Promise<T>,
): Promise<T> {
  try {
    return await listen(address)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new BridgeError(
      'STARTUP_FAILED',
      `${setting}=${address.port} (HTTP_HOST=${address.host}) cannot be bound: ${code === 'EADDRINUSE' ? 'another process listens there' : (err as Error).message}`,
      { cause: err },
    )
  }
}
