import pRetry from 'p-retry'
import { PUBLISH_BACKOFF, pRetryBackoff } from '../backoff.ts'
import { isRecordTooLarge, isUnrecoverable } from '../kafka/kafka-errors.ts'
import type { IdempotentProducer, OutgoingMessage } from '../kafka/producer.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { type FailureClass, failureClass } from '../model/failure-reasons.ts'
import type { DecodeFailure, PendingFile } from '../model/files.ts'
import type { ConcludedJob } from '../model/outcomes.ts'
import type { ConsumedRecord, RecordPosition } from '../model/records.ts'
import type { SchemaCodec } from '../registry/registry.ts'
import { UNKNOWN_WRITER } from '../registry/wire-format.ts'
import type { BridgeTracing } from '../telemetry/bridge-tracing.ts'
import { drainInFlight } from '../timeouts.ts'
import { DLQ_HEADERS, dlqCopy } from './dlq-record.ts'
import { ALREADY_EXISTS, buildResultEvent, type FileImportResult, resultKey } from './outcome-event.ts'

/** Options of the {@link OutcomePublisher}. */
export interface OutcomePublisherOptions {
  resultTopic: string
  dlqTopic: string
  /** Registry id of schemas/file-import-result.avsc under `<resultTopic>-value`. */
  resultSchemaId: number
  /**
   * A send still failing this long after its first failure makes the bridge not ready and sets
   * `bridge_publish_stalled` (ms; the setting `PUBLISH_STALL_MS`). Default 60000.
   */
  stallAfterMs?: number
}

/**
 * Publishes one result event per file of a concluded job, and DLQ records for unusable input, then
 * reports the source positions as settled (so their offsets may be committed). Sends are retried with
 * exponential backoff until they succeed or the publisher is closed: a result is never dropped.
 *
 * Nothing it publishes may block a partition: a DLQ copy the broker refuses as too large is written
 * smaller (see {@link publishDlq}); result events are small by construction (bounded text,
 * src/outcome/outcome-event.ts). A send that keeps failing anyway (the broker away, a topic refusing
 * our records) is held and retried; once it has failed for longer than `stallAfterMs` the bridge is
 * not ready ({@link readiness}) and `bridge_publish_stalled` is 1. A failure that only a new process
 * can cure (src/kafka/kafka-errors.ts `isUnrecoverable`), or any failure that ends a send for good, is
 * handed to `onFatal`: records left unsettled would hold their partition's commits forever.
 *
 * While tracing is on, each result record carries the context of its own `send` span (a child of the
 * job's span) in its `traceparent`, instead of the input record's: the consumer's trace continues from
 * the bridge's. The job's span ends once its results are acknowledged.
 */
export class OutcomePublisher {
  readonly #options: OutcomePublisherOptions
  readonly #producer: IdempotentProducer
  readonly #codec: SchemaCodec
  readonly #metrics: Metrics
  readonly #logger: Logger
  readonly #onSettled: (positions: RecordPosition[], files: PendingFile[]) => void
  readonly #onFatal: (err: unknown) => void
  readonly #pending = new Set<Promise<unknown>>()
  readonly #abort = new AbortController()
  /** Sends that failed at least once and are still retried: when each first failed, and the error. */
  readonly #failing = new Map<object, { since: number; topic: string; error: unknown }>()
  readonly #stallAfterMs: number
  /** Undefined while tracing is off. */
  readonly #tracing: BridgeTracing | undefined
  #resulted = 0
  #deadLettered = 0

  constructor(
    options: OutcomePublisherOptions,
    deps: {
      producer: IdempotentProducer
      codec: SchemaCodec
      metrics: Metrics
      logger: Logger
      /** Called once sends are acknowledged: the source positions, and the files of a job (none for DLQ). */
      onSettled: (positions: RecordPosition[], files: PendingFile[]) => void
      /** Called when a send cannot go on (see above); the caller stops the process. */
      onFatal?: (err: unknown) => void
      /** Makes the result records' spans while on (src/telemetry/). */
      tracing?: BridgeTracing | undefined
    },
  ) {
    this.#options = options
    this.#producer = deps.producer
    this.#codec = deps.codec
    this.#metrics = deps.metrics
    this.#logger = deps.logger.child({ component: 'outcome-publisher' })
    this.#onSettled = deps.onSettled
    this.#onFatal = deps.onFatal ?? (() => undefined)
    this.#stallAfterMs = options.stallAfterMs ?? 60_000
    this.#tracing = deps.tracing?.on === true ? deps.tracing : undefined
  }

