import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { fileEntryJson } from '../../../src/import/file-entry.ts'
import type { IdempotentProducer, OutgoingMessage } from '../../../src/kafka/producer.ts'
import { createMetrics } from '../../../src/metrics.ts'
import type { PendingFile } from '../../../src/model/files.ts'
import type { ConsumedRecord, RecordPosition } from '../../../src/model/records.ts'
import { DLQ_HEADERS, OutcomePublisher } from '../../../src/outcome/outcome-publisher.ts'
import type { SchemaCodec } from '../../../src/registry/registry.ts'
import type { BridgeTracing } from '../../../src/telemetry/bridge-tracing.ts'
import { parseTraceparent } from '../../../src/telemetry/trace-context.ts'
import { silentLogger } from '../../support/log-lines.ts'
import { recordSpans } from '../../support/span-recorder.ts'

const codec: SchemaCodec = {
  register: async () => 7,
  encode: async (id, value) => Buffer.from(JSON.stringify({ id, value })),
  decode: async () => ({}),
}

function file(offset: string, externalId: string): PendingFile {
  const event = {
    externalId,
    url: 'https://example.com/a.pdf',
    fileName: 'A',
    mediaType: 'file',
    kind: 'file' as const,
    metadata: {},
    systemName: 'archive',
    occurredAt: 1,
  }
  return {
    event,
    entry: Buffer.from(fileEntryJson(event)),
    position: { topic: 'in', partition: 0, offset },
    consumedAt: Date.now(),
    bytes: 10,
    headers: [['traceparent', Buffer.from('00-abc-def-01')]],
  }
}

/** An error as kafkajs reports a broker it cannot reach (a hiccup: retried). */
function brokerDown(): Error {
  return Object.assign(new Error('broker down'), { name: 'KafkaJSConnectionError', retriable: true })
}

/** A producer whose sends resolve or reject as the test says. */
function scriptedProducer() {
  const sends: Array<{
    topic: string
    messages: OutgoingMessage[]
    resolve: () => void
    reject: (e: Error) => void
  }> = []
  const producer = {
    start: async () => {},
    stop: async () => {},
    send: (topic: string, messages: OutgoingMessage[]) =>
      new Promise<void>((resolve, reject) => sends.push({ topic, messages, resolve, reject })),
  } as unknown as IdempotentProducer
  return { producer, sends }
}

function publisherWith(producer: IdempotentProducer, tracing?: BridgeTracing) {
  const settled: RecordPosition[][] = []
  const fatal: unknown[] = []
  const metrics = createMetrics()
  const publisher = new OutcomePublisher(
    { resultTopic: 'results', dlqTopic: 'dlq', resultSchemaId: 7, stallAfterMs: 10_000 },
    {
      producer,
      codec,
      metrics,
      logger: silentLogger,
      onSettled: (positions) => settled.push(positions),
      onFatal: (err) => fatal.push(err),
      tracing,
    },
  )
  return { publisher, settled, metrics, fatal }
}

async function until(check: () => boolean) {
  for (let i = 0; i < 2000 && !check(); i++) await vi.advanceTimersByTimeAsync(5)
  expect(check()).toBe(true)
}

