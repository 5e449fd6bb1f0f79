import { describe, expect, it } from 'vitest'
import type { FileImportResult } from '../../src/outcome/outcome-event.ts'
import { TEST_WEBHOOK_SECRET } from '../support/bridge-harness.ts'
import {
  countStates,
  createScenario,
  fetchCommitted,
  metricValue,
  produceRecords,
  readDlq,
  sampleExport,
  startEmulator,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import type { TopicReader } from '../support/result-reader.ts'
import type { Expected } from '../support/sample-export.ts'
import { testProducer } from '../support/test-producer.ts'

describe('bridge end to end on a real broker, registry and the Livingdocs emulator', () => {
  const { world, emulator } = useE2eWorld({ images: 24, pdfs: 16 }, { emulator: { token: 'e2e-token' } })

  it('gives every file of an export exactly one result with the right state, and SKIPPED when re-sent', async () => {
    // Given a bridge and an export of 40 real files, 6 broken URLs and 4 repeated ids
    const { topics, results, start } = await createScenario(world, 'e2e-states', emulator)
    const bridge = await start()
    const { records, expected } = sampleExport(world, 'states', { broken: 6, repeats: 4 })

    // When the export is produced
    await produceRecords(world, topics.input, records)
    await results.waitFor((r) => r.length >= records.length, 90_000, 'a result per record')

    // Then each record has exactly one result event, in the state the export expects
    expect(results.records).toHaveLength(records.length)
    const sources = new Set(results.records.map((r) => `${r.value.sourcePartition}:${r.value.sourceOffset}`))
    expect(sources.size).toBe(records.length)
    expect(countStates(results.records.map((r) => r.value))).toEqual(countExpected(expected))
    const grouped = byExternalId(results)
    records.forEach((record, i) => {
      expect(
        grouped.get(record.externalId)?.map((r) => r.state),
        record.externalId,
      ).toContain(expected[i])
    })
    for (const { value: r } of results.records) {
      expect(r.importJobId).toMatch(/^\w+$/)
      expect(r.systemName).toBe('legacy-archive')
      if (r.state === 'FAILED') {
        expect(r.reason).toMatch(/^Could not upload file/)
        expect(r.mediaId).toBeNull()
      } else {
        expect(r.mediaId).toMatch(/\S/)
      }
      if (r.state === 'SKIPPED') expect(r.reason).toBe('already exists')
    }
    // And a repeated id is imported after its first event, getting the same mediaId
    for (const record of records.slice(0, 4)) {
      const list = grouped.get(record.externalId) ?? []
      expect(list.map((r) => r.state)).toEqual(['SUCCESS', 'SKIPPED'])
      expect(list[1]?.mediaId).toBe(list[0]?.mediaId)
    }

    // When the same export is sent again
    const before = results.records.length
    await produceRecords(world, topics.input, records)
    await results.waitFor((r) => r.length >= before + records.length, 90_000, 'a result per re-sent record')

    // Then every file imported before comes back SKIPPED with its first mediaId, broken ones FAILED again
    const second = results.records.slice(before).map((r) => r.value)
    expect(countStates(second)).toEqual({ SUCCESS: 0, SKIPPED: world.files.length + 4, FAILED: 6 })
    for (const r of second.filter((x) => x.state === 'SKIPPED')) {
      expect(r.mediaId).toBe(grouped.get(r.externalId)?.find((x) => x.state === 'SUCCESS')?.mediaId)
    }

    // And the metrics count what happened, including the webhooks that told the bridge of finished jobs
    const metrics = await (await fetch(bridge.metricsUrl)).text()
    expect(metricValue(metrics, 'bridge_events_consumed_total')).toBe(2 * records.length)
    expect(metricValue(metrics, 'bridge_files_total{state="SKIPPED"}')).toBe(world.files.length + 8)
    expect(metricValue(metrics, 'bridge_batches_submitted_total')).toBeGreaterThan(0)
    expect(metricValue(metrics, 'bridge_webhooks_received_total{outcome="accepted"}')).toBeGreaterThan(0)
    expect(metricValue(metrics, 'bridge_api_requests_total{endpoint="submit",status="200"}')).toBe(
      metricValue(metrics, 'bridge_batches_submitted_total'),
    )
    // And neither the access token nor the webhook secret appears in the bridge's logs, while each job
    // is logged with its id; and no webhook was refused (each carried its signed context)
    expect(bridge.logs.text()).not.toContain(emulator.token)
    expect(bridge.logs.text()).not.toContain(TEST_WEBHOOK_SECRET)
    expect(metricValue(metrics, 'bridge_webhooks_received_total{outcome="unauthorized"}')).toBe(0)
    expect(bridge.logs.withMsg('import job finished').some((l) => typeof l.jobId === 'string')).toBe(true)
  })

  it('sends undecodable records to the DLQ with reason headers and keeps the partition moving', async () => {
    // Given a bridge, and on partition 0 two records it cannot use, followed by valid JSON events
    const { topics, results, start } = await createScenario(world, 'e2e-dlq', emulator)
    const dlq = await readDlq(world, topics)
    await start()
    const valid = sampleExport(world, 'dlq', { broken: 0, repeats: 0 }).records.slice(0, 10)
    const producer = testProducer(world.kafka)
    await producer.connect()
    await producer.send({
      topic: topics.input,
      messages: [
        { partition: 0, key: 'garbage', value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
        { partition: 0, key: 'bad-json', value: Buffer.from('{"externalId": "x"') },
        ...valid.map((r) => ({ partition: 0, key: r.externalId, value: Buffer.from(JSON.stringify(r)) })),
      ],
    })
    await producer.disconnect()

    // Then the poison records are in the DLQ, unchanged, with the reason and source position in headers
    await dlq.waitFor((r) => r.length >= 2, 60_000, 'two DLQ records')
    expect(dlq.records.map((r) => r.headers['dlq.reason']).sort()).toEqual([
      'INVALID_JSON',
      'UNKNOWN_WIRE_FORMAT',
    ])
    for (const r of dlq.records) {
      expect(r.headers['dlq.source.topic']).toBe(topics.input)
      expect(r.headers['dlq.source.partition']).toBe('0')
      expect(r.headers['dlq.message']).toMatch(/\S/)
    }
    const garbage = dlq.records.find((r) => r.headers['dlq.reason'] === 'UNKNOWN_WIRE_FORMAT')
    expect(garbage?.headers['dlq.source.offset']).toBe('0')
    expect(garbage?.raw).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef]))
    // And the valid events behind them on the same partition get their results
    await results.waitFor((r) => r.length >= valid.length, 60_000, 'results behind the poison records')
    expect(results.records.map((r) => r.value.state)).toEqual(valid.map(() => 'SUCCESS'))
    // And the partition's committed offset moves past all of them
    await waitUntil(
      async () => (await fetchCommitted(world.kafka, topics.group, topics.input)).get(0) === 2 + valid.length,
      30_000,
      `committed offset ${2 + valid.length} on partition 0`,
    )
  })

  it('commits an offset only after its result is published; a restarted bridge finishes the export', async () => {
    // Given slow import jobs and a bridge that stops with jobs still running (a short grace period)
    const slow = await startEmulator(world, { token: 'e2e-token', jobDurationMs: 1500 })
    const { topics, results, start } = await createScenario(world, 'e2e-restart', slow, {
      SHUTDOWN_GRACE_MS: '100',
      BATCH_MAX_FILES: '5',
      MAX_JOBS_IN_FLIGHT: '2',
    })
    const { records } = sampleExport(world, 'restart', { broken: 6, repeats: 0 })
    const first = await start()
    await produceRecords(world, topics.input, records)
    await results.waitFor((r) => r.length >= 5, 60_000, 'the first results')

    // When the bridge stops mid-run
    await first.stop()
    expect(results.records.length).toBeLessThan(records.length)

    // Then every offset below a committed one has its result published
    // (results acknowledged before the stop may still be on their way to the reader: wait, don't sleep)
    const committed = await fetchCommitted(world.kafka, topics.group, topics.input)
    const below = [...committed].flatMap(([partition, offset]) =>
      Array.from({ length: offset }, (_, o) => `${partition}:${o}`),
    )
    const published = () =>
      new Set(results.records.map((r) => `${r.value.sourcePartition}:${r.value.sourceOffset}`))
    await waitUntil(
      () => below.every((p) => published().has(p)),
      10_000,
      'a published result for every offset below a committed one',
    )
    const covered = below.length
    expect(covered).toBeGreaterThan(0)

    // When a bridge of the same consumer group starts again
    await start()

    // Then every record of the export ends with at least one result event
    await results.waitFor(
      (r) =>
        new Set(r.map((x) => `${x.value.sourcePartition}:${x.value.sourceOffset}`)).size >= records.length,
      90_000,
      'a result for every record after the restart',
    )
    const ids = new Set(results.records.map((r) => r.value.externalId))
    expect(records.filter((r) => !ids.has(r.externalId))).toEqual([])
  })
})

function countExpected(expected: Expected[]) {
  return countStates(expected.map((state) => ({ state })))
}

function byExternalId(results: TopicReader<FileImportResult>) {
  const map = new Map<string, FileImportResult[]>()
  for (const { value } of results.records)
    map.set(value.externalId, [...(map.get(value.externalId) ?? []), value])
  return map
}
