// The idempotent producer's joining of sends: bounded produce requests, a too-large joined request sent
// again one send at a time, and header lists and timestamps handed to kafkajs' record encoder.
import type { Kafka } from 'kafkajs'
import { describe, expect, it, vi } from 'vitest'
import {
  createIdempotentProducer,
  MAX_JOINED_REQUEST_BYTES,
  type OutgoingMessage,
} from '../../../src/kafka/producer.ts'

type Batch = { topicMessages: Array<{ topic: string; messages: Array<Record<string, unknown>> }> }

/** A kafkajs producer whose sendBatch calls wait until the test settles them. */
function fakeKafka() {
  const calls: Array<{ batch: Batch; resolve: () => void; reject: (e: unknown) => void }> = []
  const producer = {
    connect: vi.fn(async () => undefined),
    disconnect: vi.fn(async () => undefined),
    sendBatch: (batch: Batch) =>
      new Promise<void>((resolve, reject) => {
        calls.push({ batch, resolve, reject })
      }),
  }
  return { kafka: { producer: () => producer } as unknown as Kafka, calls }
}

const sizes = (batch: Batch) =>
  batch.topicMessages.flatMap((t) => t.messages.map((m) => (m.value as Buffer).length))
const message = (bytes: number): OutgoingMessage => ({ key: null, value: Buffer.alloc(bytes) })
const tick = () => new Promise((r) => setImmediate(r))

describe('createIdempotentProducer: linger (PRODUCER_LINGER_MS)', () => {
  it('holds a send for lingerMs so that sends made meanwhile join its request', async () => {
    vi.useFakeTimers()
    try {
      const { kafka, calls } = fakeKafka()
      const producer = createIdempotentProducer(kafka, { lingerMs: 5 })
      // Given a send with no request in flight: nothing goes out before the linger ends
      const sends = [producer.send('t', [message(10)])]
      await vi.advanceTimersByTimeAsync(4)
      sends.push(producer.send('dlq', [message(20)]))
      expect(calls).toHaveLength(0)
      // Then both go in one request once it ends
      await vi.advanceTimersByTimeAsync(1)
      expect(calls).toHaveLength(1)
      expect(sizes(calls[0]?.batch as Batch)).toEqual([10, 20])
      calls[0]?.resolve()
      await Promise.all(sends)
    } finally {
      vi.useRealTimers()
    }
  })

  it('sends at once when the waiting sends reach MAX_JOINED_REQUEST_BYTES, and lingers not at all with 0', async () => {
    vi.useFakeTimers()
    try {
      const { kafka, calls } = fakeKafka()
      const producer = createIdempotentProducer(kafka, { lingerMs: 1000 })
      const half = Math.ceil(MAX_JOINED_REQUEST_BYTES / 2)
      const sends = [producer.send('t', [message(half)])]
      await vi.advanceTimersByTimeAsync(0)
      expect(calls).toHaveLength(0)
      sends.push(producer.send('t', [message(half)]))
      await vi.advanceTimersByTimeAsync(0)
      expect(calls).toHaveLength(1)
      calls[0]?.resolve()
      await vi.advanceTimersByTimeAsync(0)
      // (the second did not fit the first request: it went next, not after another linger)
      expect(calls).toHaveLength(2)
      calls[1]?.resolve()
      await Promise.all(sends)

      const none = fakeKafka()
      const immediate = createIdempotentProducer(none.kafka, { lingerMs: 0 })
      const sent = immediate.send('t', [message(1)])
      await vi.advanceTimersByTimeAsync(0)
      expect(none.calls).toHaveLength(1)
      none.calls[0]?.resolve()
      await sent
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('createIdempotentProducer', () => {
  it('joins sends made during a request into the next one, up to MAX_JOINED_REQUEST_BYTES', async () => {
    const { kafka, calls } = fakeKafka()
    const producer = createIdempotentProducer(kafka)
    const third = Math.floor(MAX_JOINED_REQUEST_BYTES / 3)
    const sends = [producer.send('t', [message(10)])]
    await tick()
    // While the first request is in flight, four sends of a third of the bound each wait
    for (let i = 0; i < 4; i++) sends.push(producer.send('t', [message(third)]))
    calls[0]?.resolve()
    await tick()
    // Then the next request carries as many as fit (two: a third would pass the bound with overheads)
    expect(sizes(calls[1]?.batch as Batch)).toEqual([third, third])
    calls[1]?.resolve()
    await tick()
    expect(sizes(calls[2]?.batch as Batch)).toEqual([third, third])
    calls[2]?.resolve()
    await Promise.all(sends)
  })

  it('sends a joined request refused as too large again one send at a time; only the large one fails', async () => {
    const { kafka, calls } = fakeKafka()
    const producer = createIdempotentProducer(kafka)
    const first = producer.send('t', [message(1)])
    await tick()
    const small = producer.send('t', [message(2)])
    const large = producer.send('dlq', [message(3)])
    calls[0]?.resolve()
    await tick()
    const tooLarge = Object.assign(new Error('too large'), {
      name: 'KafkaJSProtocolError',
      type: 'MESSAGE_TOO_LARGE',
    })
    calls[1]?.reject(tooLarge)
    await tick()
    expect(sizes(calls[2]?.batch as Batch)).toEqual([2])
    calls[2]?.resolve()
    await tick()
    expect(sizes(calls[3]?.batch as Batch)).toEqual([3])
    calls[3]?.reject(tooLarge)
    await expect(large).rejects.toBe(tooLarge)
    await Promise.all([first, small])
  })

  it('splits one send larger than the bound into several requests', async () => {
    const { kafka, calls } = fakeKafka()
    const producer = createIdempotentProducer(kafka)
    const half = MAX_JOINED_REQUEST_BYTES / 2
    let done = false
    const send = producer.send('t', [message(half), message(half), message(half)]).then(() => {
      done = true
    })
    for (let i = 0; i < 10 && !done; i++) {
      await tick()
      calls[i]?.resolve()
    }
    await send
    // Two halves with their overheads are over the bound: each message goes in a request of its own
    expect(calls.map((c) => sizes(c.batch))).toEqual([[half], [half], [half]])
  })

  it('hands header lists and timestamps to the record encoder', async () => {
    const { kafka, calls } = fakeKafka()
    const producer = createIdempotentProducer(kafka)
    const headers = [
      ['a', null],
      ['a', Buffer.from([0xff])],
    ] as const
    const send = producer.send('t', [{ key: 'k', value: null, headers, timestamp: 1234 }])
    await tick()
    expect(calls[0]?.batch.topicMessages[0]?.messages[0]).toEqual({
      key: 'k',
      value: null,
      headerList: headers,
      timestamp: '1234',
    })
    calls[0]?.resolve()
    await send
  })

  it('hands a named partition to kafkajs, and none when the partitioner chooses', async () => {
    const { kafka, calls } = fakeKafka()
    const producer = createIdempotentProducer(kafka)
    const send = producer.send('t', [
      { key: 'k', value: null, partition: 2 },
      { key: 'k', value: null },
    ])
    await tick()
    const [named, chosen] = calls[0]?.batch.topicMessages[0]?.messages ?? []
    expect(named).toEqual({ key: 'k', value: null, partition: 2 })
    expect(chosen).not.toHaveProperty('partition')
    calls[0]?.resolve()
    await send
  })
})
