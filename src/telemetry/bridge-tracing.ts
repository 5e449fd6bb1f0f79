import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import type { Batch, DecodeResult, Filtered, PendingFile } from '../model/files.ts'
import { type ConsumedRecord, headerText, type RecordHeader } from '../model/records.ts'
import type { ReceivedWebhook } from '../model/webhook.ts'
import { ERROR_TYPE, HTTP, IMPORT, MESSAGING } from './attributes.ts'
import { endJob, type JobEnd, jobEnded, recordLinks, sendSpans } from './job-spans.ts'

/** What the spans name besides what each call passes: the topics and the consumer group. */
export interface TracingOptions {
  inputTopic: string
  resultTopic: string
  consumerGroup: string
}

/** Reads a propagator's fields from Kafka record headers: the first of a repeated name, as UTF-8. */
const RECORD_HEADERS: TextMapGetter<readonly RecordHeader[]> = {
  keys: (headers) => headers.map(([name]) => name),
  get: (headers, key) => headerText(headers, key),
}

/**
 * The bridge's spans, following the OpenTelemetry semantic conventions for messaging and HTTP
 * (docs/traces.md draws the tree of one job):
 *
 * - `process <input topic>` (CONSUMER), per record: decoding and admitting it. Its parent is the
 *   producer's context from the record's `traceparent` when it carries one (the conventions allow the
 *   message's creation context as the parent of a "process" span of a single message).
 * - `import batch`, per batch: from its first file to its closing, linked to each file's record span;
 *   the root of the job's trace.
 * - `import job`, per import job: from its first submit to its acknowledged results, a child of the
 *   batch span, linked to each file's record span (a batch joins many traces: a link, not a parent).
 *   Its children: the HTTP client spans of the submit and of each status read (made by the import
 *   client in the job's context), the webhook's SERVER span, and one `send <result topic>` PRODUCER span
 *   per result, whose context goes into the result record's `traceparent`.
 *
 * Off (no tracer): {@link on} is false and the callers call nothing here; on the per-record path that
 * is one property read per record. On, a record whose span the sampler does not record costs the
 * sampler's answer: no attributes are built, and nothing of it is kept on its file.
 */
export class BridgeTracing {
  /** True when spans are made (an OTLP endpoint is set, see src/telemetry/sdk.ts). */
  readonly on: boolean
  readonly #tracer: Tracer
  readonly #options: TracingOptions
  readonly #processName: string

  /** @param tracer the SDK's tracer; undefined: tracing is off */
  constructor(tracer: Tracer | undefined, options: TracingOptions) {
    this.on = tracer !== undefined
    // The API's tracer is a no-op until an SDK registers one; it is never called while off.
    this.#tracer = tracer ?? trace.getTracer('file-import-bridge')
    this.#options = options
    this.#processName = `process ${options.inputTopic}`
  }

  /** A tracing that makes no spans (tests, tools). */
  static off(): BridgeTracing {
    return new BridgeTracing(undefined, { inputTopic: '', resultTopic: '', consumerGroup: '' })
  }

  /**
   * Starts the `process` span of a consumed record, a child of the producer's context from its headers
   * (the propagators of `OTEL_PROPAGATORS`; W3C `traceparent` by default).
   * @returns the span, or undefined when the sampler does not record it
   */
  startProcess(record: ConsumedRecord): Span | undefined {
    const parent =
      record.headers.length === 0
        ? ROOT_CONTEXT
        : propagation.extract(ROOT_CONTEXT, record.headers, RECORD_HEADERS)
    const span = this.#tracer.startSpan(this.#processName, { kind: SpanKind.CONSUMER }, parent)
    if (!span.isRecording()) return undefined
    span.setAttributes({
      [MESSAGING.system]: 'kafka',
      [MESSAGING.operationName]: 'process',
      [MESSAGING.operationType]: 'process',
      [MESSAGING.destination]: record.topic,
      [MESSAGING.partition]: String(record.partition),
      [MESSAGING.kafkaOffset]: Number(record.offset),
      [MESSAGING.consumerGroup]: this.#options.consumerGroup,
      [MESSAGING.bodySize]: record.value?.length ?? 0,
    })
    return span
  }

