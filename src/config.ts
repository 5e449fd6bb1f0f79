import { z } from 'zod'
import type { BatcherOptions } from './batcher/batcher.ts'
import { BridgeError } from './errors.ts'
import type { EventDecoderOptions } from './events/decode.ts'
import type { MediaKindOptions } from './events/media-kind.ts'
import type { TransientRetryOptions } from './events/transient-retry.ts'
import { WEBHOOK_PATH } from './http/routes.ts'
import type { ImportClientOptions } from './import/import-client.ts'
import type { JobTrackerOptions } from './jobs/job-tracker.ts'
import type { GroupConsumerOptions } from './kafka/consumer.ts'
import type { LagMonitorOptions } from './kafka/lag-monitor.ts'
import { loadMapping } from './mapping/compile.ts'
import type { Mapping } from './mapping/mapping.ts'
import type { BackpressureOptions } from './pipeline/backpressure.ts'
import type { MediaKind } from './pipeline/types.ts'
import { ADOPTION_TIMEOUT_MS } from './replicas/adoptions.ts'
import { FORWARD_TIMEOUT_MS } from './replicas/job-notifications.ts'
import { JOB_LOG_CATCH_UP_TIMEOUT_MS, type ReplicasOptions } from './replicas/replicas.ts'
import { readAccessToken, readWebhookSecret } from './secrets.ts'

const csv = z
  .string()
  .transform((s) => s.split(',').map((part) => part.trim()))
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each entry must be host:port')).min(1))

/** Default `LIVINGDOCS_API_VERSION` (see the schema). */
export const DEFAULT_API_VERSION = '2026-03'

/**
 * Default `BATCH_MAX_BYTES`: 450,000 bytes, under the Livingdocs server's request body limit
 * (`httpServer.maxRequestBodySize`, `'500kb'` = 512,000 bytes by default, §10) with a 12% margin for
 * a server whose parser counts a few bytes differently. Raise it only with the server's limit.
 */
export const DEFAULT_BATCH_MAX_BYTES = 450_000

/**
 * `MEDIA_TYPE_KINDS`: `handle:kind` pairs, comma-separated (`image:image,video:video,photo:image`); kind
 * is `file`, `image` or `video` (the import the handle's files go to).
 */
const mediaTypeKinds = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((pair) => pair.trim())
      .filter((pair) => pair !== ''),
  )
  .pipe(
    z.array(
      z
        .string()
        .regex(/^[^\s:,]+:(file|image|video)$/, 'each entry must be handle:kind, kind file, image or video'),
    ),
  )
  .transform((pairs) => Object.fromEntries(pairs.map((pair) => pair.split(':') as [string, MediaKind])))

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max)
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
const topic = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'must be a valid Kafka topic name')

/**
 * Every setting, read from environment variables of the same name. Defaults live here, next to the
 * rule; the README's configuration table lists the same names.
 */
