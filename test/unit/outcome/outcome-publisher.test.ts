import { afterEach, describe, expect, it, vi } from 'vitest'
import { fileEntryJson } from '../../../src/events/decode.ts'
import type { SchemaCodec } from '../../../src/events/registry.ts'
import type { IdempotentProducer, OutgoingMessage } from '../../../src/kafka/producer.ts'
import { createMetrics } from '../../../src/metrics.ts'
import { DLQ_HEADERS, OutcomePublisher } from '../../../src/outcome/outcome-publisher.ts'
import type { ConsumedRecord, PendingFile, RecordPosition } from '../../../src/pipeline/types.ts'
import { silentLogger } from '../../support/log-lines.ts'

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
    entryJson: fileEntryJson(event),
    position: { topic: 'in', partition: 0, offset },
    consumedAt: Date.now(),
    bytes: 10,
    headers: { traceparent: '00-abc-def-01' },
  }
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

function publisherWith(producer: IdempotentProducer) {
  const settled: RecordPosition[][] = []
  const metrics = createMetrics()
  const publisher = new OutcomePublisher(
    { resultTopic: 'results', dlqTopic: 'dlq', resultSchemaId: 7 },
    {
      producer,
      codec,
      metrics,
      logger: silentLogger,
      onSettled: (positions) => settled.push(positions),
    },
  )
  return { publisher, settled, metrics }
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
      batch: { id: 'b1', systemName: 'archive', kind: 'file', files: [], bytes: 0, reason: 'linger' },
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
    expect(sends[0]?.messages[0]?.headers).toEqual({ traceparent: '00-abc-def-01' })
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

  it('retries a failed send with backoff until the broker acknowledges, never dropping the results', async () => {
    // Given a producer whose first two sends fail
    vi.useFakeTimers()
    const { producer, sends } = scriptedProducer()
    const { publisher, settled, metrics } = publisherWith(producer)
    publisher.publishJob({
      jobId: 'job2',
      batch: { id: 'b2', systemName: 'archive', kind: 'file', files: [], bytes: 0, reason: 'linger' },
      outcomes: [{ file: file('9', 'c'), outcome: { state: 'failed', reason: 'import job failed' } }],
    })
    await until(() => sends.length === 1)
    sends[0]?.reject(new Error('broker down'))
    await until(() => sends.length === 2)
    sends[1]?.reject(new Error('broker down'))
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
      headers: { origin: 'legacy' },
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
    expect(message?.headers).toMatchObject({
      origin: 'legacy',
      [DLQ_HEADERS.reason]: 'UNKNOWN_WIRE_FORMAT',
      [DLQ_HEADERS.message]: 'first byte 0x01',
      [DLQ_HEADERS.topic]: 'in',
      [DLQ_HEADERS.partition]: '2',
      [DLQ_HEADERS.offset]: '17',
      [DLQ_HEADERS.timestamp]: '1234',
    })
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
      { topic: 'in', partition: 0, offset: '1', key: null, value: null, headers: {}, timestamp: 0 },
      { reason: 'EMPTY_VALUE', message: 'tombstone' },
    )
    await until(() => sends.length === 1)
    sends[0]?.reject(new Error('broker down'))

    // When the publisher is closed, then it drains without settling and sends no more
    publisher.close()
    await until(() => publisher.pending === 0)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(sends).toHaveLength(1)
    expect(settled).toEqual([])
  })
})
