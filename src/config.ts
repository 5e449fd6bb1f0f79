import type { BatcherOptions } from './batcher/batcher.ts'
import { type Env, envSchema } from './config-schema.ts'
import { BridgeError } from './errors.ts'
import type { EventDecoderOptions } from './events/decode.ts'
import type { MediaKindOptions } from './events/media-kind.ts'
import type { TransientRetryOptions } from './events/transient-retry.ts'
import type { ImportClientOptions } from './import/import-client.ts'
import type { JobTrackerOptions } from './jobs/job-tracker.ts'
import type { GroupConsumerOptions } from './kafka/consumer.ts'
import type { LagMonitorOptions } from './kafka/lag-monitor.ts'
import type { Mapping } from './mapping/mapping.ts'
import { WEBHOOK_PATH } from './model/webhook.ts'
import type { BackpressureOptions } from './pipeline/backpressure.ts'
import type { ReplicasOptions } from './replicas/replicas.ts'
import { readAccessToken, readWebhookSecret } from './secrets.ts'

/**
 * The validated, frozen settings of one bridge process, grouped by component: each group is that
 * component's options, passed to it as is. Durations in ms, sizes in bytes.
 */
export interface Config {
  /** The Kafka client (`KAFKA_BROKERS`, `KAFKA_CLIENT_ID`). */
  kafka: { brokers: string[]; clientId: string }
  /** The consumer group member on the input topic (`KAFKA_GROUP_ID`, `INPUT_TOPIC`, session, fetch sizes). */
  consumer: GroupConsumerOptions & { groupId: string; topic: string }
  /** The topics, and whether missing ones are created (`CREATE_MISSING_TOPICS`) with how many partitions. */
  topics: { input: string; result: string; dlq: string; createMissing: boolean; createdPartitions: number }
  /** The schema registry (`SCHEMA_REGISTRY_URL`) and the backoff of decoding while it cannot be reached. */
  registry: { url: string; retry: TransientRetryOptions }
  /** The decoder of input records (`DEFAULT_SYSTEM_NAME`, `MEDIA_TYPE_KINDS`, `MEDIA_KIND_DETECTION`). */
  decoder: EventDecoderOptions
  /** The compiled mapping of legacy events (`MAPPING_FILE`); undefined without one. */
  mapping: Mapping | undefined
  /** The import API client (`LIVINGDOCS_*`, `API_*`). */
  importClient: ImportClientOptions
  /** Batching (`BATCH_*`). */
  batcher: BatcherOptions
  /** Pausing the fetch at `MAX_FILES_IN_FLIGHT`, resuming at `FILES_IN_FLIGHT_RESUME_RATIO` of it. */
  backpressure: BackpressureOptions
  /** The job tracker (`MAX_JOBS_IN_FLIGHT`, `STATUS_POLL_INTERVAL_MS`, `JOB_TIMEOUT_MS`, the webhook URL). */
  jobs: JobTrackerOptions
  /** The commit loop (`COMMIT_INTERVAL_MS`). */
  commit: { intervalMs: number }
  /** A result or DLQ send failing this long makes the bridge not ready (`PUBLISH_STALL_MS`). */
  publishStallMs: number
  /**
   * How long a result or DLQ send waits for others to join its produce request, ms
   * (`PRODUCER_LINGER_MS`, default 5: Kafka 4.0's `linger.ms`, KIP-1030).
   */
  producerLingerMs: number
  /** The consumer lag gauge (`LAG_INTERVAL_MS`; 0 = off). */
  lag: LagMonitorOptions
  /** Several replicas: webhook forwarding (`JOB_NOTIFICATIONS_*`) and the job log (`JOB_LOG_*`). */
  replicas: ReplicasOptions
  /** The two HTTP ports, and the webhook HMAC key (`WEBHOOK_SECRET`, never logged). */
  http: { host: string; port: number; metricsPort: number; webhookSecret: string | undefined }
  /** How long a stop waits for jobs in flight (`SHUTDOWN_GRACE_MS`). */
  shutdownGraceMs: number
  logLevel: Env['LOG_LEVEL']
}

