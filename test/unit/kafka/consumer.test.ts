// The group consumer around kafkajs, with a stand-in kafkajs consumer that records calls and lets the test
// fire group events: commits only for owned partitions (none during a rebalance), and no records taken
// from a fetch response in hand once paused.

import type { EachBatchPayload, Kafka } from 'kafkajs'
import { describe, expect, it, vi } from 'vitest'
import { createGroupConsumer, type RecordHandler } from '../../../src/kafka/consumer.ts'
import { createLogger } from '../../../src/logging.ts'
import { createMetrics } from '../../../src/metrics.ts'
import { LogLines, silentLogger } from '../../support/log-lines.ts'

function fakeKafka() {
  const listeners = new Map<string, (event: { payload: Record<string, unknown> }) => void>()
  let eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined
  const consumer = {
    events: {
      GROUP_JOIN: 'join',
      CRASH: 'crash',
      REBALANCING: 'rebalancing',
      START_BATCH_PROCESS: 'start-batch',
    },
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
  return { onRecord, onAssignment: () => undefined, onEmptyRange: () => undefined }
}

const logger = silentLogger

/** A consumer of topic `in` in group `g` on `fake`, with a silent logger, fresh metrics and `deps` over the defaults. */
function consumerOn(
  fake: ReturnType<typeof fakeKafka>,
  deps: Partial<Parameters<typeof createGroupConsumer>[2]> = {},
) {
  return createGroupConsumer(
    fake.kafka,
    { groupId: 'g', topic: 'in' },
    { logger, metrics: createMetrics(), handler: handler(), ...deps },
  )
}

describe('commit', () => {
  it('commits only partitions owned now, and none between the start of a rebalance and the next join', async () => {
    // Given a member that owns partitions 0 and 1 of topic "in"
    const fake = fakeKafka()
    const consumer = consumerOn(fake)
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

describe('commit at the start of a rebalance', () => {
  it('lets the pipeline commit the partitions owned until now before they are revoked, then none until the join', async () => {
    // Given a member that owns partitions 0 and 1, and a pipeline that commits what settled when told of the revoke
    const fake = fakeKafka()
    const settled = [
      { topic: 'in', partition: 0, offset: '9' },
      { topic: 'in', partition: 1, offset: '4' },
    ]
    const told: number[][] = []
    const sent: Array<Promise<unknown>> = []
    let consumer: ReturnType<typeof consumerOn> | undefined
    consumer = consumerOn(fake, {
      handler: {
        ...handler(),
        onRevoking: (owned) => {
          told.push(owned.partitionsOf('in'))
          sent.push((consumer as ReturnType<typeof consumerOn>).commit(settled))
        },
      },
    })
    await consumer.start()
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [0, 1] } })

    // When a rebalance starts
    fake.fire('rebalancing')

    // Then the pipeline was told which partitions are being revoked, and its commit of both went out
    expect(told).toEqual([[0, 1]])
    expect(await Promise.all(sent)).toEqual([settled])
    expect(fake.consumer.commitOffsets).toHaveBeenLastCalledWith(settled)
    // And from then on until the join, nothing is committed
    expect(await consumer.commit(settled)).toEqual([])
    expect(consumer.assignment.size).toBe(0)
  })

  it('does not tell the pipeline of a revoke when the member owned nothing (its first join, a rebalance in a row)', async () => {
    const fake = fakeKafka()
    const told: number[][] = []
    const consumer = consumerOn(fake, {
      handler: { ...handler(), onRevoking: (owned) => told.push(owned.partitionsOf('in')) },
    })
    await consumer.start()
    fake.fire('rebalancing')
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [3] } })
    fake.fire('rebalancing')
    fake.fire('rebalancing')
    expect(told).toEqual([[3]])
  })
})

describe('rebalancing', () => {
  it('says a rebalance is in progress from its start to the next join, also when the join assigns nothing', async () => {
    const fake = fakeKafka()
    const consumer = consumerOn(fake)
    await consumer.start()
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [0] } })
    expect(consumer.rebalancing).toBe(false)
    fake.fire('rebalancing')
    expect(consumer.rebalancing).toBe(true)
    expect(consumer.assignment.size).toBe(0)
    fake.fire('join', { memberId: 'm', memberAssignment: {} })
    expect(consumer.rebalancing).toBe(false)
    expect(consumer.assignment.size).toBe(0)
  })
})

