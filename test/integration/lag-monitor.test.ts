import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createKafka } from '../../src/kafka/client.ts'
import { createGroupOffsetsReader } from '../../src/kafka/group-offsets.ts'
import { createLagMonitor } from '../../src/kafka/lag-monitor.ts'
import { ensureTopics } from '../../src/kafka/topics.ts'
import { createLogger } from '../../src/logging.ts'
import { createMetrics } from '../../src/metrics.ts'
import type { OffsetsSnapshot } from '../../src/model/offsets.ts'
import { testProducer } from '../support/test-producer.ts'

const { brokers } = inject('kafka')

describe('consumer lag monitor on a real broker', () => {
  const kafka = createKafka({ brokers, clientId: 'lag-test' }, { logger: createLogger({ level: 'fatal' }) })
  const topic = `lag-${randomUUID().slice(0, 8)}`
  const groupId = `${topic}-group`
  const producer = testProducer(kafka)

  beforeAll(async () => {
    await ensureTopics(kafka, [{ topic, numPartitions: 3 }])
    await producer.connect()
    // Given 5 records on partition 0, 3 on partition 1 and none on partition 2
    const messages = (partition: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ partition, value: `v${i}` }))
    await producer.send({ topic, messages: [...messages(0, 5), ...messages(1, 3)] })
    // And a group that committed offset 2 on partition 0 only
    const admin = kafka.admin()
    await admin.connect()
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '2' }] })
    await admin.disconnect()
  })

  afterAll(async () => {
    await producer.disconnect()
  })

  it('exports log-end minus committed offset per owned partition and removes partitions no longer owned', async () => {
    const metrics = createMetrics()
    let owned = [0, 1, 2]
    const reader = createGroupOffsetsReader(kafka, { groupId, topic })
    const snapshots: OffsetsSnapshot[] = []
    const monitor = createLagMonitor(
      reader,
      { topic, intervalMs: 0 },
      {
        metrics,
        logger: createLogger({ level: 'fatal' }),
        owned: () => owned,
        onSnapshot: (s) => snapshots.push(s),
      },
    )
    try {
      // When lag is measured for partitions 0, 1 and 2
      const lags = await monitor.measure()

      // Then partition 0 lags 5 - 2, partition 1 (never committed) counts from the log start, 2 is empty
      expect(lags.map((l) => [l.partition, Number(l.logEnd), l.committed, Number(l.lag)])).toEqual([
        [0, 5, 2n, 3],
        [1, 3, null, 3],
        [2, 0, null, 0],
      ])
      const text = await metrics.registry.metrics()
      expect(text).toContain(`bridge_consumer_lag{topic="${topic}",partition="0"} 3`)
      expect(text).toContain(`bridge_consumer_lag{topic="${topic}",partition="1"} 3`)
      expect(text).toContain(`bridge_consumer_lag{topic="${topic}",partition="2"} 0`)

      // When a rebalance leaves this replica partition 1 only, and more records arrive there
      owned = [1]
      await producer.send({ topic, messages: [{ partition: 1, value: 'late' }] })
      await monitor.measure()

      // Then only partition 1 has a series, with the new record counted
      const after = await metrics.registry.metrics()
      expect(after).toContain(`bridge_consumer_lag{topic="${topic}",partition="1"} 4`)
      expect(after).not.toContain(`partition="0"`)
      expect(after).not.toContain(`partition="2"`)
      // And every read covered all partitions of the topic, whoever owns them (the group's backlog)
      expect(snapshots.at(-1)?.partitions.map((p) => [p.partition, p.committed, Number(p.logEnd)])).toEqual([
        [0, 2n, 5],
        [1, null, 4],
        [2, null, 0],
      ])

      // When the replica owns nothing (between rebalances), no series is left
      owned = []
      await monitor.measure()
      expect(await metrics.registry.metrics()).not.toContain(`bridge_consumer_lag{`)
    } finally {
      await monitor.stop()
      await reader.close()
    }
  })
})