/**
 * The media routing settings alone (`MEDIA_TYPE_KINDS`, `MEDIA_KIND_DETECTION`) with the bridge's rules
 * and defaults, for tools that route as the bridge does without its other settings (`npm run map`).
 * @param env environment variables (empty strings count as unset)
 * @returns which import each handle's files go to, and whether files with `file` are detected
 * @throws BridgeError `CONFIG_INVALID` naming the wrong variable
 */
export function loadMediaKinds(env: Record<string, string | undefined>): MediaKindOptions {
  const parsed = envSchema
    .pick({ MEDIA_TYPE_KINDS: true, MEDIA_KIND_DETECTION: true })
    .safeParse(setOnly(env))
  if (!parsed.success) {
    throw configInvalid(parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`))
  }
  return mediaKindsOf(parsed.data)
}

/** The variables of `env` that are set: empty strings count as unset, as in most twelve-factor tooling. */
function setOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''),
  )
}

/** The `CONFIG_INVALID` error listing `problems`, one per line. */
function configInvalid(problems: string[]): BridgeError {
  return new BridgeError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, {
    context: { problems },
  })
}

/** The media routing of the validated settings. */
function mediaKindsOf(e: {
  MEDIA_TYPE_KINDS: MediaKindOptions['kindsByMediaType']
  MEDIA_KIND_DETECTION: boolean
}) {
  return { kindsByMediaType: e.MEDIA_TYPE_KINDS, detectFromFile: e.MEDIA_KIND_DETECTION }
}

/**
 * Reads and compiles `MAPPING_FILE` (`loadMapping` of src/mapping/compile.ts): pushes one line per
 * problem to `problems`, each starting with `MAPPING_FILE: <path>: `, and then gives undefined.
 */
export type MappingLoader = (path: string, problems: string[]) => Mapping | undefined

/**
 * Reads and validates the settings from `env` (the process environment in production), and the files
 * they name: the secrets' files and `MAPPING_FILE` (read and compiled by `deps.loadMapping`).
 *
 * @param env environment variables, e.g. `process.env`
 * @param deps.loadMapping reads the mapping file (`loadMapping` of src/mapping/compile.ts)
 * @returns a deep-frozen {@link Config}
 * @throws BridgeError `CONFIG_INVALID` listing every wrong or missing variable by name, one per line (a
 *   mapping's problems each as `MAPPING_FILE: <path>: <field>: …`)
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  deps: { loadMapping: MappingLoader },
): Config {
  const cleaned = setOnly(env)
  const parsed = envSchema.safeParse(cleaned)
  const problems: string[] = []
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '(environment)')
      const message =
        issue.code === 'invalid_type' && cleaned[name] === undefined ? 'is required' : issue.message
      problems.push(`${name}: ${message}`)
    }
  }
  // The token settings are checked even when others are wrong, so one error lists every problem.
  const accessToken = readAccessToken(
    {
      LIVINGDOCS_ACCESS_TOKEN: cleaned.LIVINGDOCS_ACCESS_TOKEN,
      LIVINGDOCS_ACCESS_TOKEN_FILE: cleaned.LIVINGDOCS_ACCESS_TOKEN_FILE,
    },
    problems,
  )
  const webhookSecret = readWebhookSecret(cleaned, problems)
  const mapping =
    cleaned.MAPPING_FILE === undefined ? undefined : deps.loadMapping(cleaned.MAPPING_FILE, problems)
  if (!parsed.success || problems.length > 0 || accessToken === undefined) throw configInvalid(problems)
  const e = parsed.data
  const webhookUrl =
    e.WEBHOOK_PUBLIC_URL === undefined
      ? undefined
      : // Appended, not resolved: a public URL with a path prefix (behind an ingress) keeps it.
        `${e.WEBHOOK_PUBLIC_URL.replace(/\/+$/, '')}${WEBHOOK_PATH}`
  return deepFreeze({
    kafka: { brokers: e.KAFKA_BROKERS, clientId: e.KAFKA_CLIENT_ID },
    consumer: {
      groupId: e.KAFKA_GROUP_ID,
      topic: e.INPUT_TOPIC,
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      fetchMaxBytes: e.KAFKA_FETCH_MAX_BYTES,
      fetchMaxBytesPerPartition: e.KAFKA_FETCH_MAX_BYTES_PER_PARTITION,
    },
    topics: {
      input: e.INPUT_TOPIC,
      result: e.RESULT_TOPIC,
      dlq: e.DLQ_TOPIC,
      createMissing: e.CREATE_MISSING_TOPICS,
      createdPartitions: e.CREATED_TOPIC_PARTITIONS,
    },
    registry: {
      url: e.SCHEMA_REGISTRY_URL,
      retry: {
        minDelayMs: e.SCHEMA_REGISTRY_RETRY_MIN_MS,
        maxDelayMs: Math.max(e.SCHEMA_REGISTRY_RETRY_MIN_MS, e.SCHEMA_REGISTRY_RETRY_MAX_MS),
      },
    },
    decoder: {
      defaultSystemName: e.DEFAULT_SYSTEM_NAME,
      mediaKinds: mediaKindsOf(e),
    },
    mapping,
    importClient: {
      baseUrl: e.LIVINGDOCS_BASE_URL.replace(/\/+$/, ''),
      apiVersion: e.LIVINGDOCS_API_VERSION,
      accessToken,
      accessTokenFile: cleaned.LIVINGDOCS_ACCESS_TOKEN_FILE,
      requestTimeoutMs: e.API_REQUEST_TIMEOUT_MS,
      maxRetries: e.API_MAX_RETRIES,
      maxBackoffMs: e.API_RETRY_MAX_DELAY_MS,
      rateLimitPerSecond: e.API_RATE_LIMIT_PER_SECOND,
    },
    batcher: { maxFiles: e.BATCH_MAX_FILES, maxBytes: e.BATCH_MAX_BYTES, lingerMs: e.BATCH_LINGER_MS },
    backpressure: {
      maxFilesInFlight: e.MAX_FILES_IN_FLIGHT,
      resumeRatio: e.FILES_IN_FLIGHT_RESUME_RATIO,
    },
    jobs: {
      maxJobsInFlight: e.MAX_JOBS_IN_FLIGHT,
      pollIntervalMs: e.STATUS_POLL_INTERVAL_MS,
      jobTimeoutMs: e.JOB_TIMEOUT_MS,
      webhookUrl,
      webhookSecret,
      holdRecheckMs: e.API_HOLD_RECHECK_MS,
      maxHoldMs: e.API_MAX_HOLD_MS,
      jobVisibilityGraceMs: e.JOB_VISIBILITY_GRACE_MS,
    },
    commit: { intervalMs: e.COMMIT_INTERVAL_MS },
    publishStallMs: e.PUBLISH_STALL_MS,
    producerLingerMs: e.PRODUCER_LINGER_MS,
    lag: { groupId: e.KAFKA_GROUP_ID, topic: e.INPUT_TOPIC, intervalMs: e.LAG_INTERVAL_MS },
    replicas: {
      groupId: e.KAFKA_GROUP_ID,
      jobNotifications: {
        // Forwarding exists for webhooks: without WEBHOOK_PUBLIC_URL there are none to forward.
        enabled: e.JOB_NOTIFICATIONS_ENABLED && webhookUrl !== undefined,
        topic: e.JOB_NOTIFICATIONS_TOPIC,
      },
      jobLog: { enabled: e.JOB_LOG_ENABLED, topic: e.JOB_LOG_TOPIC },
    },
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT, metricsPort: e.METRICS_PORT, webhookSecret },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    logLevel: e.LOG_LEVEL,
  })
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
