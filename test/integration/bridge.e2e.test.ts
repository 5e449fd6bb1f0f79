import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { produceExport } from '../../scripts/produce-export.ts'
import { createSchemaCodec, type SchemaCodec } from '../../src/events/registry.ts'
import { ensureTopics } from '../../src/kafka/admin.ts'
import { createKafka, type Kafka } from '../../src/kafka/client.ts'
import { createLogger } from '../../src/logging.ts'
import type { FileImportResult } from '../../src/outcome/outcome-event.ts'
import { startTestBridge, type TestBridge, uniqueTopics } from '../support/bridge-harness.ts'
import { type FileServer, startFileServer } from '../support/file-server.ts'
import {
  type RunningLivingdocsEmulator,
  startLivingdocsEmulator,
} from '../support/livingdocs-emulator/index.ts'
import { resultDecoder, startTopicReader, type TopicReader } from '../support/result-reader.ts'
import { buildSampleExport, type Expected, type ExportRecord } from '../support/sample-export.ts'
import { type SampleFile, writeSampleFiles } from '../support/sample-files.ts'

const { brokers, schemaRegistryUrl } = inject('kafka')
const TOKEN = 'e2e-token'

describe('bridge end to end on a real broker, registry and the Livingdocs emulator', () => {
  let kafka: Kafka
  let codec: SchemaCodec
  let dir: string
  let files: SampleFile[]
  let fileServer: FileServer
  let emulator: RunningLivingdocsEmulator
  const cleanups: Array<() => Promise<unknown>> = []

  beforeAll(async () => {
    kafka = createKafka({ brokers, clientId: 'e2e-test' }, { logger: createLogger({ level: 'error' }) })
    codec = createSchemaCodec({ url: schemaRegistryUrl })
    dir = await mkdtemp(join(tmpdir(), 'fib-e2e-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    files = await writeSampleFiles(dir, { images: 24, pdfs: 16 })
    fileServer = await startFileServer(dir)
    cleanups.push(() => fileServer.close())
    emulator = await startLivingdocsEmulator({ token: TOKEN })
    cleanups.push(() => emulator.close())
  })

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
  })

  async function setup(prefix: string, env: Record<string, string> = {}) {
    const topics = uniqueTopics(prefix)
    await ensureTopics(kafka, [
      { topic: topics.input, numPartitions: 3 },
      { topic: topics.result, numPartitions: 3 },
      { topic: topics.dlq, numPartitions: 1 },
    ])
    const bridgeEnv = {
      KAFKA_BROKERS: brokers.join(','),
      SCHEMA_REGISTRY_URL: schemaRegistryUrl,
      LIVINGDOCS_BASE_URL: emulator.url,
      LIVINGDOCS_API_VERSION: emulator.apiVersion,
      LIVINGDOCS_ACCESS_TOKEN: TOKEN,
      INPUT_TOPIC: topics.input,
      RESULT_TOPIC: topics.result,
      DLQ_TOPIC: topics.dlq,
      KAFKA_GROUP_ID: topics.group,
      ...env,
    }
    const results = await startTopicReader(kafka, topics.result, resultDecoder(codec))
    cleanups.push(() => results.stop())
    const start = async () => {
      const b = await startTestBridge(bridgeEnv)
      cleanups.push(() => b.stop())
      return b
    }
    return { topics, results, start }
  }

  function exportOf(prefix: string) {
    return buildSampleExport({
      files,
      baseUrl: fileServer.url,
      systemName: 'legacy-archive',
      idPrefix: prefix,
      broken: 6,
      repeats: 4,
      unreachableUrl: 'http://127.0.0.1:9',
    })
  }

  async function produce(topic: string, records: ExportRecord[]) {
    await produceExport({ records, topic, brokers, schemaRegistryUrl, format: 'avro' })
  }

  /** Results grouped per source offset: each consumed record should have exactly one. */
  function byExternalId(results: TopicReader<FileImportResult>) {
    const map = new Map<string, FileImportResult[]>()
    for (const r of results.records) {
      const list = map.get(r.value.externalId) ?? []
      list.push(r.value)
      map.set(r.value.externalId, list)
    }
    return map
  }

  it('gives every file of an export exactly one result with the right state, and SKIPPED when re-sent', async () => {
    // Given a bridge and an export of 40 real files, 6 broken URLs and 4 repeated ids
    const { topics, results, start } = await setup('e2e-states')
    const bridge: TestBridge = await start()
    const { records, expected } = exportOf('states')

    // When the export is produced
    await produce(topics.input, records)
    await results.waitFor((r) => r.length >= records.length, 90_000, 'a result per record')

    // Then each record has exactly one result event, in the state the export expects
    expect(results.records).toHaveLength(records.length)
    const bySource = new Map(
      results.records.map((r) => [`${r.value.sourcePartition}:${r.value.sourceOffset}`, r.value]),
    )
    expect(bySource.size).toBe(records.length)
    const counts = countStates(results.records.map((r) => r.value))
    expect(counts).toEqual(countExpected(expected))
    const grouped = byExternalId(results)
    records.forEach((record, i) => {
      const states = (grouped.get(record.externalId) ?? []).map((r) => r.state).sort()
      expect(states.length, record.externalId).toBeGreaterThan(0)
      expect(states, record.externalId).toContain(expected[i])
    })
    for (const r of results.records.map((x) => x.value)) {
      expect(r.importJobId).toMatch(/^\w+$/)
      if (r.state === 'FAILED') {
        expect(r.reason).toMatch(/Could not upload file/)
        expect(r.mediaId).toBeNull()
      } else {
        expect(r.mediaId).toMatch(/\S/)
      }
      if (r.state === 'SKIPPED') expect(r.reason).toBe('already exists')
    }
    // And a repeated id is imported after its first event, with the same mediaId
    for (let i = 0; i < 4; i++) {
      const list = grouped.get(records[i]?.externalId as string) ?? []
      expect(list.map((r) => r.state)).toEqual(['SUCCESS', 'SKIPPED'])
      expect(list[1]?.mediaId).toBe(list[0]?.mediaId)
    }

    // When the same export is sent again
    const before = results.records.length
    await produce(topics.input, records)
    await results.waitFor((r) => r.length >= before + records.length, 90_000, 'a result per re-sent record')

    // Then every file that was imported comes back SKIPPED with its first mediaId, broken ones FAILED again
    const second = results.records.slice(before).map((r) => r.value)
    expect(countStates(second)).toEqual({
      SUCCESS: 0,
      SKIPPED: files.length + 4,
      FAILED: 6,
    })
    for (const r of second.filter((x) => x.state === 'SKIPPED')) {
      const first = grouped.get(r.externalId)?.find((x) => x.state === 'SUCCESS')
      expect(r.mediaId).toBe(first?.mediaId)
    }

    // And the access token never appears in the bridge's logs
    expect(bridge.logs.length).toBeGreaterThan(0)
    expect(bridge.logs.join('\n')).not.toContain(TOKEN)
  })

  it('sends an undecodable record to the DLQ with reason headers and keeps the partition moving', async () => {
    // Given a bridge, and on partition 0 a record that is not Avro nor JSON, followed by valid events
    const { topics, results, start } = await setup('e2e-dlq')
    const dlq = await startTopicReader(kafka, topics.dlq, (v) => v)
    cleanups.push(() => dlq.stop())
    await start()
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({
      topic: topics.input,
      messages: [
        { partition: 0, key: 'garbage', value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
        { partition: 0, key: 'bad-json', value: Buffer.from('{"externalId": "x"') },
      ],
    })
    await producer.disconnect()
    const { records } = exportOf('dlq')
    const valid = records.slice(0, 10)
    // Valid events after the poison ones, all on partition 0 as well
    const producer2 = kafka.producer()
    await producer2.connect()
    await producer2.send({
      topic: topics.input,
      messages: valid.map((r) => ({
        partition: 0,
        key: r.externalId,
        value: Buffer.from(JSON.stringify({ ...r, systemName: 'legacy-archive' })),
      })),
    })
    await producer2.disconnect()

    // Then the poison records are in the DLQ with the reason and source position in headers
    await dlq.waitFor((r) => r.length >= 2, 60_000, 'two DLQ records')
    const reasons = dlq.records.map((r) => r.headers['dlq.reason']).sort()
    expect(reasons).toEqual(['INVALID_JSON', 'UNKNOWN_WIRE_FORMAT'])
    for (const r of dlq.records) {
      expect(r.headers['dlq.source.topic']).toBe(topics.input)
      expect(r.headers['dlq.source.partition']).toBe('0')
      expect(['0', '1']).toContain(r.headers['dlq.source.offset'])
      expect(r.headers['dlq.message']).toMatch(/\S/)
    }
    expect(dlq.records.find((r) => r.headers['dlq.reason'] === 'UNKNOWN_WIRE_FORMAT')?.raw).toEqual(
      Buffer.from([0xde, 0xad, 0xbe, 0xef]),
    )
    // And the valid events behind them on the same partition get their results
    await results.waitFor((r) => r.length >= valid.length, 60_000, 'results behind the poison records')
    expect(results.records.map((r) => r.value.state)).toEqual(valid.map(() => 'SUCCESS'))
    // And the partition's committed offset moves past everything
    await waitForCommitted(kafka, topics.group, topics.input, 0, String(2 + valid.length))
  })

  it('commits an offset only after its result is published; a restarted bridge finishes the export', async () => {
    // Given slow import jobs and a bridge that stops with jobs still running (a short grace period)
    emulator.setVariants({})
    const { topics, results, start } = await setup('e2e-restart', { SHUTDOWN_GRACE_MS: '100' })
    const { records } = exportOf('restart')
    emulator.setFaults({ latencyMs: 0 })
    const slow = await startLivingdocsEmulatorWithDelay()
    const first = await startTestBridge({
      KAFKA_BROKERS: brokers.join(','),
      SCHEMA_REGISTRY_URL: schemaRegistryUrl,
      LIVINGDOCS_BASE_URL: slow.url,
      LIVINGDOCS_API_VERSION: slow.apiVersion,
      LIVINGDOCS_ACCESS_TOKEN: TOKEN,
      INPUT_TOPIC: topics.input,
      RESULT_TOPIC: topics.result,
      DLQ_TOPIC: topics.dlq,
      KAFKA_GROUP_ID: topics.group,
      SHUTDOWN_GRACE_MS: '100',
      BATCH_MAX_FILES: '5',
      MAX_JOBS_IN_FLIGHT: '2',
    })
    await produce(topics.input, records)
    await results.waitFor((r) => r.length >= 5, 60_000, 'the first results')

    // When the bridge stops mid-run
    await first.stop()
    const publishedAtStop = results.records.length
    expect(publishedAtStop).toBeLessThan(records.length)

    // Then every committed offset covers only records whose result is published
    await new Promise((r) => setTimeout(r, 1000)) // let in-flight result sends land in the reader
    const committed = await fetchCommitted(kafka, topics.group, topics.input)
    const published = new Set(
      results.records.map((r) => `${r.value.sourcePartition}:${r.value.sourceOffset}`),
    )
    let coveredByCommit = 0
    for (const [partition, offset] of committed) {
      for (let o = 0; o < offset; o++) {
        expect(
          published.has(`${partition}:${o}`),
          `result of ${partition}:${o} below committed ${offset}`,
        ).toBe(true)
        coveredByCommit++
      }
    }
    expect(coveredByCommit).toBeGreaterThan(0)

    // When a bridge of the same consumer group starts again
    const second = await start()
    void second
    // Then every record of the export ends with at least one result event
    await results.waitFor(
      (r) =>
        new Set(r.map((x) => `${x.value.sourcePartition}:${x.value.sourceOffset}`)).size >= records.length,
      90_000,
      'a result for every record after the restart',
    )
    const ids = new Set(results.records.map((r) => r.value.externalId))
    for (const record of records) expect(ids.has(record.externalId)).toBe(true)
    await slow.close()
  })

  async function startLivingdocsEmulatorWithDelay() {
    const slow = await startLivingdocsEmulator({ token: TOKEN, jobDurationMs: 1500 })
    cleanups.push(() => slow.close())
    return slow
  }
})

function countStates(results: FileImportResult[]) {
  const counts = { SUCCESS: 0, SKIPPED: 0, FAILED: 0 }
  for (const r of results) counts[r.state]++
  return counts
}

function countExpected(expected: Expected[]) {
  const counts = { SUCCESS: 0, SKIPPED: 0, FAILED: 0 }
  for (const e of expected) counts[e]++
  return counts
}

async function fetchCommitted(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] })
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]))
  } finally {
    await admin.disconnect()
  }
}

async function waitForCommitted(
  kafka: Kafka,
  groupId: string,
  topic: string,
  partition: number,
  offset: string,
) {
  const deadline = Date.now() + 30_000
  for (;;) {
    const committed = await fetchCommitted(kafka, groupId, topic)
    if (committed.get(partition) === Number(offset)) return
    if (Date.now() > deadline) {
      throw new Error(
        `committed offset of ${topic}[${partition}] is ${committed.get(partition)}, expected ${offset}`,
      )
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}
