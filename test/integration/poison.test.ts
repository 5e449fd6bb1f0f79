import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DLQ_REASONS, type DlqReason } from '../../src/errors.ts'
import { REDRIVE_ATTEMPT_HEADER } from '../../src/events/redrive-guard.ts'
import { readSchema } from '../../src/registry/registry.ts'
import {
  createScenario,
  fetchCommitted,
  metricValue,
  readDlq,
  sampleExport,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import type { ExportRecord } from '../support/sample-export.ts'
import { testProducer } from '../support/test-producer.ts'

/** BATCH_MAX_BYTES of this run: small, so metadata of 30 KB cannot fit a request. */
const BATCH_MAX_BYTES = 20_000

/** One input record: a value the bridge must use, or a poison value with the DLQ reason it must get. */
type Input = {
  key: string
  value: Buffer | null
  poison?: DlqReason
  what: string
  headers?: Record<string, string>
}

describe('poison inputs on a real broker and registry', () => {
  const { world, emulator } = useE2eWorld({ images: 14, pdfs: 8 }, { emulator: { token: 'poison-token' } })

  it('sends each poison record to the DLQ with its reason, keeps the partition moving and commits past them', async () => {
    // Given a bridge with small requests and no DEFAULT_SYSTEM_NAME
    const { topics, results, start } = await createScenario(world, 'poison', emulator, {
      BATCH_MAX_BYTES: String(BATCH_MAX_BYTES),
    })
    const dlq = await readDlq(world, topics)
    const bridge = await start()

    // And valid events (JSON and Avro) between poison records of every kind, all on partition 0
    const valid = sampleExport(world, `poison-${randomUUID().slice(0, 6)}`, { broken: 0, repeats: 0 }).records
    const avroId = await world.codec.register(`${topics.input}-value`, await readSchema('fileCreated'))
    const avro = (r: ExportRecord) =>
      world.codec.encode(avroId, {
        ...r,
        mediaType: r.mediaType ?? 'file',
        metadata: JSON.stringify(r.metadata ?? {}),
        systemName: r.systemName ?? null,
        occurredAt: Date.parse(r.occurredAt),
      })
    const jsonSchemaId = await registerJsonSchema(world.schemaRegistryUrl, `${topics.input}-json-value`)
    const base = valid[0] as ExportRecord
    const goodAvro = await avro(base)
    const unknownId = Buffer.from(goodAvro)
    unknownId.writeUInt32BE(2_000_000_000, 1)
    const wrongMagic = Buffer.from(goodAvro)
    wrongMagic[0] = 1
    const nonAvroSchema = Buffer.from(goodAvro)
    nonAvroSchema.writeUInt32BE(jsonSchemaId, 1)
    const json = (value: unknown) => Buffer.from(JSON.stringify(value))
    const badUtf8 = json({ ...base, fileName: 'Xa' })
    badUtf8[badUtf8.indexOf('Xa') + 1] = 0xff
    const depth = 50_000
    const deep = Buffer.from(
      `${JSON.stringify({ ...base, metadata: undefined }).slice(0, -1)},"metadata":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`,
    )
    const { systemName: _omit, ...noSystemName } = base

    const poison: Array<Omit<Input, 'key'>> = [
      { what: 'wrong magic byte', value: wrongMagic, poison: 'UNKNOWN_WIRE_FORMAT' },
      { what: 'unknown schema id', value: unknownId, poison: 'UNKNOWN_SCHEMA_ID' },
      {
        what: 'truncated Avro',
        value: goodAvro.subarray(0, goodAvro.length - 4),
        poison: 'UNDECODABLE_AVRO',
      },
      {
        what: 'Avro with trailing bytes',
        value: Buffer.concat([goodAvro, Buffer.from([7])]),
        poison: 'UNDECODABLE_AVRO',
      },
      { what: 'schema id of a JSON Schema', value: nonAvroSchema, poison: 'UNSUPPORTED_SCHEMA' },
      { what: 'JSON array', value: json([base]), poison: 'INVALID_JSON' },
      { what: 'broken JSON', value: Buffer.from('{"externalId": "x"'), poison: 'INVALID_JSON' },
      { what: 'invalid UTF-8', value: badUtf8, poison: 'INVALID_JSON' },
      { what: 'tombstone', value: null, poison: 'EMPTY_VALUE' },
      { what: 'empty value', value: Buffer.alloc(0), poison: 'EMPTY_VALUE' },
      { what: 'missing required fields', value: json({ externalId: 'only-id' }), poison: 'INVALID_EVENT' },
      {
        what: 'ftp URL',
        value: json({ ...base, url: 'ftp://files.example/a.pdf' }),
        poison: 'INVALID_EVENT',
      },
      {
        what: 'file URL in Avro',
        value: await avro({ ...base, url: 'file:///etc/passwd' }),
        poison: 'INVALID_EVENT',
      },
      { what: 'metadata nested too deeply', value: deep, poison: 'INVALID_EVENT' },
      { what: 'metadata not an object', value: json({ ...base, metadata: [1, 2] }), poison: 'INVALID_EVENT' },
      {
        what: 'metadata key __proto__',
        value: Buffer.from(JSON.stringify(base).replace(/"metadata":\{/, '"metadata":{"__proto__":{"x":1},')),
        poison: 'INVALID_EVENT',
      },
      {
        what: 'control character in externalId',
        value: json({ ...base, externalId: 'a\nb' }),
        poison: 'INVALID_EVENT',
      },
      { what: 'no systemName, no default', value: json(noSystemName), poison: 'MISSING_SYSTEM_NAME' },
      {
        // A valid event redriven REDRIVE_MAX_ATTEMPTS (3, the default) times: the loop guard stops it
        what: 'redriven once too often',
        value: json({ ...base, externalId: 'redriven-3' }),
        headers: { [REDRIVE_ATTEMPT_HEADER]: '3' },
        poison: 'REDRIVE_LIMIT_REACHED',
      },
    ]
    const inputs: Input[] = []
    let next = 0
    const addValid = async () => {
      const r = valid[next++] as ExportRecord
      const value = next % 2 === 0 ? await avro(r) : json(r)
      inputs.push({ key: r.externalId, value, what: `valid ${r.externalId}` })
    }
    for (const p of poison) {
      await addValid()
      inputs.push({ key: `poison-${inputs.length}`, ...p })
    }
    while (next < valid.length) await addValid()
    const validCount = inputs.filter((i) => !i.poison).length
    // every DLQ reason of the closed set is exercised, but MAPPING_FAILED: it needs a mapping
    // (MAPPING_FILE), and test/integration/mapping.test.ts exercises it
    expect(new Set(poison.map((p) => p.poison))).toEqual(
      new Set(DLQ_REASONS.filter((r) => r !== 'MAPPING_FAILED')),
    )

    // When they are produced in that order
    const producer = testProducer(world.kafka)
    await producer.connect()
    await producer.send({
      topic: topics.input,
      messages: inputs.map((i) => ({
        partition: 0,
        key: i.key,
        value: i.value,
        ...(i.headers === undefined ? {} : { headers: i.headers }),
      })),
    })
    await producer.disconnect()

    // Then every poison record is in the DLQ, unchanged, with its reason and source position
    await dlq.waitFor((r) => r.length >= poison.length, 60_000, 'a DLQ record per poison record')
    await results.waitFor((r) => r.length >= validCount, 90_000, 'a result per valid record')
    const byOffset = new Map(dlq.records.map((r) => [Number(r.headers['dlq.source.offset']), r]))
    inputs.forEach((input, offset) => {
      const record = byOffset.get(offset)
      if (!input.poison) {
        expect(record, `${input.what} must not be in the DLQ`).toBeUndefined()
        return
      }
      expect(record?.headers['dlq.reason'], input.what).toBe(input.poison)
      expect(record?.headers['dlq.message'], input.what).toMatch(/\S{3}/)
      expect(record?.headers['dlq.source.topic']).toBe(topics.input)
      expect(record?.headers['dlq.source.partition']).toBe('0')
      expect(record?.key).toBe(input.key)
      // A tombstone goes to the DLQ with an empty value (a null one would be a delete marker on a
      // compacted DLQ); its message says it was null.
      if (input.value === null) {
        expect(record?.raw?.length ?? 0).toBe(0)
        expect(record?.headers['dlq.message']).toContain('tombstone')
      } else expect(record?.raw?.equals(input.value), input.what).toBe(true)
    })
    expect(dlq.records).toHaveLength(poison.length)

    // And every valid record behind them got its result, SUCCESS, once
    const offsets = results.records.map((r) => r.value.sourceOffset)
    expect(new Set(offsets).size).toBe(validCount)
    expect(results.records.every((r) => r.value.state === 'SUCCESS')).toBe(true)
    expect(offsets.every((o) => !inputs[o]?.poison)).toBe(true)

    // And the partition's committed offset passes all of them
    await waitUntil(
      async () => (await fetchCommitted(world.kafka, topics.group, topics.input)).get(0) === inputs.length,
      30_000,
      `committed offset ${inputs.length} on partition 0`,
    )
    // And the metrics count each reason
    const metrics = await (await fetch(bridge.metricsUrl)).text()
    for (const reason of DLQ_REASONS) {
      expect(metricValue(metrics, `bridge_events_invalid_total{reason="${reason}"}`), reason).toBe(
        poison.filter((p) => p.poison === reason).length,
      )
    }
    expect(metricValue(metrics, 'bridge_dlq_records_total')).toBe(poison.length)
    expect(metricValue(metrics, 'bridge_redriven_records_total{outcome="limit_reached"}')).toBe(1)
    expect(metricValue(metrics, 'bridge_decode_retries_total')).toBe(0)
    console.info(
      `[poison] events sent=${inputs.length} results=${results.records.length} duplicates=${results.records.length - new Set(offsets).size} dlq=${dlq.records.length}`,
    )
  })
})

/** Registers a JSON Schema (not Avro) through the Confluent-compatible API; returns its id. */
async function registerJsonSchema(registryUrl: string, subject: string): Promise<number> {
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: subject,
    type: 'object',
    properties: { externalId: { type: 'string' } },
  }
  const response = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType: 'JSON', schema: JSON.stringify(schema) }),
  })
  const body = (await response.json()) as { id?: number }
  if (!response.ok || typeof body.id !== 'number') {
    throw new Error(`registering a JSON Schema failed: ${response.status} ${JSON.stringify(body)}`)
  }
  return body.id
}
