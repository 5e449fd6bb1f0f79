// Legacy event shapes through a mapping (MAPPING_FILE), end to end on the real broker, registry and
// emulator: the DAM example of docs/mapping.md (JSON), a flat CSV-export-like JSON, and an Avro schema with a
// nested record, an array, unions and timestamp-micros registered through the registry. Each gives
// SUCCESS results carrying the legacy id, commits filtered events without a result (the last record of
// the partition is a filtered one), and sends a failing expression to the DLQ naming its field.
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DLQ_HEADERS } from '../../src/outcome/dlq-record.ts'
import {
  bridgeEnv,
  createTopics,
  fetchCommitted,
  metricValue,
  readDlq,
  startBridgeIn,
  startBridgeProcessIn,
  type Topics,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import { readmeMappingExample, tempFile } from '../support/mapping-example.ts'
import { testProducer } from '../support/test-producer.ts'

/** One legacy record, and what the bridge must make of it. */
type Case = { value: Buffer; expect: { id: string } | 'filtered' | { dlqField: string } }

describe('legacy event shapes through a mapping', () => {
  // The DAM example's images get the mediaType `image` (the image import), with the metadata its
  // mapping makes (strict: nothing else allowed).
  const { world, emulator } = useE2eWorld(
    { images: 6, pdfs: 4 },
    {
      emulator: {
        token: 'mapping-token',
        mediaTypes: [
          { handle: 'file', type: 'mediaFile', metadata: [] },
          {
            handle: 'image',
            type: 'mediaImage',
            strict: true,
            metadata: [
              { handle: 'caption', type: 'li-text' },
              { handle: 'credit', type: 'li-text', config: { required: true } },
              { handle: 'tags', type: 'li-string-list', config: { required: true } },
            ],
          },
        ],
      },
    },
  )

  const url = (i: number) => `${world.fileServer.url}/${world.files[i]?.name}`
  const run = `${randomUUID().slice(0, 6)}`

  /**
   * Produces the cases `build` makes (given the fresh topics, e.g. to register a schema under the input
   * topic's subject) in order to partition 0 of the input topic, runs a bridge with `mapping`, and checks
   * results, DLQ records, the filter metric and the commit of every record.
   * @param options.ownProcess runs the bridge as a child process: its event loop then stalls nothing of
   *   the test's (the emulator's downloads from the file server, which time out after 10 s)
   */
  async function runCases(
    prefix: string,
    mapping: string,
    build: (topics: Topics) => Promise<Case[]> | Case[],
    env: Record<string, string> = {},
    options: { ownProcess?: boolean } = {},
  ) {
    const { topics, results } = await createTopics(world, prefix, 1)
    const dlq = await readDlq(world, topics)
    const cases = await build(topics)
    const producer = testProducer(world.kafka)
    await producer.connect()
    try {
      await producer.send({
        topic: topics.input,
        messages: cases.map((c) => ({ partition: 0, key: null, value: c.value })),
      })
    } finally {
      await producer.disconnect()
    }
    const bridgeSettings = bridgeEnv(world, emulator, topics, {
      MAPPING_FILE: tempFile('mapping.yaml', mapping),
      ...env,
    })
    const bridge = options.ownProcess
      ? await startBridgeProcessIn(world, bridgeSettings)
      : await startBridgeIn(world, bridgeSettings)

    const imported = cases.flatMap((c) =>
      typeof c.expect === 'object' && 'id' in c.expect ? [c.expect.id] : [],
    )
    const dead = cases.flatMap((c, i) =>
      typeof c.expect === 'object' && 'dlqField' in c.expect ? [[String(i), c.expect.dlqField]] : [],
    )
    const filtered = cases.filter((c) => c.expect === 'filtered').length
    // Every record committed: the last one, a filtered record, included
    await waitUntil(
      async () => (await fetchCommitted(world.kafka, topics.group, topics.input)).get(0) === cases.length,
      60_000,
      `commit of all ${cases.length} records`,
    )
    await results.waitFor((r) => r.length >= imported.length, 30_000, 'results')
    await dlq.waitFor((r) => r.length >= dead.length, 30_000, 'DLQ records')

    // SUCCESS results carrying the legacy ids, and no result for a filtered record (a reason says why not)
    expect(
      results.records.map((r) => [r.value.externalId, r.value.state, r.value.reason ?? undefined]).sort(),
    ).toEqual(imported.map((id) => [id, 'SUCCESS', undefined]).sort())
    // The failing expressions in the DLQ, naming their field
    expect(
      dlq.records.map((r) => [
        r.headers[DLQ_HEADERS.offset],
        r.headers[DLQ_HEADERS.reason],
        r.headers[DLQ_HEADERS.mappingField],
      ]),
    ).toEqual(dead.map(([offset, field]) => [offset, 'MAPPING_FAILED', field]))
    const metrics = await (await fetch(bridge.metricsUrl)).text()
    expect(
      metricValue(metrics, 'bridge_events_filtered_total{reason="rejected"}') +
        metricValue(metrics, 'bridge_events_filtered_total{reason="no_value"}'),
    ).toBe(filtered)
    return { results, dlq, bridge }
  }

  it('goes on past events whose mapping runs away, without losing its partitions (issue 26)', async () => {
    // Given 8 events whose fileName expression loops for ever (each ends at MAPPING_TIMEOUT_MS, 1 s, and
    // once more to name the field: about 16 s in all) between good ones, and a session timeout of 6 s;
    // the bridge in its own process, as in production: an evaluation holds its event loop for a second
    // at a time, which in this process would hold the emulator's downloads too
    const mapping = `externalId: id\nurl: link\nsystemName: '"legacy"'\nfileName: 'kind = "loop" ? ($f := function($n) { $f($n + 1) }; $f(0)) : title'\n`
    const json = (v: unknown) => Buffer.from(JSON.stringify(v))
    const good = (i: number): Case => ({
      value: json({ id: `${run}-good-${i}`, link: url(6 + (i % 4)), title: `good ${i}`, kind: 'file' }),
      expect: { id: `${run}-good-${i}` },
    })
    const loop = (i: number): Case => ({
      value: json({ id: `${run}-loop-${i}`, link: url(0), title: 'never', kind: 'loop' }),
      expect: { dlqField: 'fileName' },
    })
    const { dlq, bridge } = await runCases(
      'map-runaway',
      mapping,
      () => [good(0), ...[0, 1, 2, 3].map(loop), good(1), ...[4, 5, 6, 7].map(loop), good(2)],
      { KAFKA_SESSION_TIMEOUT_MS: '6000' },
      { ownProcess: true },
    )
    // Then each runaway event is a MAPPING_FAILED naming the field and the bound, the good ones have
    // their results (runCases checked), and the bridge never lost its partition to a rebalance
    expect(dlq.records.map((r) => r.headers[DLQ_HEADERS.message])).toEqual(
      Array(8).fill(expect.stringMatching(/^fileName: .*Evaluation timeout after 1000 milliseconds/)),
    )
    expect(bridge.logs.withMsg('rebalance: partitions revoked')).toEqual([])
    expect(bridge.logs.withMsg('joined consumer group')).toHaveLength(1)
  })

  it('imports the DAM events of docs/mapping.md, filters the other event types, dead-letters one without an original', async () => {
    const example = readmeMappingExample()
    const template = JSON.parse(example.input)
    const asset = (i: number, id: string) => ({
      ...template,
      asset: {
        ...template.asset,
        id,
        title: `Harbour ${i}`,
        renditions: [
          { kind: 'thumbnail', href: url(i + 1) },
          { kind: 'original', href: url(i) },
        ],
      },
    })
    const json = (v: unknown) => Buffer.from(JSON.stringify(v))
    const id = (n: number) => `A-${run}-${n}`
    const { results } = await runCases('map-dam', example.mapping, () => [
      { value: json(asset(0, id(1))), expect: { id: id(1) } },
      { value: json({ eventType: 'ASSET_DELETED', asset: { id: id(1) } }), expect: 'filtered' },
      { value: json(asset(2, id(2))), expect: { id: id(2) } },
      {
        value: json({ ...asset(3, id(3)), asset: { ...asset(3, id(3)).asset, renditions: [] } }),
        expect: { dlqField: 'url' },
      },
      { value: json({ eventType: 'ASSET_UPDATED', asset: { id: id(2) } }), expect: 'filtered' },
    ])
    expect(new Set(results.records.map((r) => r.value.systemName))).toEqual(new Set(['dam']))
    // The original rendition, the mediaType from the MIME type, credit and tags in the metadata
    expect(emulator.getMedia('dam', id(1))).toMatchObject({
      url: url(0),
      fileName: 'Harbour 0',
      mediaType: 'image',
      metadata: {
        caption: 'Boats leaving the harbour.',
        credit: 'P. Example / Example Press',
        tags: ['harbour', 'morning'],
      },
    })
    expect(results.records.map((r) => r.value.eventTime)).toEqual([
      Date.parse('2026-11-30T08:15:00Z'),
      Date.parse('2026-11-30T08:15:00Z'),
    ])
  })

  it('imports a flat CSV-export-like JSON, reading its ids, text dates and status', async () => {
    const mapping = `# One row of a CSV export, every value a string
filter: STATUS = "active"
externalId: '"doc-" & ID'
url: FILE_URL
fileName: TITLE
metadata: '{"category": CATEGORY, "pages": $number(PAGES)}'
systemName: '"archive-csv"'
occurredAt: '$toMillis(CREATED, "[Y0001]-[M01]-[D01] [H01]:[m01]:[s01]")'
`
    const row = (i: number, over: Record<string, string> = {}) =>
      Buffer.from(
        JSON.stringify({
          ID: `${run}-${1040 + i}`,
          FILE_URL: url(6 + (i % 4)),
          TITLE: `Annual report ${1990 + i}`,
          CATEGORY: 'report',
          PAGES: String(10 + i),
          STATUS: 'active',
          CREATED: `${1990 + i}-03-01 09:00:00`,
          ...over,
        }),
      )
    const { results } = await runCases('map-csv', mapping, () => [
      { value: row(0), expect: { id: `doc-${run}-1040` } },
      { value: row(1, { PAGES: 'n/a' }), expect: { dlqField: 'metadata' } },
      { value: row(2), expect: { id: `doc-${run}-1042` } },
      { value: row(3, { STATUS: 'deleted' }), expect: 'filtered' },
    ])
    expect(results.records.map((r) => [r.value.systemName, r.value.eventTime]).sort()).toEqual([
      ['archive-csv', Date.parse('1990-03-01T09:00:00Z')],
      ['archive-csv', Date.parse('1992-03-01T09:00:00Z')],
    ])
    expect(emulator.getMedia('archive-csv', `doc-${run}-1042`)?.metadata).toEqual({
      category: 'report',
      pages: 12,
    })
  })

  it('imports Avro with a nested record, an array, unions and timestamp-micros, registered through the registry', async () => {
    const schema = {
      type: 'record',
      name: 'AssetEvent',
      namespace: 'legacy.dam.v2',
      fields: [
        {
          name: 'header',
          type: {
            type: 'record',
            name: 'Header',
            fields: [
              { name: 'type', type: { type: 'enum', name: 'EventType', symbols: ['CREATED', 'DELETED'] } },
              { name: 'at', type: { type: 'long', logicalType: 'timestamp-micros' } },
            ],
          },
        },
        { name: 'assetId', type: 'long' },
        { name: 'title', type: ['null', 'string'], default: null },
        {
          name: 'files',
          type: {
            type: 'array',
            items: {
              type: 'record',
              name: 'StoredFile',
              fields: [
                { name: 'role', type: 'string' },
                { name: 'location', type: 'string' },
              ],
            },
          },
        },
        {
          // Ambiguous for avsc (two records): decoded wrapped, given to the mapping bare.
          name: 'rights',
          type: [
            'null',
            { type: 'record', name: 'Licensed', fields: [{ name: 'licensor', type: 'string' }] },
            { type: 'record', name: 'Owned', fields: [{ name: 'owner', type: 'string' }] },
          ],
          default: null,
        },
      ],
    }
    const mapping = `filter: header.type = "CREATED"
externalId: '"asset-" & $string(assetId)'
url: files[role = "master"].location
fileName: 'title ? title : "Untitled " & $string(assetId)'
metadata: '{"rights": rights, "source": $topic}'
systemName: '"dam-v2"'
occurredAt: header.at
`
    const base = 7_000_000_000 + Number.parseInt(run, 16)
    const event = (i: number, over: Record<string, unknown> = {}) => ({
      // Epoch ms: the registry client's writer (src/registry/logical-types.ts) writes them as micros.
      header: { type: 'CREATED', at: Date.parse(`2026-0${i + 1}-15T12:00:00.123Z`) },
      assetId: base + i,
      title: i === 1 ? null : `Poster ${i}`,
      // PDFs (the world's files 6 to 9): this case is about reading Avro, not the image import.
      files: [
        { role: 'preview', location: url(6 + ((i + 1) % 4)) },
        { role: 'master', location: url(6 + i) },
      ],
      rights: i === 0 ? { 'legacy.dam.v2.Licensed': { licensor: 'Example Press' } } : null,
      ...over,
    })
    const { results } = await runCases('map-avro', mapping, async (topics) => {
      const id = await world.codec.register(`${topics.input}-value`, schema)
      const avro = (v: unknown) => world.codec.encode(id, v)
      return [
        { value: await avro(event(0)), expect: { id: `asset-${base}` } },
        { value: await avro(event(1)), expect: { id: `asset-${base + 1}` } },
        {
          value: await avro(event(2, { files: [{ role: 'preview', location: url(9) }] })),
          expect: { dlqField: 'url' },
        },
        {
          value: await avro(
            event(3, { header: { type: 'DELETED', at: Date.parse('2026-05-01T00:00:00Z') } }),
          ),
          expect: 'filtered',
        },
      ]
    })
    // timestamp-micros read as epoch ms
    expect(
      results.records.map((r) => [r.value.externalId, r.value.systemName, r.value.eventTime]).sort(),
    ).toEqual([
      [`asset-${base}`, 'dam-v2', Date.parse('2026-01-15T12:00:00.123Z')],
      [`asset-${base + 1}`, 'dam-v2', Date.parse('2026-02-15T12:00:00.123Z')],
    ])
    // The master file of the array; the union of two records given bare; a null title's fallback name
    expect(emulator.getMedia('dam-v2', `asset-${base}`)).toMatchObject({
      url: url(6),
      fileName: 'Poster 0',
      metadata: { rights: { licensor: 'Example Press' }, source: expect.stringMatching(/^map-avro-/) },
    })
    expect(emulator.getMedia('dam-v2', `asset-${base + 1}`)).toMatchObject({
      fileName: `Untitled ${base + 1}`,
      metadata: { rights: null },
    })
  })
})
