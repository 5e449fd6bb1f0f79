import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import type { Batch, DecodeResult } from '../../../src/model/files.ts'
import type { ConsumedRecord } from '../../../src/model/records.ts'
import { BridgeTracing } from '../../../src/telemetry/bridge-tracing.ts'
import { parseTraceparent } from '../../../src/telemetry/trace-context.ts'
import { pendingFile } from '../../support/pending-file.ts'
import { recordSpans } from '../../support/span-recorder.ts'

const PRODUCER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const PRODUCER_SPAN = '00f067aa0ba902b7'

function record(headers: Array<[string, string]> = [], offset = '41'): ConsumedRecord {
  return {
    topic: 'in',
    partition: 2,
    offset,
    key: Buffer.from('k'),
    value: Buffer.from('{"x":1}'),
    headers: headers.map(([n, v]) => [n, Buffer.from(v)] as const),
    timestamp: 0,
  }
}

const decoded = (externalId: string): DecodeResult => ({
  ok: true,
  event: {
    externalId,
    url: 'https://x/y',
    fileName: 'y',
    mediaType: 'image',
    kind: 'image',
    metadata: { title: 'not-an-attribute' },
    systemName: 'dam',
    occurredAt: 0,
  },
  bytes: 10,
  entry: Buffer.from('{}'),
})

/** A traced file: its record span started and ended as the intake does. */
function tracedFile(tracing: BridgeTracing, externalId: string) {
  const span = tracing.startProcess(record([['traceparent', `00-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01`]]))
  if (span === undefined) throw new Error('not recorded')
  tracing.endProcess(span, decoded(externalId))
  return { ...pendingFile(externalId), recordSpan: span.spanContext() }
}

/** When the batches opened, epoch ms (the SDK reads a small number as a time since the process started). */
const OPENED_AT = 1_700_000_000_000

function batchOf(files: Batch['files']): Batch {
  return {
    id: 'b1',
    systemName: 'dam',
    kind: 'image',
    files,
    bytes: 1,
    closedBy: 'linger',
    openedAt: OPENED_AT,
  }
}

describe('BridgeTracing: record spans', () => {
  it('makes a consumer span per record, the child of the producer’s traceparent, with messaging attributes', () => {
    const { tracing, named } = recordSpans()
    const span = tracing.startProcess(
      record([
        ['traceparent', `00-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01`],
        ['tracestate', 'legacy=1'],
      ]),
    )
    tracing.endProcess(span as NonNullable<typeof span>, decoded('e1'))

    const [processed] = named('process in')
    expect(processed?.kind).toBe(SpanKind.CONSUMER)
    expect(processed?.spanContext().traceId).toBe(PRODUCER_TRACE)
    expect(processed?.parentSpanContext).toMatchObject({ spanId: PRODUCER_SPAN, isRemote: true })
    expect(processed?.spanContext().traceState?.get('legacy')).toBe('1')
    expect(processed?.attributes).toEqual({
      'messaging.system': 'kafka',
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'in',
      'messaging.destination.partition.id': '2',
      'messaging.kafka.offset': 41,
      'messaging.consumer.group.name': 'g',
      'messaging.message.body.size': 7,
      'livingdocs.import.external_id': 'e1',
      'livingdocs.import.kind': 'image',
      'livingdocs.import.system_name': 'dam',
    })
  })

  it('starts a trace of its own for a record without (or with a broken) traceparent', () => {
    const { tracing, ended } = recordSpans()
    for (const headers of [[], [['traceparent', 'garbage']]] as Array<Array<[string, string]>>) {
      const span = tracing.startProcess(record(headers))
      tracing.endProcess(span as NonNullable<typeof span>, { ok: false, filtered: 'rejected' })
    }
    expect(ended().map((s) => s.parentSpanContext)).toEqual([undefined, undefined])
    expect(ended()[0]?.attributes['livingdocs.import.filtered']).toBe('rejected')
  })

  it('marks a record sent to the DLQ as an error with its reason as error.type', () => {
    const { tracing, ended } = recordSpans()
    const span = tracing.startProcess(record())
    tracing.endProcess(span as NonNullable<typeof span>, {
      ok: false,
      failure: { reason: 'INVALID_JSON', message: 'not JSON' },
    })
    expect(ended()[0]?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'not JSON' })
    expect(ended()[0]?.attributes['error.type']).toBe('INVALID_JSON')
  })

  it('gives no span when the sampler says no (nothing to keep on the file)', () => {
    const { tracing, ended } = recordSpans('off')
    expect(tracing.startProcess(record([['traceparent', `00-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01`]]))).toBe(
      undefined,
    )
    expect(ended()).toEqual([])
  })
})