describe('OutcomePublisher', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('settles source positions only once the result events are acknowledged', async () => {
    // Given a publisher and a producer that has not acknowledged yet
    vi.useFakeTimers()
    const { producer, sends } = scriptedProducer()
    const { publisher, settled } = publisherWith(producer)

    // When a job with two files settles
    publisher.publishJob({
      jobId: 'job1',
      batch: { id: 'b1', systemName: 'archive', kind: 'file', files: [], bytes: 0, closedBy: 'linger' },
      outcomes: [
        {
          file: file('4', 'a'),
          outcome: {
            state: 'imported',
            externalId: 'a',
            systemName: 'archive',
            mediaId: 'm1',
            reason: undefined,
          },
        },
        { file: file('5', 'b'), outcome: { state: 'failed', reason: 'Could not upload file' } },
      ],
    })
    await until(() => sends.length === 1)

    // Then one send carries both results, keyed systemName:externalId, with the trace header carried
    expect(sends[0]?.topic).toBe('results')
    expect(sends[0]?.messages.map((m) => m.key)).toEqual(['archive:a', 'archive:b'])
    expect(sends[0]?.messages[0]?.headers).toEqual([['traceparent', Buffer.from('00-abc-def-01')]])
    const first = JSON.parse(String(sends[0]?.messages[0]?.value)) as {
      id: number
      value: { state: string; mediaId: string }
    }
    expect(first.id).toBe(7)
    expect(first.value).toMatchObject({
      state: 'SUCCESS',
      mediaId: 'm1',
      importJobId: 'job1',
      sourceOffset: 4,
    })
    // And nothing is settled before the acknowledgement
    expect(settled).toEqual([])
    sends[0]?.resolve()
    await until(() => settled.length === 1)
    expect(settled[0]?.map((p) => p.offset)).toEqual(['4', '5'])
    expect(publisher.pending).toBe(0)
  })

  it('counts FAILED results by the reason class of their reason, and the results published', async () => {
    vi.useFakeTimers()
    const { producer, sends } = scriptedProducer()
    const { publisher, metrics } = publisherWith(producer)
    const failed = (offset: string, reason: string) => ({
      file: file(offset, `f${offset}`),
      outcome: { state: 'failed' as const, reason },
    })
    // When a job ends with two upload failures, one metadata failure and an unknown reason
    publisher.publishJob({
      jobId: 'job2',
      batch: { id: 'b2', systemName: 'archive', kind: 'file', files: [], bytes: 0, closedBy: 'linger' },
      outcomes: [
        failed('1', 'Could not upload file: HTTP 404'),
        failed('2', 'Could not upload file: timeout after 10000 ms'),
        failed('3', 'Metadata validation failed. title: Please provide a title'),
        failed('4', 'Something new'),
      ],
    })
    await until(() => sends.length === 1)
    sends[0]?.resolve()
    await until(() => publisher.published.results === 4)
    // Then each class is counted, the others stay at 0
    const text = await metrics.registry.metrics()
    expect(text).toContain('bridge_failed_files_total{reason_class="upload"} 2')
    expect(text).toContain('bridge_failed_files_total{reason_class="metadata"} 1')
    expect(text).toContain('bridge_failed_files_total{reason_class="other"} 1')
    expect(text).toContain('bridge_failed_files_total{reason_class="timeout"} 0')
  })

  it('retries a failed send with backoff until the broker acknowledges, never dropping the results', async () => {
    // Given a producer whose first two sends fail
    vi.useFakeTimers()
    const { producer, sends } = scriptedProducer()
    const { publisher, settled, metrics } = publisherWith(producer)
    publisher.publishJob({
      jobId: 'job2',
      batch: { id: 'b2', systemName: 'archive', kind: 'file', files: [], bytes: 0, closedBy: 'linger' },
      outcomes: [{ file: file('9', 'c'), outcome: { state: 'failed', reason: 'import job failed' } }],
    })
    await until(() => sends.length === 1)
    sends[0]?.reject(brokerDown())
    await until(() => sends.length === 2)
    sends[1]?.reject(brokerDown())
    await until(() => sends.length === 3)
    expect(settled).toEqual([])

    // When the third send is acknowledged
    sends[2]?.resolve()

    // Then the position settles once and the FAILED result is counted once
    await until(() => settled.length === 1)
    expect(settled[0]?.map((p) => p.offset)).toEqual(['9'])
    const counted = (await metrics.files.get()).values.find((v) => v.labels.state === 'FAILED')
    expect(counted?.value).toBe(1)
  })

  it('sends an unusable record to the DLQ unchanged, with the reason and source position in headers', async () => {
    // Given a record with a header of its own
    vi.useFakeTimers()
    const { producer, sends } = scriptedProducer()
    const { publisher, settled } = publisherWith(producer)
    const record: ConsumedRecord = {
      topic: 'in',
      partition: 2,
      offset: '17',
      key: Buffer.from('k'),
      value: Buffer.from([1, 2, 3]),
      headers: [
        ['origin', Buffer.from('legacy')],
        ['n', null],
        ['origin', Buffer.from([0xff, 0x00])],
      ],
      timestamp: 1234,
    }

    // When it is published to the DLQ
    publisher.publishDlq(record, { reason: 'UNKNOWN_WIRE_FORMAT', message: 'first byte 0x01' })
    await until(() => sends.length === 1)

    // Then the value and key are unchanged and the headers explain why and where from
    const message = sends[0]?.messages[0]
    expect(sends[0]?.topic).toBe('dlq')
    expect(message?.value).toEqual(Buffer.from([1, 2, 3]))
    expect(message?.key).toEqual(Buffer.from('k'))
    expect(message?.timestamp).toBe(1234)
    const text = (name: string, value: string) => [name, Buffer.from(value)]
    expect(message?.headers?.slice(0, 9)).toEqual([
      ['origin', Buffer.from('legacy')],
      ['n', null],
      ['origin', Buffer.from([0xff, 0x00])],
      text(DLQ_HEADERS.reason, 'UNKNOWN_WIRE_FORMAT'),
      text(DLQ_HEADERS.message, 'first byte 0x01'),
      text(DLQ_HEADERS.topic, 'in'),
      text(DLQ_HEADERS.partition, '2'),
      text(DLQ_HEADERS.offset, '17'),
      text(DLQ_HEADERS.timestamp, '1234'),
    ])
    expect(message?.headers?.map(([name]) => name).slice(9)).toEqual([DLQ_HEADERS.failedAt])
    expect(settled).toEqual([])
    sends[0]?.resolve()
    await until(() => settled.length === 1)
    expect(settled[0]).toEqual([{ topic: 'in', partition: 2, offset: '17' }])
  })

  it('stops retrying on close, leaving the positions unsettled', async () => {
    // Given a send that keeps failing
    vi.useFakeTimers()
    const { producer, sends } = scriptedProducer()
    const { publisher, settled } = publisherWith(producer)
    publisher.publishDlq(
      { topic: 'in', partition: 0, offset: '1', key: null, value: null, headers: [], timestamp: 0 },
      { reason: 'EMPTY_VALUE', message: 'tombstone' },
    )
    await until(() => sends.length === 1)
    sends[0]?.reject(brokerDown())

    // When the publisher is closed, then it drains without settling and sends no more
    publisher.close()
    await until(() => publisher.pending === 0)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(sends).toHaveLength(1)
    expect(settled).toEqual([])
  })

  it('a DLQ copy the broker refuses as too large goes without its value, then without key and headers', async () => {
    // Given a record with a key, a header and a value
    vi.useFakeTimers()
    const { producer, sends } = scriptedProducer()
    const { publisher, settled, metrics } = publisherWith(producer)
    const value = Buffer.from('v'.repeat(5000))
    const record: ConsumedRecord = {
      topic: 'in',
      partition: 0,
      offset: '3',
      key: Buffer.from('key'),
      value,
      headers: [['h', Buffer.from('x')]],
      timestamp: 99,
    }
    const tooLarge = () =>
      Object.assign(new Error('The request included a message larger than the max message size'), {
        name: 'KafkaJSProtocolError',
        type: 'MESSAGE_TOO_LARGE',
      })
    publisher.publishDlq(record, { reason: 'INVALID_EVENT', message: 'too big' })
    await until(() => sends.length === 1)

    // When the broker refuses the full copy
    sends[0]?.reject(tooLarge())
    await until(() => sends.length === 2)
    // Then it goes without its value, saying why, its size and SHA-256, with key and headers kept
    const second = sends[1]?.messages[0]
    const named = (m: typeof second) =>
      Object.fromEntries((m?.headers ?? []).map(([n, v]) => [n, v?.toString()]))
    expect(second?.value).toEqual(Buffer.alloc(0))
    expect(second?.key).toEqual(Buffer.from('key'))
    expect(second?.headers?.[0]).toEqual(['h', Buffer.from('x')])
    expect(named(second)).toMatchObject({
      'dlq.omitted': 'value',
      'dlq.value.size': '5000',
      'dlq.value.sha256': createHash('sha256').update(value).digest('hex'),
    })
    expect(named(second)['dlq.omitted.reason']).toMatch(/too large: The request included/)
    expect(second?.timestamp).toBe(99)

    // When that is refused too, then it goes without key and original headers
    sends[1]?.reject(tooLarge())
    await until(() => sends.length === 3)
    const third = sends[2]?.messages[0]
    expect(third?.key).toBeNull()
    expect(third?.headers?.[0]?.[0]).toBe('dlq.reason')
    expect(named(third)).toMatchObject({
      'dlq.omitted': 'value,key,headers',
      'dlq.key.size': '3',
      'dlq.key.sha256': createHash('sha256').update('key').digest('hex'),
      'dlq.headers.count': '1',
    })
    sends[2]?.resolve()
    await until(() => settled.length === 1)
    expect((await metrics.dlqValuesOmitted.get()).values[0]?.value).toBe(2)
  })

  it('a send failing past stallAfterMs makes the publisher not ready and sets the gauge, until it goes through', async () => {
    vi.useFakeTimers()
    const { producer, sends } = scriptedProducer()
    const { publisher, settled, metrics } = publisherWith(producer)
    const stalled = async () => (await metrics.publishStalled.get()).values[0]?.value
    publisher.publishDlq(
      { topic: 'in', partition: 0, offset: '1', key: null, value: null, headers: [], timestamp: 0 },
      { reason: 'EMPTY_VALUE', message: 'tombstone' },
    )
    await until(() => sends.length === 1)
    sends[0]?.reject(brokerDown())
    await vi.advanceTimersByTimeAsync(1)
    expect(publisher.readiness()).toEqual([])
    expect(await stalled()).toBe(0)
    // When the bound passes with the send still not through (its retry pending)
    await vi.advanceTimersByTimeAsync(10_100)
    expect(sends.length).toBeGreaterThan(1)
    // Then it says which topic and why, and the gauge is 1
    expect(publisher.readiness()).toEqual(['publishing to dlq failing for 10 s: broker down'])
    expect(await stalled()).toBe(1)
    // When the send goes through, then it is ready again and the gauge is 0
    sends.at(-1)?.resolve()
    await until(() => settled.length === 1)
    expect(publisher.readiness()).toEqual([])
    expect(await stalled()).toBe(0)
  })

  it('a failure only a new process cures is not retried and goes to onFatal', async () => {
    vi.useFakeTimers()
    const { producer, sends } = scriptedProducer()
    const { publisher, settled, fatal } = publisherWith(producer)
    publisher.publishDlq(
      { topic: 'in', partition: 0, offset: '1', key: null, value: null, headers: [], timestamp: 0 },
      { reason: 'EMPTY_VALUE', message: 'tombstone' },
    )
    await until(() => sends.length === 1)
    const fenced = Object.assign(new Error('out of order'), {
      name: 'KafkaJSProtocolError',
      type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
      retriable: false,
    })
    sends[0]?.reject(fenced)
    await until(() => fatal.length === 1)
    expect(fatal).toEqual([fenced])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(sends).toHaveLength(1)
    expect(settled).toEqual([])
  })

  it('while tracing, each result carries its send span in its traceparent; the job span ends once acknowledged', async () => {
    // Given a publisher that makes spans, and a concluded job with its open job span
    vi.useFakeTimers()
    const { tracing, named } = recordSpans()
    const { producer, sends } = scriptedProducer()
    const { publisher } = publisherWith(producer, tracing)
    const batch = {
      id: 'b1',
      systemName: 'archive',
      kind: 'file' as const,
      files: [],
      bytes: 0,
      closedBy: 'linger' as const,
    }
    const span = tracing.startJob(batch, undefined, { resubmits: 0 })

    // When its results are published
    const published = publisher.publishJob({
      jobId: 'job1',
      batch,
      outcomes: [{ file: file('4', 'a'), outcome: { state: 'failed', reason: 'x' } }],
      span,
    })
    await until(() => sends.length === 1)

    // Then the record's traceparent names the send span, in the job's trace, not the input's
    const traceparent = sends[0]?.messages[0]?.headers?.find(([n]) => n === 'traceparent')?.[1]?.toString()
    const parsed = parseTraceparent(traceparent)
    expect(parsed?.traceId).toBe(span?.spanContext().traceId)
    expect(named('import job')).toEqual([])
    // And the spans end once Kafka acknowledged the record
    sends[0]?.resolve()
    expect(await published).toBe(true)
    expect(named('send out').map((x) => x.spanContext().spanId)).toEqual([parsed?.parentId])
    expect(named('import job')).toHaveLength(1)
  })
})
