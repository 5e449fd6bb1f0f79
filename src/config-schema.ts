/**
 * Every setting of the bridge, read from the environment variable of the same name: its rule and its
 * default side by side. src/config.ts validates the environment with {@link envSchema} and groups what
 * it gives into each component's options.
 */

import { z } from 'zod'
import type { MediaKind } from './model/files.ts'

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
export const envSchema = z.object({
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
  // A mapping from the legacy event to the input event (src/mapping/); read and compiled by `loadConfig`.
  MAPPING_FILE: z.string().min(1).optional(),
})

/** The settings as the schema gives them: defaults applied, values converted. */
export type Env = z.infer<typeof envSchema>
