import {
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapSetter,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import type { PendingFile } from '../model/files.ts'
import type { RecordHeader } from '../model/records.ts'
import { ERROR_TYPE, IMPORT, MESSAGING } from './attributes.ts'

/**
 * How an import job span ends (`livingdocs.import.end`): its job `concluded` (every file has an
 * outcome; `counts` of a job that ran, `failure` the job-level reason of one that did not), was `lost`
 * (its batch is submitted again, under a new job span), its batch was `split` or its one file
 * `rejected` by the API, it timed out (`timeout`), the bridge `stopped` before it concluded, or the
 * partitions of its files were `revoked` while its batch waited for its submit.
 */
export type JobEnd =
  | {
      end: 'concluded'
      counts?: { imported: number; skipped: number; failed: number } | undefined
      failure?: string | undefined
    }
  | { end: 'lost' | 'timeout' | 'stopped' | 'revoked' }
  | { end: 'split' | 'rejected'; reason: string }

/** Sets how the job ended on its span (errors: a job-level failure, lost, split, rejected, timeout). */
export function jobEnded(span: Span, end: JobEnd): void {
  span.setAttribute(IMPORT.end, end.end)
  switch (end.end) {
    case 'concluded':
      if (end.counts !== undefined)
        span.setAttributes({
          [IMPORT.imported]: end.counts.imported,
          [IMPORT.skipped]: end.counts.skipped,
          [IMPORT.failed]: end.counts.failed,
        })
      if (end.failure !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: end.failure })
      return
    case 'stopped':
      return
    case 'lost':
    case 'timeout':
      span.setAttribute(ERROR_TYPE, end.end)
      span.setStatus({ code: SpanStatusCode.ERROR, message: `import job ${end.end}` })
      return
    case 'split':
    case 'rejected':
      span.setAttribute(ERROR_TYPE, end.end)
      span.setStatus({ code: SpanStatusCode.ERROR, message: end.reason })
      return
  }
}

/** Ends a job span, first saying how it ended when `end` is given. */
export function endJob(span: Span, end?: JobEnd): void {
  if (end !== undefined) jobEnded(span, end)
  span.end()
}

/** Links to the record spans of `files` that were recorded. */
export function recordLinks(files: readonly PendingFile[]): Link[] {
  const links: Link[] = []
  for (const f of files) if (f.recordSpan !== undefined) links.push({ context: f.recordSpan })
  return links
}

/** Writes a propagator's fields as Kafka record headers (UTF-8). */
const RECORD_HEADERS: TextMapSetter<RecordHeader[]> = {
  set(carrier, key, value) {
    carrier.push([key, Buffer.from(value, 'utf8')])
  },
}

/**
 * The `send <topic>` spans of a job's results (see `BridgeTracing.startSends`). When the job span is
 * not recorded (the sampler said no), no span is made per result: every record carries the job span's
 * own context, not sampled, so the trace stays unsampled downstream.
 */
export function sendSpans(
  tracer: Tracer,
  topic: string,
  jobSpan: Span | undefined,
  results: ReadonlyArray<{ file: PendingFile; key: string; state: string }>,
): { headers: RecordHeader[][]; spans: Span[] } {
  const spans: Span[] = []
  if (jobSpan !== undefined && !jobSpan.isRecording()) {
    const shared = injected(jobSpan)
    return { headers: results.map(() => shared), spans }
  }
  const name = `send ${topic}`
  const headers = results.map(({ file, key, state }) => {
    const parent =
      jobSpan ?? (file.recordSpan === undefined ? undefined : trace.wrapSpanContext(file.recordSpan))
    const span = tracer.startSpan(
      name,
      {
        kind: SpanKind.PRODUCER,
        links: file.recordSpan === undefined || jobSpan === undefined ? [] : [{ context: file.recordSpan }],
        root: parent === undefined,
      },
      parent === undefined ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, parent),
    )
    if (span.isRecording()) {
      span.setAttributes({
        [MESSAGING.system]: 'kafka',
        [MESSAGING.operationName]: 'send',
        [MESSAGING.operationType]: 'send',
        [MESSAGING.destination]: topic,
        [MESSAGING.kafkaKey]: key,
        [IMPORT.externalId]: file.event.externalId,
        [IMPORT.state]: state,
      })
      spans.push(span)
    }
    return injected(span)
  })
  return { headers, spans }
}

/** The trace headers of `span`'s context, by the configured propagators. */
function injected(span: Span): RecordHeader[] {
  const headers: RecordHeader[] = []
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers, RECORD_HEADERS)
  return headers
}