describe('BridgeTracing: batch and job spans', () => {
  it('a batch span from the batch’s opening to its closing, linked to its files’ record spans', () => {
    const { tracing, named } = recordSpans()
    const files = [tracedFile(tracing, 'a'), pendingFile('untraced'), tracedFile(tracing, 'b')]
    const context = tracing.batchSpan(batchOf(files), OPENED_AT + 2500)

    const [batch] = named('import batch')
    expect(batch?.spanContext().spanId).toBe(context.spanId)
    expect(batch?.parentSpanContext).toBeUndefined()
    expect(batch?.startTime).toEqual([OPENED_AT / 1000, 0])
    expect(batch?.duration).toEqual([2, 500_000_000])
    expect(batch?.links.map((l) => l.context.spanId)).toEqual([
      files[0]?.recordSpan?.spanId,
      files[2]?.recordSpan?.spanId,
    ])
    expect(batch?.attributes).toMatchObject({
      'messaging.batch.message_count': 3,
      'livingdocs.import.batch.closed_by': 'linger',
      'livingdocs.import.kind': 'image',
    })
  })

  it('a job span, child of its batch span, linked to the record spans, with the job id and how it ended', () => {
    const { tracing, named } = recordSpans()
    const files = [tracedFile(tracing, 'a'), tracedFile(tracing, 'b')]
    const batch = batchOf(files)
    const span = tracing.startJob(batch, tracing.batchSpan(batch), { resubmits: 1 })
    tracing.jobAccepted(span, 'job-7')
    tracing.jobEnded(span, { end: 'concluded', counts: { imported: 1, skipped: 0, failed: 1 } })
    expect(named('import job')).toEqual([])
    tracing.endJob(span)

    const [job] = named('import job')
    expect(job?.parentSpanContext?.spanId).toBe(named('import batch')[0]?.spanContext().spanId)
    expect(job?.links).toHaveLength(2)
    expect(job?.attributes).toEqual({
      'livingdocs.import.kind': 'image',
      'livingdocs.import.batch_id': 'b1',
      'livingdocs.import.system_name': 'dam',
      'livingdocs.import.files': 2,
      'livingdocs.import.resubmits': 1,
      'livingdocs.import.job_id': 'job-7',
      'livingdocs.import.end': 'concluded',
      'livingdocs.import.files.imported': 1,
      'livingdocs.import.files.skipped': 0,
      'livingdocs.import.files.failed': 1,
    })
    expect(job?.status.code).toBe(SpanStatusCode.UNSET)
  })

  it.each([
    [{ end: 'lost' } as const, 'import job lost'],
    [{ end: 'timeout' } as const, 'import job timeout'],
    [{ end: 'split', reason: 'HTTP 422' } as const, 'HTTP 422'],
    [{ end: 'rejected', reason: 'bad file' } as const, 'bad file'],
    [{ end: 'concluded', failure: 'import job failed' } as const, 'import job failed'],
  ])('a job that ended %j is an error: %s', (end, message) => {
    const { tracing, named } = recordSpans()
    tracing.endJob(tracing.startJob(batchOf([]), undefined, { resubmits: 0 }), end)
    expect(named('import job')[0]?.status).toEqual({ code: SpanStatusCode.ERROR, message })
  })

  it('makes no job span while off, and takes no span in every call', () => {
    const off = BridgeTracing.off()
    expect(off.on).toBe(false)
    expect(off.startJob(batchOf([]), undefined, { resubmits: 0 })).toBeUndefined()
    expect(() => {
      off.jobAccepted(undefined, 'j')
      off.endJob(undefined, { end: 'stopped' })
      off.webhook(undefined, undefined)
    }).not.toThrow()
    expect(off.withSpan(undefined, () => 42)).toBe(42)
  })
})

