import { beforeAll, describe, expect, it } from 'vitest'
import { parseTraceparent } from '../../src/telemetry/trace-context.ts'
import { bridgeEnv, createTopics, startBridgeProcessIn, useE2eWorld } from '../support/e2e-world.ts'
import {
  JAEGER_BUILD_TIMEOUT_MS,
  type RunningJaeger,
  type StoredSpan,
  startJaeger,
} from '../support/jaeger.ts'
import { testProducer } from '../support/test-producer.ts'

const TOKEN = 'traces-token-6b1e0a'
const STATUS_ERROR = 2

/** The legacy producer's span of file i: a trace of its own, sampled. */
const producer = (i: number) => ({
  traceId: `4bf92f3577b34da6a3ce929d0e0e47${String(10 + i)}`,
  spanId: `00f067aa0ba902${String(10 + i)}`,
})
const traceparentOf = (i: number) => `00-${producer(i).traceId}-${producer(i).spanId}-01`

describe('traces in a real Jaeger: a job span linked to every file’s record span, its requests and results', () => {
  const { world, emulator } = useE2eWorld({ images: 3, pdfs: 0 }, { emulator: { token: TOKEN } })
  let jaeger: RunningJaeger

  // Builds Jaeger first if it is not cached (CI builds it before `npm test`).
  beforeAll(async () => {
    jaeger = await startJaeger(world)
  }, JAEGER_BUILD_TIMEOUT_MS + 60_000)

  it('exports the span tree of one job, whose results carry the bridge’s send spans in their traceparent', async () => {
    // Given a bridge process exporting spans to Jaeger, every span sampled
    const { topics, results } = await createTopics(world, 'traces')
    const bridge = await startBridgeProcessIn(
      world,
      bridgeEnv(world, emulator, topics, {
        OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint,
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        BATCH_LINGER_MS: '1000',
      }),
    )
    const record = (i: number) => {
      const file = world.files[i] as { name: string }
      return {
        externalId: `traced-${i}`,
        url: `${world.fileServer.url}/${file.name}`,
        fileName: file.name,
        mediaType: 'image',
        metadata: { title: `secret-title-${i}` },
        systemName: 'legacy-archive',
        occurredAt: Date.now(),
      }
    }

    // When three files, each produced in a trace of its own, go to one partition (one batch)
    const kafkaProducer = testProducer(world.kafka)
    await kafkaProducer.connect()
    try {
      await kafkaProducer.send({
        topic: topics.input,
        messages: [0, 1, 2].map((i) => ({
          key: `traced-${i}`,
          partition: 0,
          value: JSON.stringify(record(i)),
          headers: { traceparent: traceparentOf(i) },
        })),
      })
    } finally {
      await kafkaProducer.disconnect()
    }
    await results.waitFor((r) => r.length >= 3, 60_000, 'three result events')

    // Then every result record names a send span of the bridge, all in one trace (the job's)
    const sent = results.records.map((r) => ({
      externalId: r.value.externalId,
      jobId: r.value.importJobId,
      kind: r.value.kind,
      parent: parseTraceparent(r.headers.traceparent),
    }))
    expect(sent.map((s) => s.parent?.flags)).toEqual(['01', '01', '01'])
    const jobTraceId = sent[0]?.parent?.traceId as string
    expect(new Set(sent.map((s) => s.parent?.traceId))).toEqual(new Set([jobTraceId]))
    for (let i = 0; i < 3; i++) expect(jobTraceId).not.toBe(producer(i).traceId)
    const spans = await jaeger.waitForSpans(
      jobTraceId,
      (s) =>
        s.some((x) => x.name === 'import job') && s.filter((x) => x.name.startsWith('send ')).length === 3,
      30_000,
      'the job span and its three send spans in Jaeger',
    )
    const byName = (name: string) => spans.filter((s) => s.name === name)
    const job = byName('import job')[0] as StoredSpan

    // And the job span carries the job's id, kind and file counts, and links to each file's record span
    expect(job.resource['service.name']).toBe('file-import-bridge')
    expect(job.attributes).toMatchObject({
      'livingdocs.import.job_id': sent[0]?.jobId,
      'livingdocs.import.kind': 'image',
      'livingdocs.import.files': 3,
      'livingdocs.import.files.imported': 3,
      'livingdocs.import.files.failed': 0,
      'livingdocs.import.end': 'concluded',
      'livingdocs.import.system_name': 'legacy-archive',
    })
    expect(job.links).toHaveLength(3)
    expect(job.links.map((l) => l.traceId).sort()).toEqual([0, 1, 2].map((i) => producer(i).traceId).sort())

    // And it is the child of its batch span, which links to the same record spans
    const batch = byName('import batch')[0] as StoredSpan
    expect(job.parentSpanId).toBe(batch.spanId)
    expect(batch.parentSpanId).toBeUndefined()
    expect(batch.attributes).toMatchObject({
      'messaging.batch.message_count': 3,
      'livingdocs.import.files': 3,
    })
    expect(batch.links).toEqual(expect.arrayContaining(job.links))

    // And the submit request and each status read are client spans, children of the job span
    const apiPath = `/api/${emulator.apiVersion}/import/images`
    const [submit] = byName(`POST ${apiPath}`)
    expect(submit).toMatchObject({ kind: 'CLIENT', parentSpanId: job.spanId })
    expect(submit?.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
    })
    const reads = byName(`GET ${apiPath}/status`)
    expect(reads.length).toBeGreaterThanOrEqual(1)
    for (const read of reads) {
      expect(read).toMatchObject({ kind: 'CLIENT', parentSpanId: job.spanId })
      expect(read.attributes['url.full']).toContain(`id=${sent[0]?.jobId}`)
    }
    // And so is the webhook (a server span; an internal one if it came before the submit's answer)
    const webhooks = spans.filter((s) => /webhook/.test(s.name) && s.parentSpanId === job.spanId)
    expect(webhooks.length).toBeGreaterThanOrEqual(1)

    // And each result's traceparent names its send span: a producer span, child of the job span,
    // linked to the record span of its own file
    for (const s of sent) {
      const send = spans.find((x) => x.spanId === s.parent?.parentId) as StoredSpan
      expect(send).toMatchObject({
        name: `send ${topics.result}`,
        kind: 'PRODUCER',
        parentSpanId: job.spanId,
      })
      expect(send.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topics.result,
        'livingdocs.import.external_id': s.externalId,
        'livingdocs.import.state': 'SUCCESS',
      })
      const i = Number(s.externalId.slice('traced-'.length))
      expect(send.links.map((l) => l.traceId)).toEqual([producer(i).traceId])
      expect(job.links).toContainEqual(send.links[0])
    }

    // And each record span is a consumer span in its producer's trace, the child of the producer's span
    for (let i = 0; i < 3; i++) {
      const [processed] = await jaeger.waitForSpans(
        producer(i).traceId,
        (s) => s.length > 0,
        30_000,
        `the record span of file ${i}`,
      )
      expect(processed).toMatchObject({
        name: `process ${topics.input}`,
        kind: 'CONSUMER',
        parentSpanId: producer(i).spanId,
      })
      expect(processed?.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': topics.input,
        'messaging.destination.partition.id': '0',
        'messaging.consumer.group.name': topics.group,
        'livingdocs.import.external_id': `traced-${i}`,
      })
      expect(job.links).toContainEqual({ traceId: producer(i).traceId, spanId: processed?.spanId })
    }

    // And no span carries the token or a metadata value, and none ended in error
    const everything = JSON.stringify(spans)
    expect(everything).not.toContain(TOKEN)
    expect(everything).not.toContain('secret-title')
    expect(spans.filter((s) => s.status.code === STATUS_ERROR)).toEqual([])

    // And the job's log lines carry the job span's ids
    const submitted = bridge.logs.lines.find((l) => l.msg === 'import job submitted')
    expect(submitted).toMatchObject({ trace_id: jobTraceId, span_id: job.spanId, trace_flags: '01' })
    const finished = bridge.logs.lines.find((l) => l.msg === 'import job finished')
    expect(finished).toMatchObject({ trace_id: jobTraceId, span_id: job.spanId })
  })
})
