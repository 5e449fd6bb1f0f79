import { getHeapStatistics } from 'node:v8'
import { closest, distance } from 'fastest-levenshtein'
import type { BatcherOptions } from './batcher/batcher.ts'
import {
  type Env,
  envSchema,
  mappingTimeoutProblems,
  sharedTopicProblems,
  TOPIC_SETTINGS,
} from './config-schema.ts'
import { BridgeError } from './errors.ts'
import type { EventDecoderOptions } from './events/decode.ts'
import type { MediaKindOptions } from './events/media-kind.ts'
import type { TransientRetryOptions } from './events/transient-retry.ts'
import type { ImportClientOptions } from './import/import-client.ts'
import type { ApiBudgetOptions } from './jobs/api-budget.ts'
import type { ExistingEntriesOptions } from './jobs/existing-entries.ts'
import type { JobTrackerOptions } from './jobs/job-tracker.ts'
import type { GroupConsumerOptions } from './kafka/consumer.ts'
import type { LagMonitorOptions } from './kafka/lag-monitor.ts'
import type { Mapping } from './mapping/mapping.ts'
import { WEBHOOK_PATH } from './model/webhook.ts'
import type { BackpressureOptions } from './pipeline/backpressure.ts'
import type { ReplicasOptions } from './replicas/replicas.ts'
import { readAccessToken, readAdminToken, readWebhookSecret } from './secrets.ts'
import type { TracingSwitch } from './telemetry/sdk.ts'

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
  /** The registry (`SCHEMA_REGISTRY_*`): URL, request timeout, backoff of decoding while it is away. */
  registry: { url: string; requestTimeoutMs: number; retry: TransientRetryOptions }
  /** The decoder of input records (`DEFAULT_SYSTEM_NAME`, `MEDIA_TYPE_KINDS`, `MEDIA_KIND_DETECTION`). */
  decoder: EventDecoderOptions
  /** The loop guard of redrives (`REDRIVE_MAX_ATTEMPTS`, src/events/redrive-guard.ts). */
  redrive: { maxAttempts: number }
  /** The compiled mapping of legacy events (`MAPPING_FILE`); undefined without one. */
  mapping: Mapping | undefined
  /** The import API client (`LIVINGDOCS_*`, `API_*`). */
  importClient: ImportClientOptions
  /** Batching (`BATCH_*`). */
  batcher: BatcherOptions
  /** Pausing the fetch at `MAX_FILES_IN_FLIGHT` or `MAX_BYTES_IN_FLIGHT` (resuming at the low mark). */
  backpressure: BackpressureOptions
  /** The V8 heap limit, bytes, and where `MAX_BYTES_IN_FLIGHT` came from (logged at start-up). */
  memory: { heapLimitBytes: number; maxBytesInFlightFrom: 'MAX_BYTES_IN_FLIGHT' | 'heap limit / 4' }
  /** `MAX_JOBS_IN_FLIGHT`, `API_RATE_LIMIT_PER_SECOND` and whose they are (`API_LIMITS_SCOPE`). */
  apiBudget: ApiBudgetOptions
  /** How long the start-up steps wait for the broker and the registry (`STARTUP_TIMEOUT_MS`). */
  startupTimeoutMs: number
  /** The job tracker (`MAX_JOBS_IN_FLIGHT`, `STATUS_POLL_INTERVAL_MS`, `JOB_TIMEOUT_MS`, the webhook URL). */
  jobs: JobTrackerOptions
  /**
   * The check of a concluded job's files against the media library (`ON_EXISTING`,
   * `CHECKSUM_METADATA_PROPERTY`; within `MAX_JOBS_IN_FLIGHT` requests, holding like the tracker).
   */
  existingEntries: ExistingEntriesOptions
  /** The commit loop (`COMMIT_INTERVAL_MS`). */
  commit: { intervalMs: number }
  /** A result or DLQ send failing this long makes the bridge not ready (`PUBLISH_STALL_MS`). */
  publishStallMs: number
  /**
   * How long a result or DLQ send waits for others to join its produce request, ms
   * (`PRODUCER_LINGER_MS`, default 5: Kafka 4.0's `linger.ms`, KIP-1030).
   */
  producerLingerMs: number
  /**
   * The consumer lag gauge and the backlog of the whole group (`LAG_INTERVAL_MS`; 0 = off), and the time
   * constant of the backlog's smoothed rate (`BACKLOG_RATE_WINDOW_MS`).
   */
  lag: LagMonitorOptions & { rateWindowMs: number }
  /** Several replicas: webhook forwarding (`JOB_NOTIFICATIONS_*`) and the job log (`JOB_LOG_*`). */
  replicas: ReplicasOptions
  /** The two HTTP ports, and the webhook HMAC key (`WEBHOOK_SECRET`, never logged). */
  http: { host: string; port: number; metricsPort: number; webhookSecret: string | undefined }
  /**
   * The admin API on the operations port: its bearer token (`ADMIN_TOKEN` or `ADMIN_TOKEN_FILE`, never
   * logged; undefined = no admin routes, no pause), and the compacted topic whose record keyed by the
   * consumer group id says whether the group is paused (`CONTROL_TOPIC`, read only with a token).
   */
  admin: { token: string | undefined; controlTopic: string }
  /** How long a stop waits for jobs in flight (`SHUTDOWN_GRACE_MS`). */
  shutdownGraceMs: number
  logLevel: Env['LOG_LEVEL']
  /** OpenTelemetry traces (`OTEL_*`, read by the SDK itself): on only when an OTLP endpoint is set. */
  tracing: TracingSwitch
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

