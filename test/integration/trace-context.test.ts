import type { IncomingMessage } from 'node:http'
import { beforeAll, describe, expect, it } from 'vitest'
import { createScenario, useE2eWorld } from '../support/e2e-world.ts'
import { testProducer } from '../support/test-producer.ts'

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const TRACESTATE = 'legacy=export-42'

describe('W3C trace context from the input record to the import request and the result event', () => {
  const { world, emulator } = useE2eWorld({ images: 3, pdfs: 0 }, { emulator: { token: 'trace-token' } })
  /** Trace headers of every submit request the emulator received, as seen on its socket. */
  const submits: Array<{ traceparent?: string; tracestate?: string }> = []

  beforeAll(() => {
    emulator.server.prependListener('request', (req: IncomingMessage) => {
      if (req.method === 'POST' && /\/import\/(files|images|videos)$/.test(req.url ?? '')) {
        submits.push({
          traceparent: req.headers.traceparent as string | undefined,
          tracestate: req.headers.tracestate as string | undefined,
        })
      }
    })
  })

  it('sends the traceparent on the submit request, keeps it on the result event and logs it with the batch', async () => {
    // Given a bridge and two records of one batch, the second one traced
    const { topics, results, start } = await createScenario(world, 'trace', emulator)
    const bridge = await start({ BATCH_LINGER_MS: '1000' })
    const file = (i: number) => world.files[i] as { name: string }
    const record = (i: number) => ({
      externalId: `trace-${i}`,
      url: `${world.fileServer.url}/${file(i).name}`,
      fileName: file(i).name,
      mediaType: 'file',
      metadata: { title: `Traced ${i}` },
      systemName: 'legacy-archive',
      occurredAt: Date.now(),
    })
    const producer = testProducer(world.kafka)
    await producer.connect()
    try {
      // When both are produced to one partition, the second with traceparent and tracestate headers
      await producer.send({
        topic: topics.input,
        messages: [
          { key: 'trace-0', partition: 0, value: JSON.stringify(record(0)) },
          {
            key: 'trace-1',
            partition: 0,
            value: JSON.stringify(record(1)),
            headers: { traceparent: TRACEPARENT, tracestate: TRACESTATE },
          },
        ],
      })
    } finally {
      await producer.disconnect()
    }
    await results.waitFor((r) => r.length >= 2, 60_000, 'two result events')

    // Then the emulator saw the traceparent and tracestate on the submit request
    expect(submits).toContainEqual({ traceparent: TRACEPARENT, tracestate: TRACESTATE })
    // And the traced file's result event carries them, the untraced one none
    const byId = new Map(results.records.map((r) => [r.value.externalId, r]))
    expect(byId.get('trace-1')?.value).toMatchObject({ state: 'SUCCESS', reason: null })
    expect(byId.get('trace-1')?.headers).toMatchObject({ traceparent: TRACEPARENT, tracestate: TRACESTATE })
    expect(byId.get('trace-0')?.headers.traceparent).toBeUndefined()
    // And the batch's log lines carry the trace id, the submitted line every file's traceparent
    const lines = bridge.logs.lines
    const submitted = lines.find((l) => l.msg === 'import job submitted' && l.traceId !== undefined)
    expect(submitted?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(submitted?.traceparents).toEqual([TRACEPARENT])
    const finished = lines.find((l) => l.msg === 'import job finished' && l.jobId === submitted?.jobId)
    expect(finished?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
  })
})
