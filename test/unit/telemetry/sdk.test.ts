// startTelemetry: the Node SDK from the OTEL_* variables, exporting to an OTLP/HTTP receiver on a socket.
// (The SDK registers itself globally once per process: the unreachable receiver's case is a file of its own.)
import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { startTelemetry } from '../../../src/telemetry/sdk.ts'
import { silentLogger } from '../../support/log-lines.ts'

afterEach(() => {
  vi.unstubAllEnvs()
})

/** An OTLP/HTTP receiver that keeps each request's path and JSON body. */
async function otlpReceiver() {
  const received: Array<{ url: string; body: unknown }> = []
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ url: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server }
}

describe('startTelemetry', () => {
  it('is off without an endpoint: no tracer, and a shutdown with nothing to do', async () => {
    const telemetry = await startTelemetry({ enabled: false, endpoint: undefined }, silentLogger)
    expect(telemetry.tracer).toBeUndefined()
    await expect(telemetry.shutdown(10)).resolves.toBeUndefined()
  })

  it('exports spans over OTLP to the endpoint the OTEL_* variables name, with their service name', {
    timeout: 30_000,
  }, async () => {
    // Given an OTLP receiver and the standard variables pointing at it
    const receiver = await otlpReceiver()
    try {
      vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.url)
      vi.stubEnv('OTEL_EXPORTER_OTLP_PROTOCOL', 'http/json')
      vi.stubEnv('OTEL_SERVICE_NAME', 'bridge-under-test')

      // When tracing starts and a span ends before the shutdown
      const telemetry = await startTelemetry({ enabled: true, endpoint: receiver.url }, silentLogger)
      telemetry.tracer?.startSpan('probe').end()
      await telemetry.shutdown(5000)

      // Then the span reached the receiver's traces path, from the named service
      expect(receiver.received.map((r) => r.url)).toEqual(['/v1/traces'])
      const text = JSON.stringify(receiver.received[0]?.body)
      expect(text).toContain('"probe"')
      expect(text).toContain('bridge-under-test')
    } finally {
      receiver.server.close()
    }
  })
})