  /**
   * Why the bridge is not ready because of publishing: one line per topic whose oldest failing send
   * has failed for longer than `stallAfterMs`; empty otherwise.
   */
  readiness(now = Date.now()): string[] {
    const problems = new Map<string, string>()
    for (const { since, topic, error } of this.#failing.values()) {
      if (now - since <= this.#stallAfterMs || problems.has(topic)) continue
      const seconds = Math.round((now - since) / 1000)
      problems.set(
        topic,
        `publishing to ${topic} failing for ${seconds} s: ${(error as Error)?.message ?? error}`,
      )
    }
    return [...problems.values()]
  }

  /** Result events acknowledged since the start, and DLQ records (for the summary of a stop). */
  get published(): { results: number; dlq: number } {
    return { results: this.#resulted, dlq: this.#deadLettered }
  }

  /** Sends not yet acknowledged. */
  get pending(): number {
    return this.#pending.size
  }

  /**
   * Publishes the result events of `job` (in the background; see {@link drain}).
   * @returns resolves true once all are acknowledged, false when the publisher was closed first
   */
  publishJob(job: ConcludedJob): Promise<boolean> {
    const completedAt = Date.now()
    const results = job.outcomes.map(({ file, outcome }) => ({
      file,
      result: buildResultEvent(file, outcome, job.jobId, completedAt),
    }))
    const tracing = this.#tracing
    const traced = tracing?.startSends(
      job.span,
      results.map(({ file, result }) => ({ file, key: resultKey(result), state: result.state })),
    )
    const published = this.#track(async () => {
      const id = this.#options.resultSchemaId
      const messages: OutgoingMessage[] = []
      for (let i = 0; i < results.length; i++) {
        const { file, result } = results[i] as (typeof results)[number]
        // At once when the schema is known (from the first job on): no promise per result.
        const known = this.#codec.encodeKnown?.(id, result) ?? UNKNOWN_WRITER
        messages.push({
          key: resultKey(result),
          value: known === UNKNOWN_WRITER ? await this.#codec.encode(id, result) : known,
          headers: traced === undefined ? file.headers : traced.headers[i],
        })
      }
      await this.#send(this.#options.resultTopic, 'result', messages, {
        jobId: job.jobId,
        batchId: job.batch.id,
      })
      const now = Date.now()
      // One labelled increment per state, not per file (prom-client hashes the labels on each call).
      const byState = { SUCCESS: 0, SKIPPED: 0, FAILED: 0 }
      let reimports = 0
      for (const { file, result } of results) {
        byState[result.state]++
        if (result.state === 'SKIPPED' && result.reason === ALREADY_EXISTS) reimports++
        this.#metrics.eventToResult.observe((now - file.consumedAt) / 1000)
      }
      const kind = job.batch.kind
      for (const [state, count] of Object.entries(byState))
        if (count > 0) this.#metrics.files.inc({ state, kind }, count)
      this.#resulted += results.length
      if (byState.FAILED > 0) this.#countFailed(results)
      if (reimports > 0) this.#metrics.reimportsSkipped.inc({ kind }, reimports)
      this.#onSettled(
        results.map((r) => r.file.position),
        results.map((r) => r.file),
      )
    })
    if (tracing === undefined || traced === undefined) return published
    return published.then((acknowledged) => {
      tracing.endSends(traced.spans, acknowledged)
      tracing.endJob(job.span)
      return acknowledged
    })
  }

  /**
   * Sends a copy of `record` to the DLQ: its key, value, every header (in order, repeats and null values
   * kept) and timestamp byte for byte, then the {@link DLQ_HEADERS} with the reason and the source
   * position. A tombstone (null value) is copied with an empty value (a null one would delete on a
   * compacted DLQ topic). When the broker refuses the copy as too large (`max.message.bytes` of the DLQ
   * topic), it is sent without its value, and if still too large without key and original headers too;
   * headers then give each left-out part's size and SHA-256 and the broker's answer.
   */
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
    const failedAt = new Date().toISOString()
    this.#track(async () => {
      await this.#send(
        this.#options.dlqTopic,
        'dlq',
        [dlqCopy(record, failure, failedAt)],
        { reason: failure.reason, topic: record.topic, partition: record.partition, offset: record.offset },
        (level, error) => {
          if (level > 2) return null
          this.#metrics.dlqValuesOmitted.inc()
          this.#logger.warn(
            { err: error, topic: record.topic, partition: record.partition, offset: record.offset },
            level === 1
              ? 'DLQ copy too large for the broker: sent without its value'
              : 'DLQ copy too large even without its value: sent without key and headers',
          )
          return [dlqCopy(record, failure, failedAt, level, error)]
        },
      )
      this.#metrics.dlqRecords.inc()
      this.#deadLettered++
      this.#onSettled([{ topic: record.topic, partition: record.partition, offset: record.offset }], [])
    })
  }

  /** `bridge_failed_files_total` by the reason class of each FAILED result (src/model/failure-reasons.ts). */
  #countFailed(results: ReadonlyArray<{ result: FileImportResult }>): void {
    const byClass = new Map<FailureClass, number>()
    for (const { result } of results) {
      if (result.state !== 'FAILED') continue
      const cls = failureClass(result.reason)
      byClass.set(cls, (byClass.get(cls) ?? 0) + 1)
    }
    for (const [reasonClass, count] of byClass)
      this.#metrics.failedFiles.inc({ reason_class: reasonClass }, count)
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
        if (this.#abort.signal.aborted) return false
        // Its records stay unsettled: their partitions could never commit again. Only a restart helps.
        this.#logger.error({ err }, 'publishing failed permanently')
        this.#onFatal(err)
        return false
      })
      .finally(() => this.#pending.delete(promise))
    this.#pending.add(promise)
    return promise
  }

  /**
   * Sends `messages` until acknowledged. @param shrink on a too-large refusal, the smaller messages for
   *   level 1, 2, … (null: none smaller, keep retrying); without it the send is held like any other failure
   */
  async #send(
    topic: string,
    kind: 'result' | 'dlq',
    messages: OutgoingMessage[],
    context: Record<string, unknown>,
    shrink?: (level: number, error: unknown) => OutgoingMessage[] | null,
  ): Promise<void> {
    const key = {}
    let current = messages
    let level = 0
    try {
      await pRetry(() => this.#producer.send(topic, current), {
        ...pRetryBackoff(PUBLISH_BACKOFF),
        signal: this.#abort.signal,
        shouldRetry: ({ error }) => !isUnrecoverable(error),
        onFailedAttempt: ({ error, attemptNumber, retryDelay }) => {
          this.#metrics.publishFailures.inc({ kind })
          const smaller = shrink !== undefined && isRecordTooLarge(error) ? shrink(level + 1, error) : null
          if (smaller !== null) {
            level++
            current = smaller
            return
          }
          const first = this.#failing.get(key)
          this.#failing.set(key, { since: first?.since ?? Date.now(), topic, error })
          // The gauge turns 1 when the bound passes, not at the next attempt (up to 30 s later); a timer
          // may fire a millisecond early by Date.now(), hence the margin.
          if (first === undefined) setTimeout(() => this.#updateStalled(), this.#stallAfterMs + 50).unref()
          this.#updateStalled()
          this.#logger.warn(
            { err: error, topic, attemptNumber, retryDelay, ...context },
            'publish failed; retrying',
          )
        },
      })
    } finally {
      if (this.#failing.delete(key)) this.#updateStalled()
    }
  }

  #updateStalled(): void {
    this.#metrics.publishStalled.set(this.readiness().length > 0 ? 1 : 0)
  }
}

export type { FileImportResult }
export { DLQ_HEADERS }