const schema = z.object({
  KAFKA_BROKERS: csv,
  KAFKA_CLIENT_ID: z.string().min(1).default('file-import-bridge'),
  KAFKA_GROUP_ID: z.string().min(1).default('file-import-bridge'),
  INPUT_TOPIC: topic.default('legacy.file-created'),
  RESULT_TOPIC: topic.default('livingdocs.file-import-results'),
  DLQ_TOPIC: topic.default('legacy.file-created.dlq'),
  CREATE_MISSING_TOPICS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  CREATED_TOPIC_PARTITIONS: int(1, 10_000).default(3),
  SCHEMA_REGISTRY_URL: httpUrl,
  SCHEMA_REGISTRY_RETRY_MIN_MS: int(10, 600_000).default(500),
  SCHEMA_REGISTRY_RETRY_MAX_MS: int(10, 3_600_000).default(10_000),
  LIVINGDOCS_BASE_URL: httpUrl,
  // The newest version every maintained Livingdocs release serves (2026-03, 2026-05, 2026-07: a release
  // serves its own version and the older supported ones, [VER] §4, §10); the file import is the same in
  // every version ([F] §4).
  LIVINGDOCS_API_VERSION: z
    .string()
    .regex(/^(v1|beta|\d{4}-\d{2})$/, 'must be v1, beta or a date version like 2026-03')
    .default(DEFAULT_API_VERSION),
  LIVINGDOCS_ACCESS_TOKEN: z.string().min(1).optional(),
  LIVINGDOCS_ACCESS_TOKEN_FILE: z.string().min(1).optional(),
  DEFAULT_SYSTEM_NAME: z.string().min(1).optional(),
  MEDIA_TYPE_KINDS: mediaTypeKinds.default({ image: 'image', video: 'video' }),
  MEDIA_KIND_DETECTION: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true')
    .transform((v) => v === 'true'),
  BATCH_MAX_FILES: int(1, 10_000).default(100),
  BATCH_MAX_BYTES: int(4096, 100_000_000).default(DEFAULT_BATCH_MAX_BYTES),
  BATCH_LINGER_MS: int(0, 600_000).default(1000),
  MAX_JOBS_IN_FLIGHT: int(1, 1000).default(10),
  MAX_FILES_IN_FLIGHT: int(1, 10_000_000).default(10_000),
  STATUS_POLL_INTERVAL_MS: int(100, 600_000).default(5000),
  API_REQUEST_TIMEOUT_MS: int(100, 600_000).default(30_000),
  API_MAX_RETRIES: int(0, 100).default(5),
  COMMIT_INTERVAL_MS: int(0, 600_000).default(1000),
  PUBLISH_STALL_MS: int(1000, 3_600_000).default(60_000),
  PRODUCER_LINGER_MS: int(0, 1000).default(5),
  WEBHOOK_PUBLIC_URL: httpUrl.optional(),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_PORT: int(0, 65535).default(8080),
  METRICS_PORT: int(0, 65535).default(9464),
  SHUTDOWN_GRACE_MS: int(0, 3_600_000).default(30_000),
  LAG_INTERVAL_MS: int(0, 3_600_000).default(15_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WEBHOOK_SECRET: z.string().min(1).optional(),
  WEBHOOK_SECRET_FILE: z.string().min(1).optional(),
  // Several replicas: webhooks that reach a replica not owning the job are forwarded on this topic.
  JOB_NOTIFICATIONS_ENABLED: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true')
    .transform((v) => v === 'true'),
  JOB_NOTIFICATIONS_TOPIC: topic.default('file-import-bridge.job-notifications'),
  // Adoption of running jobs after a rebalance or restart, from a compacted job log topic.
  JOB_LOG_ENABLED: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  JOB_LOG_TOPIC: topic.default('file-import-bridge.job-log'),
  API_RATE_LIMIT_PER_SECOND: int(0, 100_000).default(0),
  API_RETRY_MAX_DELAY_MS: int(100, 3_600_000).default(30_000),
  JOB_TIMEOUT_MS: int(1000, 7 * 24 * 3_600_000).default(3_600_000),
  // Every answer of the import API classified (issue 12). Each bound stays far below a timer's 2^31-1 ms.
  // The longest wait before the API is asked again (a Retry-After, the quota backoff): 15 min.
  API_MAX_HOLD_MS: int(1000, 86_400_000).default(900_000),
  // While the API refuses our credentials or configuration, one request asks again this often, so a
  // fixed token or setting is noticed without a restart.
  API_HOLD_RECHECK_MS: int(100, 3_600_000).default(30_000),
  // How long after its submit a job may be unknown to Livingdocs (404 or `state: "lost"`) without being
  // lost: its status may not be readable at once (the webhook can even come first, [DPA] handler.js).
  JOB_VISIBILITY_GRACE_MS: int(0, 3_600_000).default(60_000),
  FILES_IN_FLIGHT_RESUME_RATIO: z.coerce
    .number()
    .gt(0, 'must be above 0')
    .max(1, 'must be at most 1')
    .default(0.5),
  // The broker only accepts group.min.session.timeout.ms (6 s) .. group.max.session.timeout.ms (30 min).
  KAFKA_SESSION_TIMEOUT_MS: int(6000, 1_800_000).default(30_000),
  KAFKA_FETCH_MAX_BYTES: int(1024, 1_073_741_824).default(10_485_760),
  KAFKA_FETCH_MAX_BYTES_PER_PARTITION: int(1024, 1_073_741_824).default(1_048_576),
  // A mapping from the legacy event to the input event (src/mapping/); read and compiled below.
  MAPPING_FILE: z.string().min(1).optional(),
})

type Env = z.infer<typeof schema>

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
  const parsed = schema.pick({ MEDIA_TYPE_KINDS: true, MEDIA_KIND_DETECTION: true }).safeParse(setOnly(env))
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
 * Reads and validates the settings from `env` (the process environment in production), and the files
 * they name: the secrets' files and `MAPPING_FILE` (read and compiled: src/mapping/compile.ts).
 *
 * @param env environment variables, e.g. `process.env`
 * @returns a deep-frozen {@link Config}
 * @throws BridgeError `CONFIG_INVALID` listing every wrong or missing variable by name, one per line (a
 *   mapping's problems each as `MAPPING_FILE: <path>: <field>: …`)
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const cleaned = setOnly(env)
  const parsed = schema.safeParse(cleaned)
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
  const mapping = cleaned.MAPPING_FILE === undefined ? undefined : loadMapping(cleaned.MAPPING_FILE, problems)
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
        forwardTimeoutMs: FORWARD_TIMEOUT_MS,
      },
      jobLog: {
        enabled: e.JOB_LOG_ENABLED,
        topic: e.JOB_LOG_TOPIC,
        adoptionTimeoutMs: ADOPTION_TIMEOUT_MS,
        catchUpTimeoutMs: JOB_LOG_CATCH_UP_TIMEOUT_MS,
      },
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