/** The topic settings, as a `pick` of the schema. */
const TOPIC_PICK = Object.fromEntries(TOPIC_SETTINGS.map((name) => [name, true])) as {
  [K in (typeof TOPIC_SETTINGS)[number]]: true
}

/** The topic settings (`INPUT_TOPIC`, `DLQ_TOPIC`, `RESULT_TOPIC`, `JOB_*_TOPIC`), as validated. */
export type TopicSettings = { [K in (typeof TOPIC_SETTINGS)[number]]: string }

/**
 * The topic settings alone, with the bridge's rules and defaults, for tools that work on the bridge's
 * topics (`npm run redrive`): each a valid topic name, and no two naming one topic.
 * @param env environment variables (empty strings count as unset)
 * @throws BridgeError `CONFIG_INVALID` naming each wrong setting, or both settings of a shared topic
 */
export function loadTopicSettings(env: Record<string, string | undefined>): TopicSettings {
  const parsed = envSchema.pick(TOPIC_PICK).safeParse(setOnly(env))
  if (!parsed.success) {
    throw configInvalid(parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`))
  }
  const shared = sharedTopicProblems(parsed.data)
  if (shared.length > 0) throw configInvalid(shared)
  return parsed.data
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
 * Reads and compiles `MAPPING_FILE` (`loadMapping` of src/mapping/compile.ts) with the bounds of one
 * event's evaluation (`MAPPING_TIMEOUT_MS`): pushes one line per problem to `problems`, each starting
 * with `MAPPING_FILE: <path>: `, and then gives undefined.
 */
export type MappingLoader = (
  path: string,
  problems: string[],
  limits: { timeoutMs: number },
) => Mapping | undefined

/**
 * Reads and validates the settings from `env` (the process environment in production), and the files
 * they name: the secrets' files and `MAPPING_FILE` (read and compiled by `deps.loadMapping`).
 *
 * @param env environment variables, e.g. `process.env`
 * @param deps.loadMapping reads the mapping file (`loadMapping` of src/mapping/compile.ts)
 * @param deps.heapLimitBytes the heap limit `MAX_BYTES_IN_FLIGHT` defaults to a quarter of (default: the
 *   process's own, `v8.getHeapStatistics().heap_size_limit`)
 * @returns a deep-frozen {@link Config}
 * @throws BridgeError `CONFIG_INVALID` listing every wrong or missing variable by name, one per line (a
 *   mapping's problems each as `MAPPING_FILE: <path>: <field>: …`)
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  deps: { loadMapping: MappingLoader; heapLimitBytes?: number },
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
  const adminToken = readAdminToken(cleaned, problems)
  const limits = {
    timeoutMs: parsed.data?.MAPPING_TIMEOUT_MS ?? envSchema.shape.MAPPING_TIMEOUT_MS.parse(undefined),
  }
  const mapping =
    cleaned.MAPPING_FILE === undefined ? undefined : deps.loadMapping(cleaned.MAPPING_FILE, problems, limits)
  if (cleaned.MAPPING_FILE !== undefined && parsed.data !== undefined)
    problems.push(...mappingTimeoutProblems(parsed.data))
  // Checked even when other settings are wrong (each topic setting valid on its own), as above.
  const topics = envSchema.pick(TOPIC_PICK).safeParse(cleaned)
  if (topics.success) problems.push(...sharedTopicProblems(topics.data))
  if (!parsed.success || problems.length > 0 || accessToken === undefined) throw configInvalid(problems)
  const e = parsed.data
  const heapLimitBytes = deps.heapLimitBytes ?? getHeapStatistics().heap_size_limit
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
      requestTimeoutMs: e.SCHEMA_REGISTRY_REQUEST_TIMEOUT_MS,
      retry: {
        minDelayMs: e.SCHEMA_REGISTRY_RETRY_MIN_MS,
        maxDelayMs: Math.max(e.SCHEMA_REGISTRY_RETRY_MIN_MS, e.SCHEMA_REGISTRY_RETRY_MAX_MS),
      },
    },
    decoder: {
      defaultSystemName: e.DEFAULT_SYSTEM_NAME,
      mediaKinds: mediaKindsOf(e),
      checksumProperty: e.CHECKSUM_METADATA_PROPERTY,
    },
    redrive: { maxAttempts: e.REDRIVE_MAX_ATTEMPTS },
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
      maxBytesInFlight: e.MAX_BYTES_IN_FLIGHT ?? defaultMaxBytesInFlight(heapLimitBytes),
      resumeRatio: e.FILES_IN_FLIGHT_RESUME_RATIO,
    },
    memory: {
      heapLimitBytes,
      maxBytesInFlightFrom: e.MAX_BYTES_IN_FLIGHT === undefined ? 'heap limit / 4' : 'MAX_BYTES_IN_FLIGHT',
    },
    apiBudget: {
      scope: e.API_LIMITS_SCOPE,
      maxJobsInFlight: e.MAX_JOBS_IN_FLIGHT,
      rateLimitPerSecond: e.API_RATE_LIMIT_PER_SECOND,
    },
    startupTimeoutMs: e.STARTUP_TIMEOUT_MS,
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
    existingEntries: {
      onExisting: e.ON_EXISTING,
      checksumProperty: e.CHECKSUM_METADATA_PROPERTY,
      maxInFlight: e.MAX_JOBS_IN_FLIGHT,
      probeSystemName: e.DEFAULT_SYSTEM_NAME ?? 'file-import-bridge',
      holdRecheckMs: e.API_HOLD_RECHECK_MS,
      maxHoldMs: e.API_MAX_HOLD_MS,
    },
    commit: { intervalMs: e.COMMIT_INTERVAL_MS },
    publishStallMs: e.PUBLISH_STALL_MS,
    producerLingerMs: e.PRODUCER_LINGER_MS,
    lag: { topic: e.INPUT_TOPIC, intervalMs: e.LAG_INTERVAL_MS, rateWindowMs: e.BACKLOG_RATE_WINDOW_MS },
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
    admin: { token: adminToken, controlTopic: e.CONTROL_TOPIC },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    logLevel: e.LOG_LEVEL,
    tracing: tracingSwitch(e),
  })
}

function tracingSwitch(e: Env): TracingSwitch {
  const endpoint = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT
  const exporters = e.OTEL_TRACES_EXPORTER ?? ['otlp']
  const enabled = endpoint !== undefined && !e.OTEL_SDK_DISABLED && !exporters.includes('none')
  return { enabled, endpoint: enabled ? endpoint : undefined }
}

/**
 * `MAX_BYTES_IN_FLIGHT` when it is not set: a quarter of the V8 heap limit, `floor(heapLimitBytes / 4)`.
 * A file in flight holds its entry (about the record's size) outside the heap, in a Buffer, but decoding
 * it made garbage of about that size on the heap, and the container's memory limit has to hold both
 * (the Helm chart gives the old space half the limit: at 512Mi a heap limit of 304 MiB, so 76 MiB in
 * flight). Measured with 50 kB events in test/integration/memory-budget.test.ts.
 */
export function defaultMaxBytesInFlight(heapLimitBytes: number): number {
  return Math.floor(heapLimitBytes / 4)
}

/** Every setting's name (the variables {@link loadConfig} reads). */
export const SETTING_NAMES: readonly string[] = Object.keys(envSchema.shape).sort()

/**
 * Environment variables that are not settings but are spelt like one (`BATCH_MAX_FILE`,
 * `batch_max_files`, `LOGLEVEL`): a misspelt setting is ignored, its default applies, and nothing else
 * would say so. Close means a Levenshtein distance (fastest-levenshtein) of at most 2 from a setting's
 * name, upper-cased, 1 for names under 8 characters; other variables (PATH, HOSTNAME, the platform's)
 * are left alone.
 * @returns one `{ variable, didYouMean }` per such variable, in name order
 */
export function misspeltSettings(
  env: Record<string, string | undefined>,
): Array<{ variable: string; didYouMean: string }> {
  const settings = new Set(SETTING_NAMES)
  const found: Array<{ variable: string; didYouMean: string }> = []
  for (const variable of Object.keys(env).sort()) {
    if (settings.has(variable)) continue
    const upper = variable.toUpperCase()
    const match = closest(upper, SETTING_NAMES as string[])
    if (distance(upper, match) <= (upper.length < 8 ? 1 : 2)) found.push({ variable, didYouMean: match })
  }
  return found
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
