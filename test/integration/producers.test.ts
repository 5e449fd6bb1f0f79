// Issue 14 on a real broker and registry: what producers other than kafkajs write (Kafka's own Java console
// producer: every compression codec, a topic that makes the broker recompress, a null header value), DLQ
// copies byte for byte, DLQ records too large for the broker, the writer schema's logical types, times
// out of range, URLs as valid URIs, and Apicurio's header-based schema id.
import { createHash } from 'node:crypto'
import avsc from 'avsc'
import { describe, expect, it } from 'vitest'
import type { RecordHeader } from '../../src/model/records.ts'
import {
  createScenario,
  fetchCommitted,
  readDlq,
  scrapeMetric,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import { fetchLogEnd } from '../support/fault-run.ts'
import { consoleProduce } from '../support/kafka-tools.ts'
import { startTopicReader } from '../support/result-reader.ts'
import { testProducer } from '../support/test-producer.ts'
import { writerSchemaWith } from '../unit/events/avro-fixtures.ts'

describe('records as other producers write them', () => {
  const { world, emulator } = useE2eWorld({ images: 16, pdfs: 4 }, { emulator: { token: 'producers-token' } })

  /** A valid JSON event for file `i` of the world's files. */
  function event(id: string, i: number, extra: Record<string, unknown> = {}) {
    const file = world.files[i % world.files.length]
    return {
      externalId: id,
      url: `${world.fileServer.url}/${file?.name}`,
      fileName: `File ${id}`,
      systemName: 'legacy-archive',
      occurredAt: 1_700_000_000_000,
      ...extra,
    }
  }

  async function setTopicConfig(topic: string, name: string, value: string): Promise<void> {
    const admin = world.kafka.admin()
    await admin.connect()
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: 2 /* TOPIC */, name: topic, configEntries: [{ name, value }] }],
      })
    } finally {
      await admin.disconnect()
    }
  }

  async function readyz(metricsUrl: string) {
    const res = await fetch(metricsUrl.replace('/metrics', '/readyz'))
    return { status: res.status, body: (await res.json()) as { problems: string[] } }
  }

  it('row 1: reads what the Java producer compressed with gzip, snappy, lz4 and zstd, and what the broker recompressed', async () => {
    // Given a bridge on a topic with the broker's default compression.type=producer
    const { topics, results, start } = await createScenario(world, 'codecs', emulator)
    const dlq = await readDlq(world, topics)
    const bridge = await start()
    const lines = (prefix: string) =>
      [0, 1].map((i) => `${prefix}-${i}\t${JSON.stringify(event(`${prefix}-${i}`, i))}`)
    const keyed = ['--property', 'parse.key=true']

    // When Kafka's own console producer writes records compressed with each codec Kafka defines
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd']
    for (const codec of codecs)
      await consoleProduce({
        brokers: world.brokers,
        topic: topics.input,
        lines: lines(codec),
        args: ['--compression-codec', codec, ...keyed],
      })
    // And the topic's own compression.type makes the broker recompress uncompressed and gzip batches
    const recompressed = ['lz4', 'zstd']
    for (const type of recompressed) {
      await setTopicConfig(topics.input, 'compression.type', type)
      await consoleProduce({
        brokers: world.brokers,
        topic: topics.input,
        lines: lines(`topic-${type}`),
        args: ['--compression-codec', 'gzip', ...keyed],
      })
    }

    // Then every record gets its result, none goes to the DLQ, and the bridge stays live and ready
    const expected = [...codecs, ...recompressed.map((t) => `topic-${t}`)].flatMap((p) => [
      `${p}-0`,
      `${p}-1`,
    ])
    await results.waitFor(
      (r) => expected.every((id) => r.some((x) => x.value.externalId === id)),
      90_000,
      'a result for every compressed record',
    )
    expect(results.records.map((r) => r.value.state)).toEqual(expected.map(() => 'SUCCESS'))
    expect(dlq.records).toHaveLength(0)
    const health = await fetch(bridge.metricsUrl.replace('/metrics', '/healthz'))
    expect(health.status).toBe(200)
    expect((await readyz(bridge.metricsUrl)).status).toBe(200)
  })

  it('row 3: the DLQ copy is byte-exact: key, value, every header in order (repeats, null, binary), timestamp', async () => {
    // Given a bridge
    const { topics, start } = await createScenario(world, 'headers', emulator)
    const dlq = await readDlq(world, topics)
    await start()
    const input = await startTopicReader(world.kafka, topics.input, (v) => v)
    world.defer(() => input.stop())

    // When undecodable records come with every form of header:
    // the issue's record (our client, which writes header lists), kafkajs' own object form (repeats,
    // binary), and the Java console producer (a null value, repeats)
    const issueHeaders: RecordHeader[] = [
      ['n', null],
      ['dup', Buffer.from('1')],
      ['dup', Buffer.from('2')],
      ['bin', Buffer.from([0xff, 0x00, 0x80, 0x6f, 0x6b])],
    ]
    const producer = testProducer(world.kafka)
    await producer.connect()
    await producer.send({
      topic: topics.input,
      messages: [
        {
          partition: 0,
          key: Buffer.from([0xfe, 0x01]),
          value: Buffer.from([0x01, 0xff]),
          timestamp: '1700000000123',
          headerList: issueHeaders,
        } as never,
        {
          partition: 0,
          key: 'kafkajs',
          value: 'not an event',
          headers: { dup: ['a', 'b'], bin: Buffer.from([0, 0xc3]) },
        },
      ],
    })
    await producer.disconnect()
    await consoleProduce({
      brokers: world.brokers,
      topic: topics.input,
      lines: ['n:NULL,dup:x,other:y,dup:z\tjava\tnot an event either'],
      args: [
        '--property',
        'parse.key=true',
        '--property',
        'parse.headers=true',
        '--property',
        'null.marker=NULL',
      ],
    })

    // Then each DLQ record is the input record byte for byte, with only dlq.* headers added after its own
    await input.waitFor((r) => r.length >= 3, 60_000, 'the input records')
    await dlq.waitFor((r) => r.length >= 3, 60_000, 'three DLQ records')
    expect(input.records[0]?.headerList).toEqual(issueHeaders)
    expect(input.records[2]?.headerList).toEqual([
      ['n', null],
      ['dup', Buffer.from('x')],
      ['other', Buffer.from('y')],
      ['dup', Buffer.from('z')],
    ])
    for (const original of input.records) {
      const copy = dlq.records.find((d) => d.headers['dlq.source.offset'] === original.offset)
      expect(copy, `DLQ copy of offset ${original.offset}`).toBeDefined()
      if (copy === undefined) continue
      expect(copy.rawKey).toEqual(original.rawKey)
      expect(copy.raw).toEqual(original.raw)
      expect(copy.timestamp).toBe(original.timestamp)
      expect(copy.headerList.slice(0, original.headerList.length)).toEqual(original.headerList)
      expect(
        copy.headerList.slice(original.headerList.length).every(([name]) => name.startsWith('dlq.')),
      ).toBe(true)
    }
    expect(input.records[0]?.timestamp).toBe(1_700_000_000_123)
  })

  it('row 4: a DLQ copy too large for the broker is recorded without its value; commits go on; a publish that keeps failing turns readiness off until it goes through', async () => {
    // Given a bridge that calls a send stalled after 1.5 s
    const { topics, results, start } = await createScenario(world, 'sizes', emulator)
    const dlq = await readDlq(world, topics)
    const bridge = await start({ PUBLISH_STALL_MS: '1500' })
    const producer = testProducer(world.kafka)
    await producer.connect()
    world.defer(() => producer.disconnect())

    // When a JSON event of 1,048,400 bytes (the broker takes it on input), invalid (an empty fileName;
    // a valid one that large would get a FAILED result naming BATCH_MAX_BYTES instead), and then a
    // valid event come
    const base = JSON.stringify(event('huge', 0, { fileName: '', metadata: { body: '' } }))
    const huge = Buffer.from(base.replace('"body":""', `"body":"${'x'.repeat(1_048_400 - base.length)}"`))
    expect(huge.length).toBe(1_048_400)
    // (two requests: together they would exceed the topic's max.message.bytes)
    await producer.send({ topic: topics.input, messages: [{ partition: 0, key: 'huge', value: huge }] })
    await producer.send({
      topic: topics.input,
      messages: [{ partition: 0, key: 'after-huge', value: JSON.stringify(event('after-huge', 1)) }],
    })

    // Then the DLQ has the record without its value, saying why, its size and SHA-256
    await dlq.waitFor((r) => r.length >= 1, 60_000, 'the DLQ record of the huge event')
    const copy = dlq.records[0]
    expect(copy?.raw?.length ?? 0).toBe(0)
    expect(copy?.headers).toMatchObject({
      'dlq.reason': 'INVALID_EVENT',
      'dlq.omitted': 'value',
      'dlq.value.size': '1048400',
      'dlq.value.sha256': createHash('sha256').update(huge).digest('hex'),
    })
    expect(copy?.headers['dlq.omitted.reason']).toMatch(/too large/)
    expect(copy?.key).toBe('huge')
    // And the valid event gets its result, and the partition's offsets are committed past both
    await results.waitFor(
      (r) => r.some((x) => x.value.externalId === 'after-huge'),
      60_000,
      'the valid result',
    )
    const end = await fetchLogEnd(world.kafka, topics.input)
    await waitUntil(
      async () => (await fetchCommitted(world.kafka, topics.group, topics.input)).get(0) === end.get(0),
      30_000,
      'partition 0 committed at its log end',
    )

    // When the DLQ topic takes no record of even a few hundred bytes, and a bad and a good event come
    await setTopicConfig(topics.dlq, 'max.message.bytes', '64')
    await producer.send({
      topic: topics.input,
      messages: [
        { partition: 0, key: 'bad', value: 'not an event' },
        { partition: 0, key: 'good', value: JSON.stringify(event('good', 2)) },
      ],
    })

    // Then, after PUBLISH_STALL_MS, the bridge is not ready, names the topic, and the gauge is 1
    await waitUntil(async () => (await readyz(bridge.metricsUrl)).status === 503, 30_000, 'not ready')
    const { body } = await readyz(bridge.metricsUrl)
    expect(body.problems.join('; ')).toContain(`publishing to ${topics.dlq} failing for`)
    await waitUntil(
      async () => (await scrapeMetric(bridge, 'bridge_publish_stalled')) === 1,
      30_000,
      'bridge_publish_stalled 1',
    )
    // And the good event still gets its result, while the commit waits at the bad record
    await results.waitFor((r) => r.some((x) => x.value.externalId === 'good'), 60_000, 'the good result')
    expect((await fetchCommitted(world.kafka, topics.group, topics.input)).get(0)).toBe(end.get(0))

    // When the topic takes records again, the DLQ record goes through, the bridge is ready, commits go on
    await setTopicConfig(topics.dlq, 'max.message.bytes', '1048588')
    await dlq.waitFor((r) => r.length >= 2, 60_000, 'the DLQ record of the bad event')
    // (written at the smallest size tried while the topic refused them all)
    expect(dlq.records[1]?.headers).toMatchObject({
      'dlq.reason': 'UNKNOWN_WIRE_FORMAT',
      'dlq.omitted': 'value,key,headers',
      'dlq.value.size': '12',
      'dlq.key.size': '3',
    })
    await waitUntil(async () => (await readyz(bridge.metricsUrl)).status === 200, 30_000, 'ready again')
    expect(await scrapeMetric(bridge, 'bridge_publish_stalled')).toBe(0)
    const endAfter = await fetchLogEnd(world.kafka, topics.input)
    await waitUntil(
      async () => (await fetchCommitted(world.kafka, topics.group, topics.input)).get(0) === endAfter.get(0),
      30_000,
      'partition 0 committed at its log end again',
    )
  })

  it('rows 5-8: logical types of the writer schema, the RFC 3339 range, URLs as valid URIs, Apicurio’s header-based schema id', async () => {
    const { topics, results, start } = await createScenario(world, 'formats', emulator)
    const dlq = await readDlq(world, topics)
    await start()
    const at = Date.UTC(2026, 2, 1, 12, 30, 15, 123)

    // Given an Avro writer schema whose occurredAt is timestamp-micros, registered as any producer would
    const schema = writerSchemaWith({ type: 'long', logicalType: 'timestamp-micros' })
    const id = await world.codec.register(`${topics.input}-value`, schema as Record<string, unknown>)
    // (written with avsc's plain long: the raw microseconds, as a Java or Python producer writes them)
    const plain = avsc.Type.forSchema(schema)
    const micros = { ...event('micros', 3), metadata: '{}', occurredAt: at * 1000 + 456 }
    const header = Buffer.alloc(5)
    header.writeUInt32BE(id, 1)
    // And the same body as Apicurio's serializer writes it with the schema id in headers
    const apicurioId = Buffer.alloc(8)
    apicurioId.writeBigInt64BE(BigInt(id))

    // When these come, with a JSON event dated in the year 10000 and the issue's URLs
    const producer = testProducer(world.kafka)
    await producer.connect()
    await producer.send({
      topic: topics.input,
      messages: [
        { key: 'micros', value: Buffer.concat([header, plain.toBuffer(micros)]) },
        { key: 'y10000', value: JSON.stringify(event('y10000', 4, { occurredAt: 253_402_300_800_000 })) },
        {
          key: 'space',
          value: JSON.stringify(
            event('space', 5, { url: 'https://files.example.test/in box/report 2026.pdf' }),
          ),
        },
        {
          key: 'idn',
          value: JSON.stringify(event('idn', 6, { url: 'https://bücher.example.test/straße/Übersicht.pdf' })),
        },
        {
          key: 'apicurio',
          value: plain.toBuffer({ ...micros, externalId: 'apicurio' }),
          headers: { 'apicurio.value.globalId': apicurioId, 'apicurio.value.encoding': 'BINARY' },
        },
      ],
    })
    await producer.disconnect()

    // Then the micros are read as the right millisecond
    await results.waitFor((r) => r.some((x) => x.value.externalId === 'micros'), 60_000, 'the micros result')
    const result = results.records.find((r) => r.value.externalId === 'micros')
    expect(result?.value.state).toBe('SUCCESS')
    expect(result?.value.eventTime).toBe(at)
    // And the year 10000 and Apicurio's record go to the DLQ with messages that name the cause
    await dlq.waitFor((r) => r.length >= 2, 60_000, 'two DLQ records')
    const byKey = (k: string) => dlq.records.find((r) => r.key === k)?.headers
    expect(byKey('y10000')).toMatchObject({
      'dlq.reason': 'INVALID_EVENT',
      'dlq.message':
        'occurredAt: must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (RFC 3339)',
    })
    expect(byKey('apicurio')?.['dlq.reason']).toBe('UNKNOWN_WIRE_FORMAT')
    expect(byKey('apicurio')?.['dlq.message']).toContain(
      `the schema id is in the record header apicurio.value.globalId ${id}`,
    )
    expect(byKey('apicurio')?.['dlq.message']).toContain('apicurio.registry.headers.enabled=false')
    // And the import API got the URLs as valid URIs
    await results.waitFor(
      (r) => ['space', 'idn'].every((k) => r.some((x) => x.value.externalId === k)),
      60_000,
      'results of the URL events',
    )
    const sent = new Map(emulator.listJobs().flatMap((j) => j.files.map((f) => [f.id, f.url])))
    expect(sent.get('space')).toBe('https://files.example.test/in%20box/report%202026.pdf')
    expect(sent.get('idn')).toBe('https://xn--bcher-kva.example.test/stra%C3%9Fe/%C3%9Cbersicht.pdf')
  })
})
