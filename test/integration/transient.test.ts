import { randomUUID } from 'node:crypto'
import { describe, expect, inject, it } from 'vitest'
import { readSchema } from '../../src/registry/registry.ts'
import type { TestBridge } from '../support/bridge-harness.ts'
import {
  createScenario,
  type E2eWorld,
  fetchCommitted,
  metricValue,
  readDlq,
  sampleExport,
  scrapeMetric,
  startEmulator,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import { type FaultRun, failedForUs, sourceOf } from '../support/fault-run.ts'
import { createRegistryOutage } from '../support/registry-outage.ts'
import type { ExportRecord } from '../support/sample-export.ts'
import { testProducer } from '../support/test-producer.ts'

/** The Avro form of an export record. */
const avroValue = (r: ExportRecord) => ({
  ...r,
  mediaType: r.mediaType ?? 'file',
  metadata: JSON.stringify(r.metadata ?? {}),
  systemName: r.systemName ?? null,
  occurredAt: Date.parse(r.occurredAt),
})

/** Sum of committed offsets over the partitions of `topic`. */
async function committedTotal(world: E2eWorld, group: string, topic: string): Promise<number> {
  let total = 0
  for (const offset of (await fetchCommitted(world.kafka, group, topic)).values()) total += offset
  return total
}

/**
 * Checks that every one of `records` has a result, waits until the group's committed offsets cover them
 * all, and checks that the DLQ stayed empty. Returns the bridge's metrics text and the number of result
 * events beyond the first per input record.
 */
async function expectAllSettled(
  world: E2eWorld,
  run: Pick<FaultRun, 'topics' | 'results' | 'dlq'>,
  records: ExportRecord[],
  bridge: TestBridge,
): Promise<{ metrics: string; duplicates: number }> {
  const ids = new Set(run.results.records.map((r) => r.value.externalId))
  expect(records.filter((r) => !ids.has(r.externalId))).toEqual([])
  await waitUntil(
    async () => (await committedTotal(world, run.topics.group, run.topics.input)) === records.length,
    30_000,
    `committed offsets covering all ${records.length} records`,
  )
  expect(run.dlq.records).toHaveLength(0)
  const metrics = await (await fetch(bridge.metricsUrl)).text()
  const unique = new Set(run.results.records.map(sourceOf)).size
  return { metrics, duplicates: run.results.records.length - unique }
}

describe('transient is not poison: outages pause and retry, only permanent answers reach the DLQ', () => {
  const { world, emulator } = useE2eWorld({ images: 16, pdfs: 8 }, { emulator: { token: 'transient-token' } })

  it('a schema registry outage while records of a not-yet-cached schema id arrive: decoding waits, nothing goes to the DLQ, every result arrives after the restart', async () => {
    // Given a bridge whose registry can be stopped, with a short decode backoff
    const outage = await createRegistryOutage(inject('kafka'))
    world.defer(() => outage.close())
    const { topics, results, start } = await createScenario(world, 'registry-outage', emulator, {
      SCHEMA_REGISTRY_URL: outage.url,
      SCHEMA_REGISTRY_RETRY_MIN_MS: '200',
      SCHEMA_REGISTRY_RETRY_MAX_MS: '2000',
    })
    const dlq = await readDlq(world, topics)
    const bridge = await start()
    const records = sampleExport(world, `outage-${randomUUID().slice(0, 6)}`, {
      broken: 0,
      repeats: 0,
    }).records
    const warmUp = records.slice(0, 4)
    const during = records.slice(4)
    const producer = testProducer(world.kafka)
    await producer.connect()
    world.defer(() => producer.disconnect())

    // And a first schema the bridge has already used (its results arrive)
    const subject = `${topics.input}-value`
    const firstId = await world.codec.register(subject, await readSchema('fileCreated'))
    await producer.send({
      topic: topics.input,
      messages: await Promise.all(
        warmUp.map(async (r) => ({
          key: r.externalId,
          value: await world.codec.encode(firstId, avroValue(r)),
        })),
      ),
    })
    await results.waitFor((r) => r.length >= warmUp.length, 60_000, 'results of the warm-up records')

    // And a second schema version the bridge has never seen (registered, and encoded with, before the outage)
    // (a new optional field with a unique name: a new schema text, so a new id, backward compatible)
    const base = await readSchema('fileCreated')
    const second = {
      ...base,
      fields: [
        ...(base.fields as unknown[]),
        { name: `note_${randomUUID().replace(/-/g, '')}`, type: ['null', 'string'], default: null },
      ],
    }
    const secondId = await world.codec.register(subject, second)
    expect(secondId).not.toBe(firstId)
    const messages = await Promise.all(
      during.map(async (r) => ({
        key: r.externalId,
        value: await world.codec.encode(secondId, avroValue(r)),
      })),
    )

    // When the registry stops and records with the new schema id arrive
    await outage.stop()
    await producer.send({ topic: topics.input, messages })

    // Then decoding waits and retries: no DLQ record, no result for them yet
    await waitUntil(
      async () => (await scrapeMetric(bridge, 'bridge_decode_retries_total')) >= 3,
      60_000,
      'three decode retries while the registry is down',
    )
    expect(dlq.records).toHaveLength(0)
    expect(results.records).toHaveLength(warmUp.length)
    expect(bridge.logs.find('decoding paused by a transient error; retrying') !== undefined).toBe(true)

    // When the registry comes back (with its schemas: file-backed storage on the local stack)
    await outage.start()

    // Then every record gets its result, SUCCESS, and the DLQ stays empty
    await results.waitFor(
      (r) => r.length >= records.length,
      120_000,
      'a result for every record after the outage',
    )
    expect(results.records.every((r) => r.value.state === 'SUCCESS')).toBe(true)
    const { metrics, duplicates } = await expectAllSettled(world, { topics, results, dlq }, records, bridge)
    expect(metricValue(metrics, 'bridge_dlq_records_total')).toBe(0)
    console.info(
      `[registry-outage:${outage.kind}] events sent=${records.length} results=${results.records.length} duplicates=${duplicates} dlq=${dlq.records.length} decode retries=${metricValue(metrics, 'bridge_decode_retries_total')}`,
    )
  })

  it('a schema id the registry answers 404 for (registry up) goes to the DLQ as UNKNOWN_SCHEMA_ID; the record behind it goes through', async () => {
    // Given a bridge and, on one partition, a record whose schema id the registry does not know, then a valid one
    const { topics, results, start } = await createScenario(world, 'unknown-id', emulator)
    const dlq = await readDlq(world, topics)
    await start()
    const [first, second] = sampleExport(world, `unknown-${randomUUID().slice(0, 6)}`, {
      broken: 0,
      repeats: 0,
    }).records as [ExportRecord, ExportRecord]
    const id = await world.codec.register(`${topics.input}-value`, await readSchema('fileCreated'))
    const unknown = await world.codec.encode(id, avroValue(first))
    unknown.writeUInt32BE(1_999_999_999, 1)
    const producer = testProducer(world.kafka)
    await producer.connect()
    await producer.send({
      topic: topics.input,
      messages: [
        { partition: 1, key: first.externalId, value: unknown },
        { partition: 1, key: second.externalId, value: await world.codec.encode(id, avroValue(second)) },
      ],
    })
    await producer.disconnect()

    // Then it is DLQ'd at once with the reason and the id in the message, and the next record gets its result
    await dlq.waitFor((r) => r.length >= 1, 60_000, 'the DLQ record')
    expect(dlq.records[0]?.headers['dlq.reason']).toBe('UNKNOWN_SCHEMA_ID')
    expect(dlq.records[0]?.headers['dlq.message']).toBe('schema id 1999999999 is not in the registry')
    await results.waitFor((r) => r.length >= 1, 60_000, 'the result behind it')
    expect(results.records.map((r) => [r.value.externalId, r.value.state])).toEqual([
      [second.externalId, 'SUCCESS'],
    ])
    await waitUntil(
      async () => (await fetchCommitted(world.kafka, topics.group, topics.input)).get(1) === 2,
      30_000,
      'committed offset 2 on partition 1',
    )
    console.info(
      `[unknown-schema-id] events sent=2 results=${results.records.length} duplicates=0 dlq=${dlq.records.length}`,
    )
  })

  it('an import API outage (every request 5xx for a while): no DLQ record, no FAILED result, then every file SUCCESS', async () => {
    // Given a bridge and an emulator that answers every request with 503
    const api = await startEmulator(world, { token: 'transient-token' })
    const { topics, results, start } = await createScenario(world, 'api-outage', api)
    const dlq = await readDlq(world, topics)
    const bridge = await start()
    api.setFaults({ serverError5xx: { probability: 1 } })
    const records = sampleExport(world, `api-${randomUUID().slice(0, 6)}`, { broken: 0, repeats: 0 }).records

    // When an export arrives during the outage
    const producer = testProducer(world.kafka)
    await producer.connect()
    await producer.send({
      topic: topics.input,
      messages: records.map((r) => ({ key: r.externalId, value: Buffer.from(JSON.stringify(r)) })),
    })
    await producer.disconnect()
    const failedSubmits = () => api.stats().requests['POST /import/files']?.[503] ?? 0
    await waitUntil(() => failedSubmits() >= 8, 90_000, 'eight 503 answers to import requests')

    // Then nothing is given up: no result, no DLQ record, nothing committed
    expect(results.records).toHaveLength(0)
    expect(dlq.records).toHaveLength(0)
    expect(await committedTotal(world, topics.group, topics.input)).toBe(0)

    // When the API recovers
    api.setFaults({ serverError5xx: null })

    // Then every file gets exactly its SUCCESS result, and the DLQ stays empty
    await results.waitFor((r) => r.length >= records.length, 120_000, 'a result per record after the outage')
    expect(results.records.map((r) => r.value.state).filter((s) => s !== 'SUCCESS')).toEqual([])
    const { metrics, duplicates } = await expectAllSettled(world, { topics, results, dlq }, records, bridge)
    expect(metricValue(metrics, 'bridge_files_total{state="FAILED"}')).toBe(0)
    console.info(
      `[api-outage] events sent=${records.length} results=${results.records.length} duplicates=${duplicates} dlq=${dlq.records.length} failedForUs=${failedForUs(results.records.map((r) => r.value))} 503 answers=${failedSubmits()}`,
    )
  })
})
