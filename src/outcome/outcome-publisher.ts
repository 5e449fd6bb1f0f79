import pRetry from 'p-retry'
import { PUBLISH_BACKOFF, pRetryBackoff } from '../backoff.ts'
import type { SchemaCodec } from '../events/registry.ts'
import type { IdempotentProducer, OutgoingMessage } from '../kafka/producer.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type {
  ConsumedRecord,
  DecodeFailure,
  PendingFile,
  RecordPosition,
  SettledJob,
} from '../pipeline/types.ts'
import { drainInFlight } from '../timeouts.ts'
import { ALREADY_EXISTS, buildResultEvent, type FileImportResult, resultKey } from './outcome-event.ts'

/** DLQ header names; values are UTF-8 strings. The original key, value and headers are kept. */
export const DLQ_HEADERS = {
  reason: 'dlq.reason',
  message: 'dlq.message',
  topic: 'dlq.source.topic',
  partition: 'dlq.source.partition',
  offset: 'dlq.source.offset',
  timestamp: 'dlq.source.timestamp',
  failedAt: 'dlq.failed.at',
} as const

/** Options of the {@link OutcomePublisher}. */
export interface OutcomePublisherOptions {
  resultTopic: string
  dlqTopic: string
  /** Registry id of schemas/file-import-result.avsc under `<resultTopic>-value`. */
  resultSchemaId: number
}

/**
 * Publishes one result event per file of a settled job, and DLQ records for unusable input, then
 * reports the source positions as settled (so their offsets may be committed). Sends are retried with
 * exponential backoff until they succeed or the publisher is closed: a result is never dropped.
 */
export class OutcomePublisher {
  readonly #options: OutcomePublisherOptions
  readonly #producer: IdempotentProducer
  readonly #codec: SchemaCodec
  readonly #metrics: Metrics
  readonly #logger: Logger
  readonly #onSettled: (positions: RecordPosition[], files: PendingFile[]) => void
  readonly #pending = new Set<Promise<unknown>>()
  readonly #abort = new AbortController()

  constructor(
    options: OutcomePublisherOptions,
    deps: {
      producer: IdempotentProducer
      codec: SchemaCodec
      metrics: Metrics
      logger: Logger
      /** Called once sends are acknowledged: the source positions, and the files of a job (none for DLQ). */
      onSettled: (positions: RecordPosition[], files: PendingFile[]) => void
    },
  ) {
    this.#options = options
    this.#producer = deps.producer
    this.#codec = deps.codec
    this.#metrics = deps.metrics
    this.#logger = deps.logger.child({ component: 'outcome-publisher' })
    this.#onSettled = deps.onSettled
  }

  /** Sends not yet acknowledged. */
  get pending(): number {
    return this.#pending.size
  }

  /**
   * Publishes the result events of `job` (in the background; see {@link drain}).
   * @returns resolves true once all are acknowledged, false when the publisher was closed first
   */
  publishJob(job: SettledJob): Promise<boolean> {
    const completedAt = Date.now()
    const results = job.outcomes.map(({ file, outcome }) => ({
      file,
      result: buildResultEvent(file, outcome, job.jobId, completedAt),
    }))
    return this.#track(async () => {
      const messages: OutgoingMessage[] = []
      for (const { file, result } of results) {
        messages.push({
          key: resultKey(result),
          value: await this.#codec.encode(this.#options.resultSchemaId, result),
          headers: file.headers ?? {},
        })
      }
      await this.#send(this.#options.resultTopic, messages, { jobId: job.jobId, batchId: job.batch.id })
      const now = Date.now()
      // One labelled increment per state, not per file (prom-client hashes the labels on each call).
      const byState = { SUCCESS: 0, SKIPPED: 0, FAILED: 0 }
      for (const { file, result } of results) {
        byState[result.state]++
        this.#metrics.eventToResult.observe((now - file.consumedAt) / 1000)
      }
      const kind = job.batch.kind
      for (const [state, count] of Object.entries(byState))
        if (count > 0) this.#metrics.files.inc({ state, kind }, count)
      const reimports = results.filter(
        (r) => r.result.state === 'SKIPPED' && r.result.reason === ALREADY_EXISTS,
      )
      if (reimports.length > 0) this.#metrics.reimportsSkipped.inc({ kind }, reimports.length)
      this.#onSettled(
        results.map((r) => r.file.position),
        results.map((r) => r.file),
      )
    })
  }

  /** Sends `record` unchanged to the DLQ with the reason and its source position in headers. */
  publishDlq(record: ConsumedRecord, failure: DecodeFailure): void {
    this.#metrics.eventsInvalid.inc({ reason: failure.reason })
    this.#logger.warn(
      {
        reason: failure.reason,
        detail: failure.message,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
      },
      'record sent to the DLQ',
    )
    this.#track(async () => {
      await this.#send(
        this.#options.dlqTopic,
        [
          {
            key: record.key,
            value: record.value ?? Buffer.alloc(0),
            headers: {
              ...record.headers,
              [DLQ_HEADERS.reason]: failure.reason,
              [DLQ_HEADERS.message]: failure.message.slice(0, 1000),
              [DLQ_HEADERS.topic]: record.topic,
              [DLQ_HEADERS.partition]: String(record.partition),
              [DLQ_HEADERS.offset]: record.offset,
              [DLQ_HEADERS.timestamp]: String(record.timestamp),
              [DLQ_HEADERS.failedAt]: new Date().toISOString(),
            },
          },
        ],
        { reason: failure.reason },
      )
      this.#metrics.dlqRecords.inc()
      this.#onSettled([{ topic: record.topic, partition: record.partition, offset: record.offset }], [])
    })
  }

  /** Waits for every send in progress, at most `timeoutMs`. @returns true when all finished */
  drain(timeoutMs: number): Promise<boolean> {
    return drainInFlight(this.#pending, timeoutMs)
  }

  /** Stops retrying sends in progress (their records stay uncommitted and are consumed again). */
  close(): void {
    this.#abort.abort()
  }

  #track(work: () => Promise<void>): Promise<boolean> {
    const promise = work()
      .then(() => true)
      .catch((err: unknown) => {
        if (!this.#abort.signal.aborted) this.#logger.error({ err }, 'publishing failed permanently')
        return false
      })
      .finally(() => this.#pending.delete(promise))
    this.#pending.add(promise)
    return promise
  }

  async #send(topic: string, messages: OutgoingMessage[], context: Record<string, unknown>): Promise<void> {
    await pRetry(() => this.#producer.send(topic, messages), {
      ...pRetryBackoff(PUBLISH_BACKOFF),
      signal: this.#abort.signal,
      onFailedAttempt: ({ error, attemptNumber, retryDelay }) => {
        this.#logger.warn(
          { err: error, topic, attemptNumber, retryDelay, ...context },
          'publish failed; retrying',
        )
      },
    })
  }
}

export type { FileImportResult }
