import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { BridgeError } from './errors.ts'

const csv = z
  .string()
  .transform((s) => s.split(',').map((part) => part.trim()))
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each entry must be host:port')).min(1))

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
  LIVINGDOCS_API_VERSION: z
    .string()
    .regex(/^(v1|beta|\d{4}-\d{2})$/, 'must be v1, beta or a date version like 2026-07')
    .default('2026-07'),
  LIVINGDOCS_ACCESS_TOKEN: z.string().min(1).optional(),
  LIVINGDOCS_ACCESS_TOKEN_FILE: z.string().min(1).optional(),
  DEFAULT_SYSTEM_NAME: z.string().min(1).optional(),
  BATCH_MAX_FILES: int(1, 10_000).default(100),
  BATCH_MAX_BYTES: int(4096, 100_000_000).default(1_000_000),
  BATCH_LINGER_MS: int(0, 600_000).default(1000),
  MAX_JOBS_IN_FLIGHT: int(1, 1000).default(10),
  MAX_FILES_IN_FLIGHT: int(1, 10_000_000).default(10_000),
  STATUS_POLL_INTERVAL_MS: int(100, 600_000).default(5000),
  API_REQUEST_TIMEOUT_MS: int(100, 600_000).default(30_000),
  API_MAX_RETRIES: int(0, 100).default(5),
  COMMIT_INTERVAL_MS: int(0, 600_000).default(1000),
  WEBHOOK_PUBLIC_URL: httpUrl.optional(),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_PORT: int(0, 65535).default(8080),
  METRICS_PORT: int(0, 65535).default(9464),
  SHUTDOWN_GRACE_MS: int(0, 3_600_000).default(30_000),
  LAG_INTERVAL_MS: int(0, 3_600_000).default(15_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Issue 3 (import API under faults, webhook authentication).
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
  FILES_IN_FLIGHT_RESUME_RATIO: z.coerce
    .number()
    .gt(0, 'must be above 0')
    .max(1, 'must be at most 1')
    .default(0.5),
  // The broker only accepts group.min.session.timeout.ms (6 s) .. group.max.session.timeout.ms (30 min).
  KAFKA_SESSION_TIMEOUT_MS: int(6000, 1_800_000).default(30_000),
  KAFKA_FETCH_MAX_BYTES: int(1024, 1_073_741_824).default(10_485_760),
  KAFKA_FETCH_MAX_BYTES_PER_PARTITION: int(1024, 1_073_741_824).default(1_048_576),
})

type Env = z.infer<typeof schema>

/** The validated, frozen settings of one bridge process. Durations in ms, sizes in bytes. */
export interface Config {
  kafka: { brokers: string[]; clientId: string; groupId: string }
  topics: { input: string; result: string; dlq: string }
  /** Create missing topics at start-up (local runs) with `createdTopicPartitions` partitions. */
  createMissingTopics: boolean
  createdTopicPartitions: number
  schemaRegistryUrl: string
  /** Backoff of decoding while the registry cannot be reached: first wait and longest wait, ms. */
  schemaRegistryRetry: { minDelayMs: number; maxDelayMs: number }
  livingdocs: { baseUrl: string; apiVersion: string; accessToken: string }
  defaultSystemName: string | undefined
  batch: { maxFiles: number; maxBytes: number; lingerMs: number }
  maxJobsInFlight: number
  maxFilesInFlight: number
  statusPollIntervalMs: number
  apiRequestTimeoutMs: number
  apiMaxRetries: number
  commitIntervalMs: number
  webhookPublicUrl: string | undefined
  http: { host: string; port: number; metricsPort: number }
  shutdownGraceMs: number
  /** How often consumer lag is measured, ms; 0 = off. */
  lagIntervalMs: number
  logLevel: Env['LOG_LEVEL']
  /** HMAC key that signs each import request's `context` and authenticates webhooks; never logged. */
  webhookSecret: string | undefined
  /**
   * Forwarding of webhooks between replicas: `enabled` only when webhooks are on (`WEBHOOK_PUBLIC_URL`)
   * and `JOB_NOTIFICATIONS_ENABLED` is true; `topic` is the internal topic every replica reads.
   */
  jobNotifications: { enabled: boolean; topic: string }
  /** The compacted job log (`JOB_LOG_ENABLED`, `JOB_LOG_TOPIC`): running jobs are adopted, not resubmitted. */
  jobLog: { enabled: boolean; topic: string }
  /** Most import API requests per second (0 = no limit). */
  apiRateLimitPerSecond: number
  /** Longest backoff between two attempts, ms; a longer Retry-After ends the client's retries. */
  apiRetryMaxDelayMs: number
  /** How long an import job may stay unfinished before its files fail with reason `timeout`, ms. */
  jobTimeoutMs: number
  /** Fetching resumes once files in flight fall to `maxFilesInFlight * filesInFlightResumeRatio`. */
  filesInFlightResumeRatio: number
  /** Consumer group member settings: session timeout (ms) and fetch sizes (bytes, KIP-74). */
  consumer: { sessionTimeoutMs: number; fetchMaxBytes: number; fetchMaxBytesPerPartition: number }
}