describe('BridgeTracing: HTTP and webhook spans', () => {
  it('a client span per request in the active (job) span, whose context the request carries', () => {
    const { tracing, named } = recordSpans()
    const job = tracing.startJob(batchOf([]), undefined, { resubmits: 0 }) as NonNullable<
      ReturnType<BridgeTracing['startJob']>
    >
    const url = new URL('https://ld.example/api/2026-07/import/images/status?id=j1')
    const headers = tracing.withSpan(job, () => {
      const span = tracing.startHttpClient('GET', url, '/api/2026-07/import/images/status')
      const h = tracing.headersOf(span)
      tracing.endHttpClient(span, { status: 503 })
      return h
    })

    const [read] = named('GET /api/2026-07/import/images/status')
    expect(read?.kind).toBe(SpanKind.CLIENT)
    expect(read?.parentSpanContext?.spanId).toBe(job.spanContext().spanId)
    expect(parseTraceparent(headers.traceparent)).toMatchObject({
      traceId: job.spanContext().traceId,
      parentId: read?.spanContext().spanId,
      flags: '01',
    })
    expect(read?.attributes).toEqual({
      'http.request.method': 'GET',
      'url.full': url.href,
      'url.template': '/api/2026-07/import/images/status',
      'server.address': 'ld.example',
      'server.port': 443,
      'http.response.status_code': 503,
      'error.type': '503',
    })
    expect(read?.status.code).toBe(SpanStatusCode.ERROR)
  })

  it('a request without an answer ends with its error code', () => {
    const { tracing, ended } = recordSpans()
    const span = tracing.startHttpClient('POST', new URL('http://h:8080/p'), '/p')
    tracing.endHttpClient(span, { error: 'API_NETWORK_ERROR' })
    expect(ended()[0]?.attributes).toMatchObject({ 'server.port': 8080, 'error.type': 'API_NETWORK_ERROR' })
  })

  it('a webhook is a server span under the job span, linked to the caller’s traceparent', () => {
    const { tracing, ended } = recordSpans()
    const job = tracing.startJob(batchOf([]), undefined, { resubmits: 0 })
    tracing.webhook(job, {
      route: '/webhooks/x/:batchId',
      traceHeaders: { traceparent: `00-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01` },
    })
    tracing.webhook(job, undefined)

    const [server, notice] = ended()
    expect(server).toMatchObject({ name: 'POST /webhooks/x/:batchId', kind: SpanKind.SERVER })
    expect(server?.parentSpanContext?.spanId).toBe(job?.spanContext().spanId)
    expect(server?.links.map((l) => l.context.spanId)).toEqual([PRODUCER_SPAN])
    expect(server?.attributes).toMatchObject({
      'http.route': '/webhooks/x/:batchId',
      'http.response.status_code': 202,
    })
    expect(notice).toMatchObject({ name: 'import job webhook', kind: SpanKind.INTERNAL })
    expect(notice?.parentSpanContext?.spanId).toBe(job?.spanContext().spanId)
  })
})

describe('BridgeTracing: result send spans', () => {
  it('one producer span per result under the job span, linked to the file’s record span, in its traceparent', () => {
    const { tracing, named } = recordSpans()
    const files = [tracedFile(tracing, 'a'), pendingFile('b')]
    const job = tracing.startJob(batchOf(files), undefined, { resubmits: 0 })
    const { headers, spans } = tracing.startSends(job, [
      { file: files[0] as (typeof files)[number], key: 'dam:a', state: 'SUCCESS' },
      { file: files[1] as (typeof files)[number], key: 'dam:b', state: 'FAILED' },
    ])
    tracing.endSends(spans, true)

    const sends = named('send out')
    expect(sends).toHaveLength(2)
    for (const [i, send] of sends.entries()) {
      expect(send.kind).toBe(SpanKind.PRODUCER)
      expect(send.parentSpanContext?.spanId).toBe(job?.spanContext().spanId)
      const traceparent = headers[i]?.find(([n]) => n === 'traceparent')?.[1]?.toString()
      expect(parseTraceparent(traceparent)?.parentId).toBe(send.spanContext().spanId)
    }
    expect(sends[0]?.links.map((l) => l.context)).toEqual([files[0]?.recordSpan])
    expect(sends[1]?.links).toEqual([])
    expect(sends[1]?.attributes).toMatchObject({
      'messaging.destination.name': 'out',
      'messaging.kafka.message.key': 'dam:b',
      'livingdocs.import.state': 'FAILED',
    })
  })

  it('a file without a job: its send span continues the file’s own trace', () => {
    const { tracing, named } = recordSpans()
    const file = tracedFile(tracing, 'a')
    tracing.endSends(tracing.startSends(undefined, [{ file, key: 'k', state: 'FAILED' }]).spans, false)
    const [send] = named('send out')
    expect(send?.spanContext().traceId).toBe(PRODUCER_TRACE)
    expect(send?.parentSpanContext?.spanId).toBe(file.recordSpan.spanId)
    expect(send?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'not acknowledged' })
  })

  it('an unsampled job: no span per result, every record carries the job’s unsampled context', () => {
    const { tracing, ended } = recordSpans('off')
    const job = tracing.startJob(batchOf([]), undefined, { resubmits: 0 })
    expect(job?.isRecording()).toBe(false)
    const { headers, spans } = tracing.startSends(job, [
      { file: pendingFile('a'), key: 'a', state: 'SUCCESS' },
      { file: pendingFile('b'), key: 'b', state: 'SUCCESS' },
    ])
    expect(spans).toEqual([])
    expect(ended()).toEqual([])
    const parsed = headers.map((h) => parseTraceparent(h.find(([n]) => n === 'traceparent')?.[1]?.toString()))
    expect(parsed).toEqual([
      {
        version: '00',
        traceId: job?.spanContext().traceId,
        parentId: job?.spanContext().spanId,
        flags: '00',
      },
      {
        version: '00',
        traceId: job?.spanContext().traceId,
        parentId: job?.spanContext().spanId,
        flags: '00',
      },
    ])
  })
})
