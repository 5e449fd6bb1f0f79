/**
 * Names of the span attributes the bridge sets: the OpenTelemetry semantic conventions' own
 * (https://opentelemetry.io/docs/specs/semconv/: messaging spans and their Kafka page, HTTP client and
 * server spans, `error.type`), written out here as the conventions' package advises for names still
 * in development (most `messaging.*` ones), plus the bridge's own under `livingdocs.import.*`. No
 * attribute ever carries the access token, the webhook signature, or a file's metadata values.
 */

/** `messaging.*` (semantic conventions, messaging spans and Kafka). */
export const MESSAGING = {
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destination: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  consumerGroup: 'messaging.consumer.group.name',
  batchCount: 'messaging.batch.message_count',
  bodySize: 'messaging.message.body.size',
  kafkaOffset: 'messaging.kafka.offset',
  kafkaKey: 'messaging.kafka.message.key',
} as const

/** `http.*`, `url.*`, `server.*` (semantic conventions, HTTP spans). */
export const HTTP = {
  method: 'http.request.method',
  statusCode: 'http.response.status_code',
  route: 'http.route',
  urlFull: 'url.full',
  urlTemplate: 'url.template',
  serverAddress: 'server.address',
  serverPort: 'server.port',
} as const

/** `error.type`: the class of error an operation ended with (an error code, a DLQ reason, a status code). */
export const ERROR_TYPE = 'error.type'

/** The bridge's own attributes. */
export const IMPORT = {
  /** The Livingdocs import job id ([F] §1.1). */
  jobId: 'livingdocs.import.job_id',
  /** `file`, `image` or `video`: the import the files go to ([F] §7). */
  kind: 'livingdocs.import.kind',
  /** The bridge's batch id (the request `context.batchId`). */
  batchId: 'livingdocs.import.batch_id',
  systemName: 'livingdocs.import.system_name',
  externalId: 'livingdocs.import.external_id',
  /** Files of the batch or job. */
  files: 'livingdocs.import.files',
  /** Files by outcome once a job concluded. */
  imported: 'livingdocs.import.files.imported',
  skipped: 'livingdocs.import.files.skipped',
  failed: 'livingdocs.import.files.failed',
  /** What closed a batch (`Batch.closedBy`). */
  closedBy: 'livingdocs.import.batch.closed_by',
  /** Times the batch was submitted before and its job was lost. */
  resubmits: 'livingdocs.import.resubmits',
  /** The job was adopted from the job log (submitted by another process). */
  adopted: 'livingdocs.import.adopted',
  /** How a job span ended: `concluded`, `lost`, `split`, `rejected`, `timeout`, `unsent`, `stopped`. */
  end: 'livingdocs.import.end',
  /** The result event's state: SUCCESS, SKIPPED or FAILED. */
  state: 'livingdocs.import.state',
  /** Why the mapping's filter skipped a record (`rejected`, `no_value`). */
  filtered: 'livingdocs.import.filtered',
} as const
