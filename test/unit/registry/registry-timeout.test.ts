// A registry request that is accepted but never answered: timed out and asked again, never waited on for ever.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { BridgeError } from '../../../src/errors.ts'
import { createSchemaCodec, readSchema } from '../../../src/registry/registry.ts'
import { validRecord, wire } from '../events/avro-fixtures.ts'

const servers: Array<ReturnType<typeof createServer>> = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    s.close()
  }
})

/** A registry serving the file-created schema under id 7, leaving the first `hang` requests unanswered. */
async function registry(hang: number) {
  const schema = JSON.stringify(await readSchema('fileCreated'))
  let requests = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests++
    if (requests <= hang) return // accepted, never answered
    if (req.url === '/schemas/ids/7') {
      res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' })
      res.end(JSON.stringify({ schema }))
    } else {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end('{"error_code":40403,"message":"Schema not found"}')
    }
  })
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests }
}

describe('createSchemaCodec: request timeout', () => {
  it('asks again after requestTimeoutMs when a request goes unanswered, and decodes', async () => {
    const { url, requests } = await registry(1)
    const codec = createSchemaCodec({ url, retries: 2, requestTimeoutMs: 200 })
    expect(await codec.decode(wire(7, validRecord))).toEqual(validRecord)
    expect(requests()).toBe(2)
  })

  it('gives up after its retries as the registry being unavailable (retryable), not waiting for ever', async () => {
    const { url, requests } = await registry(100)
    const codec = createSchemaCodec({ url, retries: 1, requestTimeoutMs: 200 })
    const err = await codec.decode(wire(7, validRecord)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BridgeError)
    expect(err).toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE', retryable: true })
    expect(requests()).toBe(2)
  })
})