describe('pause', () => {
  it('takes no more records from a fetch response in hand once paused; the rest stay unresolved', async () => {
    // Given a pipeline that asks for a pause after the second record
    const fake = fakeKafka()
    const seen: string[] = []
    const consumer = consumerOn(fake, {
      handler: handler(async (record) => {
        seen.push(record.offset)
        if (seen.length === 2) consumer.pause()
        return true
      }),
    })
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
      batch: { topic: 'in', partition: 0, messages, lastOffset: () => '13' },
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
      batch: { topic: 'in', partition: 0, messages: messages.slice(2), lastOffset: () => '13' },
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
      { logger, metrics: createMetrics(), handler: handler() },
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
    const consumer = consumerOn(fake, { onFatal: (err) => fatal.push(err) })
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

describe('consumer group events an operator must see', () => {
  const batchOf = (partition: number, fetchedOffset: string, offsets: string[], lastOffset?: string) =>
    ({
      batch: {
        topic: 'in',
        partition,
        fetchedOffset,
        lastOffset: () => lastOffset ?? offsets.at(-1),
        messages: offsets.map((offset) => ({
          offset,
          key: null,
          value: Buffer.from('{}'),
          headers: {},
          timestamp: '0',
        })),
      },
      resolveOffset: () => undefined,
      heartbeat: async () => undefined,
      isRunning: () => true,
      isStale: () => false,
    }) as unknown as EachBatchPayload

  it('counts each join with the partitions assigned and revoked since the previous one', async () => {
    const fake = fakeKafka()
    const metrics = createMetrics()
    const consumer = consumerOn(fake, { metrics })
    await consumer.start()
    // When it joins with 0, 1, 2, then a rebalance leaves it 1, 2, 3
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [0, 1, 2] } })
    fake.fire('rebalancing')
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [1, 2, 3] } })
    // Then two rebalances, 4 partitions assigned in all, 1 revoked, 3 owned
    const text = await metrics.registry.metrics()
    expect(text).toContain('bridge_rebalances_total 2')
    expect(text).toContain('bridge_partition_changes_total{change="assigned"} 4')
    expect(text).toContain('bridge_partition_changes_total{change="revoked"} 1')
    expect(text).toContain('bridge_partitions_owned 3')
  })

  it('hands the range of a fetch of control records only (a commit marker) to the pipeline', async () => {
    const fake = fakeKafka()
    const empty: unknown[] = []
    const consumer = consumerOn(fake, { handler: { ...handler(), onEmptyRange: (p) => empty.push(p) } })
    await consumer.start()
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [0] } })
    // When kafkajs reports a batch of no records from offset 12 to 12 (a marker), and a batch with records
    fake.fire('start-batch', { topic: 'in', partition: 0, batchSize: 0, firstOffset: '12', lastOffset: '12' })
    fake.fire('start-batch', { topic: 'in', partition: 0, batchSize: 3, firstOffset: '13', lastOffset: '15' })
    // Then only the empty one is passed on
    expect(empty).toEqual([{ topic: 'in', partition: 0, offset: '12' }])

    // When a batch's last record (16) is followed by a commit marker (17), which kafkajs filtered out and
    // resolves with the record
    await fake.eachBatch(batchOf(0, '16', ['16'], '17'))
    // Then the marker's offset is passed over too, so that the commit reaches the log end
    expect(empty).toEqual([
      { topic: 'in', partition: 0, offset: '12' },
      { topic: 'in', partition: 0, offset: '17' },
    ])
  })

  it('a read of committed offsets that ends after the stop, or while kafkajs restarts, touches no pause', async () => {
    // Given a member whose read of the committed offsets of a new partition is still out, and a kafkajs
    // consumer that, like kafkajs without a consumer group, throws on pause and resume
    const fake = fakeKafka()
    let answer: (offsets: Map<number, bigint | null>) => void = () => undefined
    const consumer = consumerOn(fake, {
      readCommitted: () =>
        new Promise((resolve) => {
          answer = resolve
        }),
    })
    await consumer.start()
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [0, 1] } })
    const notRunning = () => {
      throw new Error('Consumer group was not initialized, consumer#run must be called first')
    }
    fake.consumer.pause.mockImplementation(notRunning)
    fake.consumer.resume.mockImplementation(notRunning)

    // When backpressure pauses it between a crash and the restart, nothing throws
    expect(() => consumer.pause()).not.toThrow()
    expect(consumer.isPaused).toBe(true)

    // When it stops and the read answers afterwards
    fake.consumer.pause.mockClear()
    fake.consumer.resume.mockClear()
    await consumer.stop()
    answer(new Map([[0, 5n]]))
    await new Promise((r) => setTimeout(r, 0))
    // Then no pause or resume reaches kafkajs (it would throw out of the read's callback: an unhandled
    // rejection that ends the process)
    expect(fake.consumer.pause).not.toHaveBeenCalled()
    expect(fake.consumer.resume).not.toHaveBeenCalled()
  })

  it('reads committed offsets of newly assigned partitions first, and reports a reset past them with both offsets', async () => {
    // Given partition 0 committed at 100, read before its first fetch (paused meanwhile)
    const fake = fakeKafka()
    const metrics = createMetrics()
    const logs = new LogLines()
    const consumer = consumerOn(fake, {
      logger: createLogger({ level: 'info', destination: logs.writable() }),
      metrics,
      readCommitted: async (partitions) => new Map(partitions.map((p) => [p, 100n])),
    })
    await consumer.start()
    fake.fire('join', { memberId: 'm', memberAssignment: { in: [0] } })
    expect(fake.consumer.pause).toHaveBeenLastCalledWith([{ topic: 'in', partitions: [0] }])
    await new Promise((r) => setTimeout(r, 0))
    expect(fake.consumer.resume).toHaveBeenLastCalledWith([{ topic: 'in' }])

    // When the first fetch starts at 160: kafkajs reset the out-of-range committed offset to the log start
    await fake.eachBatch(batchOf(0, '160', ['160', '161']))
    // Then 60 records are counted as skipped, and one line names the partition and both offsets
    expect(await metrics.registry.metrics()).toContain(
      'bridge_offsets_skipped_total{position="committed"} 60',
    )
    const line = logs.lines.find((l) => String(l.msg).startsWith('offset out of range'))
    expect(line).toMatchObject({ level: 50, partition: 0, oldOffset: '100', newOffset: '160', lost: 60 })

    // When a later fetch starts where the last one ended, nothing more is reported
    await fake.eachBatch(batchOf(0, '162', ['162']))
    // And when its own position 163 is reset to 200 while it read (held, records deleted meanwhile)
    await fake.eachBatch(batchOf(0, '200', ['200']))
    expect(await metrics.registry.metrics()).toContain('bridge_offsets_skipped_total{position="fetch"} 37')
  })
})