  /** Ends a record's `process` span with what the decoder made of it (a DLQ reason is its `error.type`). */
  endProcess(span: Span, result: DecodeResult | Filtered): void {
    if (result.ok) {
      const { externalId, kind, systemName } = result.event
      span.setAttributes({
        [IMPORT.externalId]: externalId,
        [IMPORT.kind]: kind,
        [IMPORT.systemName]: systemName,
      })
    } else if ('failure' in result) {
      span.setAttribute(ERROR_TYPE, result.failure.reason)
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.failure.message })
    } else span.setAttribute(IMPORT.filtered, result.filtered)
    span.end()
  }

  /**
   * Runs `fn` with `span` active (its log lines carry its ids, and spans started in it are its
   * children); without a span, just runs it.
   */
  withSpan<T>(span: Span | undefined, fn: () => T): T {
    return span === undefined ? fn() : context.with(trace.setSpan(context.active(), span), fn)
  }

  /**
   * Records the `import batch` span of a closed batch: from `batch.openedAt` to `closedAt`, linked to
   * its files' record spans. @returns its context: the parent of the batch's job spans
   */
  batchSpan(batch: Batch, closedAt = Date.now()): SpanContext {
    const span = this.#tracer.startSpan('import batch', {
      kind: SpanKind.INTERNAL,
      startTime: batch.openedAt,
      links: recordLinks(batch.files),
      root: true,
    })
    if (span.isRecording())
      span.setAttributes({
        ...batchAttributes(batch),
        [IMPORT.closedBy]: batch.closedBy,
        [MESSAGING.batchCount]: batch.files.length,
      })
    span.end(closedAt)
    return span.spanContext()
  }

  /**
   * Starts the `import job` span of a batch's submit, a child of the batch span (a root when there is
   * none: an adopted job), linked to the files' record spans. Ended by the outcome publisher once its
   * results are acknowledged ({@link endJob}), or by the job tracker when the job ends without results.
   * @returns undefined while tracing is off
   */
  startJob(
    batch: Batch,
    parent: SpanContext | undefined,
    facts: { resubmits: number; adopted?: boolean; jobId?: string },
  ): Span | undefined {
    if (!this.on) return undefined
    const ctx = parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent)
    const span = this.#tracer.startSpan(
      'import job',
      { kind: SpanKind.INTERNAL, links: recordLinks(batch.files), root: parent === undefined },
      ctx,
    )
    if (span.isRecording()) {
      span.setAttributes(batchAttributes(batch))
      span.setAttribute(IMPORT.resubmits, facts.resubmits)
      if (facts.adopted === true) span.setAttribute(IMPORT.adopted, true)
      if (facts.jobId !== undefined) span.setAttribute(IMPORT.jobId, facts.jobId)
    }
    return span
  }

  /** Livingdocs accepted the job: its id on the span (none: nothing to do, as below). */
  jobAccepted(span: Span | undefined, jobId: string): void {
    span?.setAttribute(IMPORT.jobId, jobId)
  }

  /** Says how the job ended (see {@link JobEnd}); the span stays open until its results are published. */
  jobEnded(span: Span | undefined, end: JobEnd): void {
    if (span !== undefined) jobEnded(span, end)
  }

  /** Ends the job span: its results are acknowledged, or it ended without results (`end` says how). */
  endJob(span: Span | undefined, end?: JobEnd): void {
    if (span !== undefined) endJob(span, end)
  }

  /**
   * Starts an HTTP client span in the active context (the job's), named `<method> <template>`.
   * @param url the full URL (the token is in a header, never in it)
   * @param template the path without ids, e.g. `/api/2026-07/import/images/status`
   */
  startHttpClient(method: string, url: URL, template: string): Span {
    const span = this.#tracer.startSpan(`${method} ${template}`, { kind: SpanKind.CLIENT }, context.active())
    if (span.isRecording())
      span.setAttributes({
        [HTTP.method]: method,
        [HTTP.urlFull]: url.href,
        [HTTP.urlTemplate]: template,
        [HTTP.serverAddress]: url.hostname,
        [HTTP.serverPort]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      })
    return span
  }

  /** `span`'s context as request headers (`traceparent`, and `tracestate` when it has one). */
  headersOf(span: Span): Record<string, string> {
    const headers: Record<string, string> = {}
    propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers)
    return headers
  }

  /**
   * Ends an HTTP client span with the answer's status (4xx and 5xx are errors, as the HTTP conventions
   * say for clients), or with the error code of a request that got no answer.
   */
  endHttpClient(span: Span, answer: { status: number } | { error: string }): void {
    if ('status' in answer) {
      span.setAttribute(HTTP.statusCode, answer.status)
      if (answer.status >= 400) {
        span.setAttribute(ERROR_TYPE, String(answer.status))
        span.setStatus({ code: SpanStatusCode.ERROR })
      }
    } else {
      span.setAttribute(ERROR_TYPE, answer.error)
      span.setStatus({ code: SpanStatusCode.ERROR, message: answer.error })
    }
    span.end()
  }

  /**
   * Records the webhook of a job as a child of its job span: a SERVER span `POST <route>` answered 202
   * (linked to the caller's context when the request carried one), or an INTERNAL span `import job
   * webhook` for a notice known only by its job (forwarded by another replica, or come before the
   * submit's answer).
   */
  webhook(job: Span | undefined, received: ReceivedWebhook | undefined): void {
    if (job === undefined) return
    const parent = trace.setSpan(ROOT_CONTEXT, job)
    if (received === undefined) {
      this.#tracer.startSpan('import job webhook', { kind: SpanKind.INTERNAL }, parent).end()
      return
    }
    const caller = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, received.traceHeaders))
    const span = this.#tracer.startSpan(
      `POST ${received.route}`,
      { kind: SpanKind.SERVER, links: caller === undefined ? [] : [{ context: caller }] },
      parent,
    )
    if (span.isRecording())
      span.setAttributes({ [HTTP.method]: 'POST', [HTTP.route]: received.route, [HTTP.statusCode]: 202 })
    span.end()
  }

  /**
   * Starts one `send <result topic>` span per result (PRODUCER, linked to the file's record span), a
   * child of the job span, or of the file's record span when the file had no job.
   * @returns the headers of each result record (the span's context injected), and the spans to end
   *   once Kafka acknowledged the records ({@link endSends})
   */
  startSends(
    jobSpan: Span | undefined,
    results: ReadonlyArray<{ file: PendingFile; key: string; state: string }>,
  ): { headers: RecordHeader[][]; spans: Span[] } {
    return sendSpans(this.#tracer, this.#options.resultTopic, jobSpan, results)
  }

  /** Ends the send spans: acknowledged, or not (the publisher was closed first). */
  endSends(spans: readonly Span[], acknowledged: boolean): void {
    for (const span of spans) {
      if (!acknowledged) span.setStatus({ code: SpanStatusCode.ERROR, message: 'not acknowledged' })
      span.end()
    }
  }
}

function batchAttributes(batch: Batch): Attributes {
  return {
    [IMPORT.kind]: batch.kind,
    [IMPORT.batchId]: batch.id,
    [IMPORT.systemName]: batch.systemName,
    [IMPORT.files]: batch.files.length,
  }
}

export type { JobEnd, Span, SpanContext }