/**
 * Reads and validates the settings from `env` (the process environment in production).
 *
 * @param env environment variables, e.g. `process.env`
 * @returns a deep-frozen {@link Config}
 * @throws BridgeError `CONFIG_INVALID` listing every wrong or missing variable by name, one per line
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Empty strings count as unset, as in most twelve-factor tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
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
  if (!parsed.success || problems.length > 0 || accessToken === undefined) {
    throw new BridgeError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, {
      context: { problems },
    })
  }
  const e = parsed.data
  return deepFreeze({
    kafka: { brokers: e.KAFKA_BROKERS, clientId: e.KAFKA_CLIENT_ID, groupId: e.KAFKA_GROUP_ID },
    topics: { input: e.INPUT_TOPIC, result: e.RESULT_TOPIC, dlq: e.DLQ_TOPIC },
    createMissingTopics: e.CREATE_MISSING_TOPICS,
    createdTopicPartitions: e.CREATED_TOPIC_PARTITIONS,
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL,
    schemaRegistryRetry: {
      minDelayMs: e.SCHEMA_REGISTRY_RETRY_MIN_MS,
      maxDelayMs: Math.max(e.SCHEMA_REGISTRY_RETRY_MIN_MS, e.SCHEMA_REGISTRY_RETRY_MAX_MS),
    },
    livingdocs: {
      baseUrl: e.LIVINGDOCS_BASE_URL.replace(/\/+$/, ''),
      apiVersion: e.LIVINGDOCS_API_VERSION,
      accessToken,
    },
    defaultSystemName: e.DEFAULT_SYSTEM_NAME,
    batch: { maxFiles: e.BATCH_MAX_FILES, maxBytes: e.BATCH_MAX_BYTES, lingerMs: e.BATCH_LINGER_MS },
    maxJobsInFlight: e.MAX_JOBS_IN_FLIGHT,
    maxFilesInFlight: e.MAX_FILES_IN_FLIGHT,
    statusPollIntervalMs: e.STATUS_POLL_INTERVAL_MS,
    apiRequestTimeoutMs: e.API_REQUEST_TIMEOUT_MS,
    apiMaxRetries: e.API_MAX_RETRIES,
    commitIntervalMs: e.COMMIT_INTERVAL_MS,
    webhookPublicUrl: e.WEBHOOK_PUBLIC_URL,
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT, metricsPort: e.METRICS_PORT },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    lagIntervalMs: e.LAG_INTERVAL_MS,
    logLevel: e.LOG_LEVEL,
    webhookSecret,
    jobNotifications: {
      enabled: e.JOB_NOTIFICATIONS_ENABLED && e.WEBHOOK_PUBLIC_URL !== undefined,
      topic: e.JOB_NOTIFICATIONS_TOPIC,
    },
    jobLog: { enabled: e.JOB_LOG_ENABLED, topic: e.JOB_LOG_TOPIC },
    apiRateLimitPerSecond: e.API_RATE_LIMIT_PER_SECOND,
    apiRetryMaxDelayMs: e.API_RETRY_MAX_DELAY_MS,
    jobTimeoutMs: e.JOB_TIMEOUT_MS,
    filesInFlightResumeRatio: e.FILES_IN_FLIGHT_RESUME_RATIO,
    consumer: {
      sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      fetchMaxBytes: e.KAFKA_FETCH_MAX_BYTES,
      fetchMaxBytesPerPartition: e.KAFKA_FETCH_MAX_BYTES_PER_PARTITION,
    },
  })
}

function readAccessToken(
  e: Pick<Env, 'LIVINGDOCS_ACCESS_TOKEN' | 'LIVINGDOCS_ACCESS_TOKEN_FILE'>,
  problems: string[],
): string | undefined {
  if (e.LIVINGDOCS_ACCESS_TOKEN !== undefined && e.LIVINGDOCS_ACCESS_TOKEN_FILE !== undefined) {
    problems.push(
      'LIVINGDOCS_ACCESS_TOKEN: set either LIVINGDOCS_ACCESS_TOKEN or LIVINGDOCS_ACCESS_TOKEN_FILE, not both',
    )
    return undefined
  }
  if (e.LIVINGDOCS_ACCESS_TOKEN !== undefined) return e.LIVINGDOCS_ACCESS_TOKEN
  if (e.LIVINGDOCS_ACCESS_TOKEN_FILE !== undefined) {
    try {
      const token = readFileSync(e.LIVINGDOCS_ACCESS_TOKEN_FILE, 'utf8').trim()
      if (token !== '') return token
      problems.push('LIVINGDOCS_ACCESS_TOKEN_FILE: the file is empty')
    } catch (err) {
      problems.push(
        `LIVINGDOCS_ACCESS_TOKEN_FILE: cannot read the file (${(err as NodeJS.ErrnoException).code})`,
      )
    }
    return undefined
  }
  problems.push('LIVINGDOCS_ACCESS_TOKEN: is required (or LIVINGDOCS_ACCESS_TOKEN_FILE)')
  return undefined
}

/** Shortest accepted webhook secret, in characters (an HMAC key should not be guessable). */
const MIN_WEBHOOK_SECRET_LENGTH = 16

