import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { ANSWER_CLASSES, API_ENDPOINTS, DLQ_REASONS } from './errors.ts'
import { createMigrationMetrics } from './metrics-migration.ts'
import { FILTER_REASONS, MEDIA_KINDS } from './model/files.ts'

/** Outcome states of a file, as published on the result topic. */
export const FILE_STATES = ['SUCCESS', 'SKIPPED', 'FAILED'] as const
/** Why requests to the import API are held (`bridge_api_hold{cause}`). */
export const API_HOLD_CAUSES = ['credentials', 'configuration', 'quota'] as const
export type ApiHoldCause = (typeof API_HOLD_CAUSES)[number]

/**
 * Creates the bridge's own Prometheus registry (not the global one) with every metric and the
 * Node.js process metrics. Label values come from closed sets; known combinations are zeroed so
 * dashboards see series from the start.
 *
 * @returns the registry and typed metric handles
 */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const registers = [registry]

  const eventsConsumed = new Counter({
    name: 'bridge_events_consumed_total',
    help: 'File-created records consumed from the input topic.',
    registers,
  })
  const eventsInvalid = new Counter({
    name: 'bridge_events_invalid_total',
    help: 'Records that could not be decoded or validated, sent to the DLQ, by reason code.',
    labelNames: ['reason'] as const,
    registers,
  })
  const eventsFiltered = new Counter({
    name: 'bridge_events_filtered_total',
    help: "Records the mapping's filter skipped (committed without a result or DLQ record), by reason.",
    labelNames: ['reason'] as const,
    registers,
  })
  const dlqRecords = new Counter({
    name: 'bridge_dlq_records_total',
    help: 'Records published to the DLQ topic.',
    registers,
  })
  const batchesSubmitted = new Counter({
    name: 'bridge_batches_submitted_total',
    help: 'Batches submitted to the import API as import jobs, by import kind (file, image, video).',
    labelNames: ['kind'] as const,
    registers,
  })
  const batchFiles = new Histogram({
    name: 'bridge_batch_size_files',
    help: 'Files per submitted batch.',
    buckets: [1, 5, 10, 25, 50, 100, 200, 500, 1000],
    registers,
  })
  const batchBytes = new Histogram({
    name: 'bridge_batch_size_bytes',
    help: 'JSON request body size of submitted batches, in bytes.',
    buckets: [1e3, 1e4, 5e4, 1e5, 5e5, 1e6, 5e6],
    registers,
  })
  const apiRequests = new Counter({
    name: 'bridge_api_requests_total',
    help: 'Requests to the Livingdocs import API by endpoint and HTTP status (0 = no response).',
    labelNames: ['endpoint', 'status'] as const,
    registers,
  })
  const apiRequestDuration = new Histogram({
    name: 'bridge_api_request_duration_seconds',
    help: 'Duration of Livingdocs import API requests, including retries, in seconds.',
    labelNames: ['endpoint'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  })
  const jobsInFlight = new Gauge({
    name: 'bridge_jobs_in_flight',
    help: 'Import jobs submitted and not yet finished.',
    registers,
  })
  const jobDuration = new Histogram({
    name: 'bridge_job_duration_seconds',
    help: 'Time from job submission to its finished status, in seconds, by job state.',
    labelNames: ['state'] as const,
    // Up to JOB_TIMEOUT_MS's default (1 h) and largest value (7 days): a slow job gets a bucket, not +Inf.
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21_600, 86_400, 259_200, 604_800],
    registers,
  })
  const files = new Counter({
    name: 'bridge_files_total',
    help: 'Result events published, by outcome state and import kind (file, image, video).',
    labelNames: ['state', 'kind'] as const,
    registers,
  })
  const reimportsSkipped = new Counter({
    name: 'bridge_reimports_skipped_total',
    help: 'SKIPPED results with reason "already exists": a systemName/externalId imported before, which Livingdocs did not update, by import kind.',
    labelNames: ['kind'] as const,
    registers,
  })
  const filesInFlight = new Gauge({
    name: 'bridge_files_in_flight',
    help: 'Consumed records not yet settled (buffered, submitted or publishing).',
    registers,
  })
  const webhooksReceived = new Counter({
    name: 'bridge_webhooks_received_total',
    help: 'Import job webhooks received, by outcome (known job, unknown job, invalid body, unauthorized).',
    labelNames: ['outcome'] as const,
    registers,
  })
  const offsetsCommitted = new Counter({
    name: 'bridge_offset_commits_total',
    help: 'Offset commits sent to the consumer group coordinator.',
    registers,
  })
  const eventToResult = new Histogram({
    name: 'bridge_event_to_result_seconds',
    help: 'Time from consuming a record to publishing its result event, in seconds.',
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers,
  })

  // Metrics of issues 3 and 4, defined here first so every branch uses the same names; each is
  // updated by the module named in its help text's owner.
  const apiAttempts = new Counter({
    name: 'bridge_api_attempts_total',
    help: 'Every HTTP attempt to the import API, retried ones included, by endpoint and status (0 = no response).',
    labelNames: ['endpoint', 'status'] as const,
    registers,
  })
  const apiAuthFailures = new Counter({
    name: 'bridge_api_auth_failures_total',
    help: 'Import API answers 401 or 403: the access token is missing, wrong or lacks a scope.',
    registers,
  })
  const jobsTimedOut = new Counter({
    name: 'bridge_jobs_timed_out_total',
    help: 'Import jobs that did not finish within JOB_TIMEOUT_MS.',
    registers,
  })
  const consumerLag = new Gauge({
    name: 'bridge_consumer_lag',
    help: 'Consumer lag in records per input partition: log-end offset minus the committed offset.',
    labelNames: ['topic', 'partition'] as const,
    registers,
  })
  const fetchPaused = new Gauge({
    name: 'bridge_fetch_paused',
    help: '1 while fetching is paused by backpressure (MAX_FILES_IN_FLIGHT or MAX_BYTES_IN_FLIGHT reached), else 0.',
    registers,
  })
  // Scale out safely (issue 26): memory bounded by bytes, the API budget shared by the group.
  const bytesInFlight = new Gauge({
    name: 'bridge_bytes_in_flight',
    help: 'Bytes of the records consumed and not yet settled (value and key), against MAX_BYTES_IN_FLIGHT.',
    registers,
  })
  const apiBudget = new Gauge({
    name: 'bridge_api_budget',
    help: "This replica's limits on the import API: its share of the group's MAX_JOBS_IN_FLIGHT (limit=jobs_in_flight) and API_RATE_LIMIT_PER_SECOND (limit=requests_per_second, 0 = none), updated at each rebalance.",
    labelNames: ['limit'] as const,
    registers,
  })

  // Several replicas (issue 3): webhooks forwarded to the replica that owns the job.
  const jobNotifications = new Counter({
    name: 'bridge_job_notifications_total',
    help: 'Job notifications on the internal topic: forwarded (a webhook for a job this replica does not own, published) or received (read for a job this replica owns, status read triggered).',
    labelNames: ['direction'] as const,
    registers,
  })
  const jobNotificationForwardFailures = new Counter({
    name: 'bridge_job_notification_forward_failures_total',
    help: 'Webhooks that could not be forwarded to the internal topic in time (answered 503; the status poller still finishes the job).',
    registers,
  })

  const jobsAdopted = new Counter({
    name: 'bridge_jobs_adopted_total',
    help: 'Import jobs found running in the job log after a rebalance or restart and followed instead of submitted again.',
    registers,
  })
  const filesRegained = new Counter({
    name: 'bridge_files_regained_total',
    help: 'Records consumed again after their partition was revoked and assigned back to this replica that it does not import again: files of import jobs it still follows (taken back), or records whose results it had published, or (job log on) the job log marks published, on a partition newly assigned (settled at once).',
    registers,
  })
  const resultsFenced = new Counter({
    name: 'bridge_results_fenced_total',
    help: "Results of concluded import jobs this replica did not publish (job log on): left to the partition's new owner (outcome=left_to_owner), or already published by another replica per the job log (outcome=published_elsewhere).",
    labelNames: ['outcome'] as const,
    registers,
  })
  const decodeRetries = new Counter({
    name: 'bridge_decode_retries_total',
    help: 'Decodes that failed for a transient reason (schema registry unreachable or failing) and wait to be retried; never DLQ records.',
    registers,
  })

  // Every answer of the import API classified (issue 12): one class, one behaviour (docs/import-api.md).
  const apiAnswers = new Counter({
    name: 'bridge_api_answers_total',
    help: 'Final answers of the import API by endpoint and class (accepted, retry, quota, credentials, configuration, job-unknown, unreadable, batch-data, file-data).',
    labelNames: ['endpoint', 'class'] as const,
    registers,
  })
  const apiHold = new Gauge({
    name: 'bridge_api_hold',
    help: '1 while requests to the import API are held, by cause: credentials (401/403), configuration (base URL or API version), quota (429 usage limit); else 0.',
    labelNames: ['cause'] as const,
    registers,
  })
  // Issue 24: Livingdocs' deprecation notices (src/import/deprecation.ts).
  const apiDeprecationNotices = new Counter({
    name: 'bridge_api_deprecation_notices_total',
    help: 'Answers of the Livingdocs API that announce the API version in use as deprecated (Deprecation, Sunset, Warning or another deprecation header), by version: move LIVINGDOCS_API_VERSION before it answers 410 Gone.',
    labelNames: ['version'] as const,
    registers,
  })
  // Issue 24: after a job concludes, its files checked against the media library (src/jobs/existing-entries.ts).
  const timeoutLookups = new Counter({
    name: 'bridge_timeout_lookups_total',
    help: "Files of import jobs that timed out, looked up by systemName and externalId: found (published SUCCESS with the entry's mediaId), not-found (FAILED timeout), refused (the token may not read the media library: FAILED timeout, as without a look-up).",
    labelNames: ['outcome'] as const,
    registers,
  })
  const existingEntries = new Counter({
    name: 'bridge_existing_entries_total',
    help: 'Files Livingdocs skipped as already existing whose entry the bridge checked (ON_EXISTING=metadata): updated (one PATCH), unchanged (no PATCH), conflict (an editor changed the entry at every try, or it is gone: FAILED), rejected (Livingdocs refused the metadata: FAILED).',
    labelNames: ['outcome'] as const,
    registers,
  })
  const existingContentChanged = new Counter({
    name: 'bridge_existing_entries_content_changed_total',
    help: "Existing entries whose stored checksum differs from the event's (CHECKSUM_METADATA_PROPERTY): the legacy file's bytes changed; Livingdocs keeps the old ones (no public endpoint replaces them).",
    registers,
  })
  const jobResultsUnmatched = new Counter({
    name: 'bridge_job_results_unmatched_total',
    help: 'Per-file results of finished import jobs that do not match the batch: missing (a file without a result, after a second read) or unexpected (a result for an id not in the batch; never published).',
    labelNames: ['kind'] as const,
    registers,
  })
  for (const endpoint of API_ENDPOINTS)
    for (const cls of ANSWER_CLASSES) apiAnswers.inc({ endpoint, class: cls }, 0)
  for (const cause of API_HOLD_CAUSES) apiHold.set({ cause }, 0)
  for (const kind of ['missing', 'unexpected']) jobResultsUnmatched.inc({ kind }, 0)
  for (const outcome of ['found', 'not-found', 'refused']) timeoutLookups.inc({ outcome }, 0)
  for (const outcome of ['updated', 'unchanged', 'conflict', 'rejected']) existingEntries.inc({ outcome }, 0)
  // Publishing (src/outcome/outcome-publisher.ts).
  const publishFailures = new Counter({
    name: 'bridge_publish_failures_total',
    help: 'Failed attempts to publish result events (kind="result") or DLQ records (kind="dlq"); each is retried.',
    labelNames: ['kind'] as const,
    registers,
  })
  const publishStalled = new Gauge({
    name: 'bridge_publish_stalled',
    help: '1 while a result or DLQ send has kept failing for longer than PUBLISH_STALL_MS (the bridge is not ready), else 0.',
    registers,
  })
  const dlqValuesOmitted = new Counter({
    name: 'bridge_dlq_values_omitted_total',
    help: 'DLQ records written without the original value (and, if still too large, key and headers) because the broker refused the full copy as too large.',
    registers,
  })

  // The loop guard of redrives (src/events/redrive-guard.ts, docs/redrive.md).
  const redrivenRecords = new Counter({
    name: 'bridge_redriven_records_total',
    help: 'Consumed records that carry a redrive attempt header, by outcome: processed, or limit_reached (the attempt reached REDRIVE_MAX_ATTEMPTS: sent to the DLQ with REDRIVE_LIMIT_REACHED, not processed).',
    labelNames: ['outcome'] as const,
    registers,
  })

  for (const reason of DLQ_REASONS) eventsInvalid.inc({ reason }, 0)
  for (const outcome of ['processed', 'limit_reached']) redrivenRecords.inc({ outcome }, 0)
  for (const reason of FILTER_REASONS) eventsFiltered.inc({ reason }, 0)
  for (const kind of ['result', 'dlq']) publishFailures.inc({ kind }, 0)
  for (const direction of ['forwarded', 'received']) jobNotifications.inc({ direction }, 0)
  // A webhook for a job another replica may own, forwarded on the job notifications topic.
  webhooksReceived.inc({ outcome: 'forwarded' }, 0)
  for (const kind of MEDIA_KINDS) {
    for (const state of FILE_STATES) files.inc({ state, kind }, 0)
    batchesSubmitted.inc({ kind }, 0)
    reimportsSkipped.inc({ kind }, 0)
  }
  for (const outcome of ['left_to_owner', 'published_elsewhere']) resultsFenced.inc({ outcome }, 0)
  for (const outcome of ['accepted', 'unknown_job', 'invalid']) webhooksReceived.inc({ outcome }, 0)
  webhooksReceived.inc({ outcome: 'unauthorized' }, 0)

  return {
    registry,
    eventsConsumed,
    eventsInvalid,
    eventsFiltered,
    dlqRecords,
    batchesSubmitted,
    reimportsSkipped,
    batchFiles,
    batchBytes,
    apiRequests,
    apiRequestDuration,
    jobsInFlight,
    jobDuration,
    files,
    filesInFlight,
    webhooksReceived,
    offsetsCommitted,
    eventToResult,
    apiAttempts,
    apiAuthFailures,
    jobsTimedOut,
    consumerLag,
    fetchPaused,
    bytesInFlight,
    apiBudget,
    jobNotifications,
    jobNotificationForwardFailures,
    jobsAdopted,
    filesRegained,
    resultsFenced,
    decodeRetries,
    apiAnswers,
    apiHold,
    apiDeprecationNotices,
    timeoutLookups,
    existingEntries,
    existingContentChanged,
    jobResultsUnmatched,
    publishFailures,
    publishStalled,
    dlqValuesOmitted,
    redrivenRecords,
    // Progress of a migration and what an operator asks for (src/metrics-migration.ts).
    ...createMigrationMetrics(registry),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
