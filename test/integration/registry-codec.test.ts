import { randomUUID } from 'node:crypto'
import { describe, expect, inject, it } from 'vitest'
import { BridgeError } from '../../src/errors.ts'
import { createSchemaCodec, readSchema } from '../../src/registry/registry.ts'
import { freePort } from '../support/free-port.ts'

/** The schema codec against the real registry: how each failure is classified (permanent or transient). */
describe('schema codec', () => {
  const { schemaRegistryUrl } = inject('kafka')
  const event = {
    externalId: 'x-1',
    url: 'https://example.com/x.pdf',
    fileName: 'X',
    mediaType: 'file',
    metadata: '{"title":"X"}',
    systemName: null,
    mimeType: null,
    occurredAt: 1_700_000_000_000,
    checksum: null,
  }

  async function encoded() {
    const codec = createSchemaCodec({ url: schemaRegistryUrl })
    const id = await codec.register(`codec-${randomUUID()}-value`, await readSchema('fileCreated'))
    return { codec, id, buffer: await codec.encode(id, event) }
  }

  it('round-trips the file-created schema through the Confluent wire format', async () => {
    const { codec, id, buffer } = await encoded()
    expect(buffer[0]).toBe(0)
    expect(buffer.readUInt32BE(1)).toBe(id)
    expect(await codec.decode(buffer)).toEqual(event)
  })

  it('reports a schema id the registry does not know as UNKNOWN_SCHEMA_ID (permanent)', async () => {
    const { codec, buffer } = await encoded()
    const unknown = Buffer.from(buffer)
    unknown.writeUInt32BE(2_000_000_000, 1)
    const err = await codec.decode(unknown).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BridgeError)
    expect(err).toMatchObject({ code: 'UNKNOWN_SCHEMA_ID', retryable: false })
  })

  it('reports a truncated body as UNDECODABLE_AVRO (permanent)', async () => {
    const { codec, buffer } = await encoded()
    const err = await codec.decode(buffer.subarray(0, buffer.length - 5)).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'UNDECODABLE_AVRO', retryable: false })
  })

  it('reports an unreachable registry as SCHEMA_REGISTRY_UNAVAILABLE (transient, never a DLQ reason)', async () => {
    const { buffer } = await encoded()
    const down = createSchemaCodec({ url: `http://127.0.0.1:${await freePort()}`, retries: 0 })
    const err = await down.decode(buffer).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE', retryable: true })
  })
})
