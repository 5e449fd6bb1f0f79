// The group consumer around kafkajs, with a stand-in kafkajs consumer that records calls and lets the test
// fire group events: commits only for owned partitions (none during a rebalance), and no records taken
// from a fetch response in hand once paused.

import type { EachBatchPayload, Kafka } from 'kafkajs'
import { describe, expect, it, vi } from 'vitest'
import { createGroupConsumer, type RecordHandler } from '../../../src/kafka/consumer.ts'
import { silentLogger } from '../../support/log-lines.ts'

function fakeKafka() {
  const listeners = new Map<string, (event: { payload: Record<string, unknown> }) => void>()
  let eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined
  const consumer = {
    events: { GROUP_JOIN: 'join', CRASH: 'crash', REBALANCING: 'rebalancing' },
    on: (name: string, fn: (event: { payload: Record<string, unknown> }) => void) => listeners.set(name, fn),
    connect: vi.fn(async () => undefined),
    subscribe: vi.fn(async () => undefined),
    run: vi.fn(async (options: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) => {
      eachBatch = options.eachBatch
    }),
    commitOffsets: vi.fn(async () => undefined),
    pause: vi.fn(),
    resume: vi.fn(),
    disconnect: vi.fn(async () => undefined),
  }
  const kafka = { consumer: vi.fn(() => consumer) } as unknown as Kafka
  return {
    kafka,
    consumer,
    fire: (name: string, payload: Record<string, unknown> = {}) => listeners.get(name)?.({ payload }),
    eachBatch: (payload: EachBatchPayload) => (eachBatch as (p: EachBatchPayload) => Promise<void>)(payload),
  }
}

function handler(onRecord: RecordHandler['onRecord'] = async () => true): RecordHandler {
  return { onRecord, onAssignment: () => undefined }
}

const logger = silentLogger

describe('commit', () => {
  it('commits only partitions owned now, and none between the start of a rebalance and the next join', async () => {
    // Given a member that owns partitions 0 and 1 of topic "in"
    const fake = fakeKafka()
    const consumer = createGroupConsumer(
      fake.kafka,
      { groupId: 'g', topic: 'in' },
      { logger, handler: handler() },
    )
    await consumer.start()
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [0, 1] } })
    const offsets = [
      { topic: 'in', partition: 0, offset: '5' },
      { topic: 'in', partition: 2, offset: '7' },
    ]

    // When it commits offsets of partitions 0 and 2, only partition 0 goes out
    expect(await consumer.commit(offsets)).toEqual([offsets[0]])
    expect(fake.consumer.commitOffsets).toHaveBeenLastCalledWith([offsets[0]])

    // When a rebalance starts, nothing is committed at all
    fake.fire('rebalancing')
    fake.consumer.commitOffsets.mockClear()
    expect(await consumer.commit(offsets)).toEqual([])
    expect(fake.consumer.commitOffsets).not.toHaveBeenCalled()

    // When the join gives it partition 2 only, only partition 2 is committed
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [2] } })
    expect(await consumer.commit(offsets)).toEqual([offsets[1]])
  })
})

describe('pause', () => {
  it('takes no more records from a fetch response in hand once paused; the rest stay unresolved', async () => {
    // Given a pipeline that asks for a pause after the second record
    const fake = fakeKafka()
    const seen: string[] = []
    const consumer = createGroupConsumer(
      fake.kafka,
      { groupId: 'g', topic: 'in' },
      {
        logger,
        handler: handler(async (record) => {
          seen.push(record.offset)
          if (seen.length === 2) consumer.pause()
          return true
        }),
      },
    )
    await consumer.start()
    const resolved: string[] = []
    const messages = ['10', '11', '12', '13'].map((offset) => ({
      offset,
      key: null,
      value: Buffer.from('{}'),
      headers: {},
      timestamp: '0',
    }))

    // When a batch of four records arrives
    await fake.eachBatch({
      batch: { topic: 'in', partition: 0, messages },
      resolveOffset: (o: string) => resolved.push(o),
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload)

    // Then two records were taken and the last of them resolved (once: only the last resolved offset
    // counts), and the next two are left for the fetch after resume
    expect(seen).toEqual(['10', '11'])
    expect(resolved).toEqual(['11'])
    expect(fake.consumer.pause).toHaveBeenCalledWith([{ topic: 'in' }])
    // And after a resume the records are taken again
    consumer.resume()
    await fake.eachBatch({
      batch: { topic: 'in', partition: 0, messages: messages.slice(2) },
      resolveOffset: (o: string) => resolved.push(o),
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload)
    expect(seen).toEqual(['10', '11', '12', '13'])
    expect(resolved).toEqual(['11', '13'])
  })

  it('passes bounded fetch sizes and a heartbeat interval under a third of the session timeout to kafkajs', () => {
    const fake = fakeKafka()
    createGroupConsumer(
      fake.kafka,
      {
        groupId: 'g',
        topic: 'in',
        sessionTimeoutMs: 6000,
        fetchMaxBytes: 2048,
        fetchMaxBytesPerPartition: 1024,
      },
      { logger, handler: handler() },
    )
    expect(fake.kafka.consumer).toHaveBeenCalledWith(
      expect.objectContaining({
        sessionTimeout: 6000,
        heartbeatInterval: 2000,
        maxBytes: 2048,
        maxBytesPerPartition: 1024,
      }),
    )
  })
})

describe('crashes', () => {
  /** A started member whose fatal crashes are collected. */
  async function startedWithOnFatal() {
    const fake = fakeKafka()
    const fatal: unknown[] = []
    const consumer = createGroupConsumer(
      fake.kafka,
      { groupId: 'g', topic: 'in' },
      { logger, handler: handler(), onFatal: (err) => fatal.push(err) },
    )
    await consumer.start()
    return { fake, fatal, consumer }
  }

  it('a crash kafkajs does not restart goes to onFatal once and makes the member not ready; a restarted one does not', async () => {
    // Given a joined member
    const { fake, fatal, consumer } = await startedWithOnFatal()
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [0] } })
    expect(consumer.isReady).toBe(true)

    // When kafkajs reports a crash it restarts from (a broker hiccup)
    fake.fire('crash', { error: new Error('broker gone'), restart: true })
    // Then the member is not ready until it rejoins, and nothing is fatal
    expect(consumer.isReady).toBe(false)
    expect(fatal).toEqual([])
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [0] } })
    expect(consumer.isReady).toBe(true)

    // When kafkajs reports a crash it does not restart from (e.g. a compression codec it lacks)
    const codec = Object.assign(new Error('LZ4 compression not implemented'), {
      name: 'KafkaJSNotImplemented',
    })
    fake.fire('crash', { error: codec, restart: false })
    // Then it goes to onFatal with its cause
    expect(fatal).toEqual([codec])
    expect(consumer.isReady).toBe(false)
  })

  it('a crash while stopping is not fatal', async () => {
    const { fake, fatal, consumer } = await startedWithOnFatal()
    await consumer.stop()
    fake.fire('crash', { error: new Error('disconnected'), restart: false })
    expect(fatal).toEqual([])
  })
})