/**
 * `WEBHOOK_SECRET` or `WEBHOOK_SECRET_FILE` (a mounted Secret), required when `WEBHOOK_PUBLIC_URL` is
 * set: without it webhooks could not be authenticated. Problems name the setting, never the value.
 */
function readWebhookSecret(env: Record<string, string | undefined>, problems: string[]): string | undefined {
  const value = env.WEBHOOK_SECRET
  const file = env.WEBHOOK_SECRET_FILE
  if (value !== undefined && file !== undefined) {
    problems.push('WEBHOOK_SECRET: set either WEBHOOK_SECRET or WEBHOOK_SECRET_FILE, not both')
    return undefined
  }
  let secret = value
  if (file !== undefined) {
    try {
      secret = readFileSync(file, 'utf8').trim()
    } catch (err) {
      problems.push(`WEBHOOK_SECRET_FILE: cannot read the file (${(err as NodeJS.ErrnoException).code})`)
      return undefined
    }
  }
  const name = file === undefined ? 'WEBHOOK_SECRET' : 'WEBHOOK_SECRET_FILE'
  if (file !== undefined && secret === '') {
    problems.push('WEBHOOK_SECRET_FILE: the file is empty')
    return undefined
  }
  if (secret === undefined) {
    if (env.WEBHOOK_PUBLIC_URL !== undefined) {
      problems.push(
        'WEBHOOK_SECRET: is required when WEBHOOK_PUBLIC_URL is set (or WEBHOOK_SECRET_FILE); it authenticates the webhooks',
      )
    }
    return undefined
  }
  if (secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    problems.push(`${name}: must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`)
    return undefined
  }
  return secret
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
