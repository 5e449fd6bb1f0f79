// The metrics an operator of a migration asks for, on the real broker, registry and emulator: a drained
// input written in transactions reads 0 (kedacore/keda#5675), records deleted before they were read
// move the skip metric by their count with one line naming both offsets, a rebalance and FAILED results
// by reason class move theirs.
import { describe, expect, it } from 'vitest'
import { ensureTopics } from '../../src/kafka/topics.ts'
import { readSchema } from '../../src/registry/registry.ts'
import type { TestBridge } from '../support/bridge-harness.ts'
import {
  bridgeEnv,
  createTopics,
  metricValue,
  produceRecords,
  sampleExport,
  scrapeMetric,
  startBridgeIn,
  startEmulator,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import { deleteRecordsBelow, sourceOf, waitCommittedAtLogEnd } from '../support/fault-run.ts'
import { consoleProduce, kafkaTool } from '../support/kafka-tools.ts'
import { testProducer } from '../support/test-producer.ts'

describe('metrics of a migration on a real broker', () => {
  const { world, emulator } = useE2eWorld({ images: 6, pdfs: 6 }, { emulator: { token: 'migration-token' } })

  const start = (env: Record<string, string>): Promise<TestBridge> => startBridgeIn(world, env)

  it('an input written by a kafkajs transactional producer drains to 0: committed = log end, lag 0', async () => {
    // Given an input topic of 2 partitions written in 3 transactions (each ends with a commit marker)
    const { topics, results } = await createTopics(world, 'txn', 2)
    const { records } = sampleExport(world, 'txn', { broken: 0, repeats: 0 })
    const schemaId = await world.codec.register(`${topics.input}-value`, await readSchema('fileCreated'))
    const producer = testProducer(world.kafka, { transactionalId: `${topics.input}-producer` })
    await producer.connect()
    for (let i = 0; i < records.length; i += 5) {
      const txn = await producer.transaction()
      const messages = await Promise.all(
        records.slice(i, i + 5).map(async (r, j) => ({
          key: r.externalId,
          partition: (i + j) % 2,
          value: await world.codec.encode(schemaId, {
            ...r,
            mediaType: 'file',
            metadata: JSON.stringify(r.metadata ?? {}),
            systemName: r.systemName ?? null,
            occurredAt: Date.parse(r.occurredAt),
          }),
        })),
      )
      await txn.send({ topic: topics.input, messages })
      await txn.commit()
    }
    await producer.disconnect()

    // When a bridge imports them
    const bridge = await start({ ...bridgeEnv(world, emulator, topics), LAG_INTERVAL_MS: '300' })
    await results.waitFor((r) => r.length >= records.length, 90_000, 'a result per record')

    // Then the committed offsets reach the log end, which lies one past the last record (the marker)
    const ends = await waitCommittedAtLogEnd(world, { topics }, 60_000)
    const lastRecord = new Map<number, number>()
    for (const r of results.records)
      lastRecord.set(
        r.value.sourcePartition,
        Math.max(lastRecord.get(r.value.sourcePartition) ?? -1, r.value.sourceOffset),
      )
    for (const [p, end] of ends) expect(end).toBe((lastRecord.get(p) ?? -1) + 2)
    // And the lag and the backlog read 0
    await waitUntil(
      async () => {
        const text = await (await fetch(bridge.metricsUrl)).text()
        return (
          metricValue(text, 'bridge_consumer_lag') === 0 &&
          metricValue(text, `bridge_backlog_records{topic="${topics.input}"}`) === 0 &&
          metricValue(text, `bridge_backlog_done_records{topic="${topics.input}"}`) ===
            [...ends.values()].reduce((a, b) => a + b, 0)
        )
      },
      30_000,
      'lag and backlog 0',
    )
  })

  it("an input copied in transactions by Kafka's own TransactionalMessageCopier, with random aborts, drains to 0", async () => {
    // Given JSON events written to a staging topic by Kafka's console producer
    const { topics, results } = await createTopics(world, 'copier', 1)
    const staging = `${topics.input}.staging`
    await ensureTopics(world.kafka, [{ topic: staging, numPartitions: 1 }])
    const { records } = sampleExport(world, 'copier', { broken: 0, repeats: 0 })
    const lines = records.map((r) => JSON.stringify({ ...r, metadata: r.metadata ?? {} }))
    await consoleProduce({ brokers: world.brokers, topic: staging, lines })
    // And copied to the input topic in transactions of 4 records, some aborted and copied again
    await kafkaTool([
      'org.apache.kafka.tools.TransactionalMessageCopier',
      '--broker-list',
      world.brokers.join(','),
      '--input-topic',
      staging,
      '--input-partition',
      '0',
      '--output-topic',
      topics.input,
      '--transactional-id',
      `${topics.input}-copier`,
      '--consumer-group',
      `${topics.input}-copier`,
      '--transaction-size',
      '4',
      '--max-messages',
      String(records.length),
      '--enable-random-aborts',
    ])

    // When a bridge imports them
    await start({ ...bridgeEnv(world, emulator, topics) })
    await results.waitFor(
      (r) => new Set(r.map((x) => x.value.externalId)).size >= records.length,
      90_000,
      'a result per record',
    )

    // Then every record got exactly one result (aborted copies are never read) and the group drains to
    // the log end, past the last commit marker
    expect(results.records).toHaveLength(records.length)
    const [end] = [...(await waitCommittedAtLogEnd(world, { topics }, 60_000)).values()]
    expect(end).toBeGreaterThan(records.length)
  })

  it('records deleted before they were read: the skip metric moves by their count, one line names both offsets', async () => {
    // Given a bridge held by the import API refusing its token: 10 files in flight, fetching paused
    const { topics, results } = await createTopics(world, 'skip', 1)
    const held = await startEmulator(world, { token: 'skip-token' })
    held.setTokens({})
    const records = Array.from({ length: 40 }, (_, i) => ({
      externalId: `skip-${i}`,
      url: `${world.fileServer.url}/${world.files[i % world.files.length]?.name}`,
      fileName: `skip ${i}`,
      systemName: 'legacy-archive',
      occurredAt: new Date(Date.UTC(2024, 0, 1)).toISOString(),
    }))
    await produceRecords(world, topics.input, records)
    const env = {
      ...bridgeEnv(world, held, topics),
      MAX_FILES_IN_FLIGHT: '10',
      BATCH_MAX_FILES: '5',
      API_HOLD_RECHECK_MS: '200',
    }
    const bridge = await start(env)
    await waitUntil(
      async () => (await scrapeMetric(bridge, 'bridge_fetch_paused')) === 1,
      60_000,
      'fetch paused',
    )
    const consumed = await scrapeMetric(bridge, 'bridge_events_consumed_total')
    expect(consumed).toBeLessThan(30)

    // When retention deletes the records below offset 30 (deleteRecords), and the API takes the token again
    await deleteRecordsBelow(world.kafka, topics.input, 0, 30)
    held.setTokens({ 'skip-token': ['public-api:write'] })

    // Then the records consumed before and the 10 after offset 30 get results, the others none
    await results.waitFor((r) => r.length >= consumed + 10, 60_000, 'results of the records left')
    const sources = new Set(results.records.map(sourceOf))
    expect(sources.size).toBe(consumed + 10)
    // And the skip metric counts the records lost, from the fetch position
    await waitUntil(
      async () =>
        (await scrapeMetric(bridge, 'bridge_offsets_skipped_total{position="fetch"}')) === 30 - consumed,
      30_000,
      'skipped records counted',
    )
    // And one line names the partition, the old and the new offset and the records lost
    const lines = bridge.logs.lines.filter((l) => String(l.msg).startsWith('offset out of range'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      level: 50,
      topic: topics.input,
      partition: 0,
      position: 'fetch',
      oldOffset: String(consumed),
      newOffset: '30',
      lost: 30 - consumed,
    })
    await waitCommittedAtLogEnd(world, { topics }, 60_000)
    await bridge.stop()

    // When, with the bridge stopped, 20 more records come and those below offset 50 are deleted
    await produceRecords(
      world,
      topics.input,
      records.slice(0, 20).map((r) => ({ ...r, externalId: `${r.externalId}-b` })),
    )
    await deleteRecordsBelow(world.kafka, topics.input, 0, 50)
    const next = await start(env)

    // Then the next bridge reports the 10 records between the committed offset 40 and 50 as skipped
    await waitUntil(
      async () => (await scrapeMetric(next, 'bridge_offsets_skipped_total{position="committed"}')) === 10,
      60_000,
      'records skipped from the committed offset counted',
    )
    expect(next.logs.lines.find((l) => String(l.msg).startsWith('offset out of range'))).toMatchObject({
      position: 'committed',
      oldOffset: '40',
      newOffset: '50',
      lost: 10,
    })
    await results.waitFor((r) => r.length >= consumed + 20, 60_000, 'results of the records after 50')
  })

  it('a rebalance moves the join and partition metrics; FAILED results move their reason class', async () => {
    // Given a bridge alone on a 3-partition input, and an export with broken URLs
    const { topics, results } = await createTopics(world, 'rebal', 3)
    const env = { ...bridgeEnv(world, emulator, topics), KAFKA_SESSION_TIMEOUT_MS: '6000' }
    const first = await start(env)
    await waitUntil(
      async () => (await scrapeMetric(first, 'bridge_partitions_owned')) === 3,
      60_000,
      'first owns all',
    )
    expect(await scrapeMetric(first, 'bridge_rebalances_total')).toBe(1)
    expect(await scrapeMetric(first, 'bridge_partition_changes_total{change="assigned"}')).toBe(3)

    // When a second member joins the group
    const second = await start(env)
    await waitUntil(
      async () =>
        (await scrapeMetric(first, 'bridge_partitions_owned')) +
          (await scrapeMetric(second, 'bridge_partitions_owned')) ===
          3 && (await scrapeMetric(second, 'bridge_partitions_owned')) > 0,
      60_000,
      'partitions shared',
    )
    // Then the first counts a second join and the partitions it gave up, the second what it got
    expect(await scrapeMetric(first, 'bridge_rebalances_total')).toBe(2)
    const moved = await scrapeMetric(second, 'bridge_partitions_owned')
    expect(await scrapeMetric(first, 'bridge_partition_changes_total{change="revoked"}')).toBe(moved)
    expect(await scrapeMetric(second, 'bridge_partition_changes_total{change="assigned"}')).toBe(moved)
    expect(first.logs.lines.filter((l) => l.msg === 'joined consumer group').at(-1)).toMatchObject({
      revoked: expect.any(Array),
      assigned: [],
    })

    // When an export with 3 unreachable URLs is imported
    const { records } = sampleExport(world, 'rebal', { broken: 3, repeats: 0 })
    await produceRecords(world, topics.input, records)
    await results.waitFor((r) => r.length >= records.length, 90_000, 'a result per record')

    // Then the FAILED results are counted under their reason class "upload" over both members
    const failed = results.records.filter((r) => r.value.state === 'FAILED')
    expect(failed).toHaveLength(3)
    const upload = async () =>
      (await scrapeMetric(first, 'bridge_failed_files_total{reason_class="upload"}')) +
      (await scrapeMetric(second, 'bridge_failed_files_total{reason_class="upload"}'))
    expect(await upload()).toBe(3)
    expect(await scrapeMetric(first, 'bridge_failed_files_total{reason_class="other"}')).toBe(0)
  })
})
