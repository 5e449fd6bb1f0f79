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
/** How the OTLP exporter sends spans: protobuf or JSON over HTTP, or gRPC. */
const otlpProtocol = z.enum(['http/protobuf', 'http/json', 'grpc'], {
  error: 'must be http/protobuf, http/json or grpc',
})

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
  // Longest one registry request may take before it counts as failed and is asked again.
  SCHEMA_REGISTRY_REQUEST_TIMEOUT_MS: int(100, 600_000).default(10_000),
  LIVINGDOCS_BASE_URL: httpUrl,
  // A version every maintained Livingdocs release serves (a release serves its own version and the older
  // supported ones, [VER] §4; 2026-03 … 2026-09 are released, §11.5), and the first with the media
  // library's `{results}` answers and `preserveUpdatedAt` (§11.5); the file import is the same in every
  // version ([F] §4). The Helm chart's default is the same (test/unit/deploy/chart-defaults.test.ts).
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
  // Bytes of the records consumed and not yet settled at which fetching pauses; without it a quarter of
  // the heap limit the process runs with (src/config.ts `defaultMaxBytesInFlight`).
  MAX_BYTES_IN_FLIGHT: int(1024, Number.MAX_SAFE_INTEGER).optional(),
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
  // The time constant of the smoothed rate of bridge_backlog_records_per_second (and its ETA).
  BACKLOG_RATE_WINDOW_MS: int(1000, 86_400_000).default(300_000),
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
  // The admin API on the operations port (src/admin/): on only with a token; pause state on this topic.
  ADMIN_TOKEN: z.string().min(1).optional(),
  ADMIN_TOKEN_FILE: z.string().min(1).optional(),
  CONTROL_TOPIC: topic.default('file-import-bridge.control'),
  API_RATE_LIMIT_PER_SECOND: int(0, 100_000).default(0),
  // Whose limits API_RATE_LIMIT_PER_SECOND and MAX_JOBS_IN_FLIGHT are: the consumer group's, shared by
  // its members' partitions (src/jobs/api-budget.ts), or each replica's own.
  API_LIMITS_SCOPE: z.enum(['group', 'replica'], { error: 'must be group or replica' }).default('group'),
  // How long start-up waits for the broker and the schema registry, retrying what failed on the way
  // (timeouts, 5xx, refused connections), before it gives up (src/startup.ts).
  STARTUP_TIMEOUT_MS: int(1000, 3_600_000).default(60_000),
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
  // Longest evaluation of one event's mapping expressions (src/mapping/guardrails.ts): past it the event
  // is MAPPING_FAILED and the consumer goes on.
  MAPPING_TIMEOUT_MS: int(10, 60_000).default(1000),
  // The loop guard of redrives (src/events/redrive-guard.ts): a record whose redrive attempt header
  // reached it goes to the DLQ (REDRIVE_LIMIT_REACHED) instead of being processed again.
  REDRIVE_MAX_ATTEMPTS: int(1, 1000).default(3),
  // Issue 24: a file Livingdocs skips as `already exists` is published as it is (skip), or its entry's
  // metadata is made the event's first (metadata: the token then needs public-api:read, [ML] §11.2).
  ON_EXISTING: z.enum(['skip', 'metadata'], { error: 'must be skip or metadata' }).default('skip'),
  // The metadata property (a handle of the mediaTypes' metadata) that stores the event's `checksum`.
  CHECKSUM_METADATA_PROPERTY: z
    .string()
    .regex(
      /^[^\s"]{1,200}$/,
      'must be a metadata property handle: no spaces or quotes, at most 200 characters',
    )
    .optional(),
  // OpenTelemetry traces (docs/traces.md): the SDK reads these variables itself (their names and meaning
  // are OpenTelemetry's, https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/);
  // checked here so that a typo stops start-up naming the variable instead of being ignored by the SDK.
  OTEL_SDK_DISABLED: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  OTEL_TRACES_EXPORTER: z
    .string()
    .transform((s) => s.split(',').map((part) => part.trim()))
    .pipe(z.array(z.enum(['otlp', 'console', 'none'], { error: 'each entry must be otlp, console or none' })))
    .optional(),
  OTEL_TRACES_SAMPLER: z
    .enum(
      [
        'always_on',
        'always_off',
        'traceidratio',
        'parentbased_always_on',
        'parentbased_always_off',
        'parentbased_traceidratio',
      ],
      { error: 'must be always_on, always_off, traceidratio, or one of them prefixed with parentbased_' },
    )
    .optional(),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
  // Read by the SDK as they are (the spans' service.name, more resource attributes); listed as settings.
  OTEL_SERVICE_NAME: z.string().optional(),
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
})

/** The settings as the schema gives them: defaults applied, values converted. */
export type Env = z.infer<typeof envSchema>

/**
 * The settings that name a topic, the input first. Each must name a topic of its own: a DLQ record or
 * result event written to the input topic would be consumed again (a redrive loop nobody started), and
 * two internal streams on one topic would read each other's records (issue 24).
 */
export const TOPIC_SETTINGS = [
  'INPUT_TOPIC',
  'DLQ_TOPIC',
  'RESULT_TOPIC',
  'JOB_NOTIFICATIONS_TOPIC',
  'JOB_LOG_TOPIC',
] as const

/**
 * One problem per pair of {@link TOPIC_SETTINGS} that name the same topic, each naming both settings
 * (`DLQ_TOPIC: names the same topic as INPUT_TOPIC (…)`), whether or not the feature that uses the
 * topic is on: a collision is a mistake waiting for the day it is turned on. Empty when all differ.
 */
export function sharedTopicProblems(env: Pick<Env, (typeof TOPIC_SETTINGS)[number]>): string[] {
  const problems: string[] = []
  TOPIC_SETTINGS.forEach((name, i) => {
    for (const earlier of TOPIC_SETTINGS.slice(0, i)) {
      if (env[name] !== env[earlier]) continue
      const why =
        earlier === 'INPUT_TOPIC'
          ? 'the bridge would consume what it writes there as input'
          : 'their records would mix'
      problems.push(
        `${name}: names the same topic as ${earlier} (${env[name]}); each topic setting needs a topic of its own (${why})`,
      )
    }
  })
  return problems
}

/**
 * With a mapping: a runaway event holds the consumer's event loop for up to three evaluations (the
 * filter, the fields, the naming of the failed field: src/mapping/mapping.ts), and the consumer
 * heartbeats only between events (src/pipeline/intake.ts), so `3 × MAPPING_TIMEOUT_MS` must stay within
 * half of `KAFKA_SESSION_TIMEOUT_MS` (the other half for a heartbeat due before it and a loaded
 * machine), or one such event costs the member its partitions, and every later start meets it again.
 * One problem naming both settings, or none.
 */
export function mappingTimeoutProblems(
  env: Pick<Env, 'MAPPING_TIMEOUT_MS' | 'KAFKA_SESSION_TIMEOUT_MS'>,
): string[] {
  const most = Math.floor(env.KAFKA_SESSION_TIMEOUT_MS / 6)
  if (env.MAPPING_TIMEOUT_MS <= most) return []
  return [
    `MAPPING_TIMEOUT_MS: ${env.MAPPING_TIMEOUT_MS} is too long for KAFKA_SESSION_TIMEOUT_MS ${env.KAFKA_SESSION_TIMEOUT_MS}: an event that runs away holds the consumer for up to 3 × MAPPING_TIMEOUT_MS, which must stay within half the session timeout (at most ${most} here)`,
  ]
}
