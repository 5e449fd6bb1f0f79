// The Confluent wire-format reader: how each registry answer is classified, and that a known id is
// fetched once. Real avsc Types stand in for what the registry client returns.
import avsc from 'avsc'
import { describe, expect, it } from 'vitest'
import { BridgeError } from '../../../src/errors.ts'
import {
  createWireFormatReader,
  createWireFormatWriter,
  UNKNOWN_WRITER,
} from '../../../src/registry/wire-format.ts'
import { fileCreatedType, validRecord, wire } from '../events/avro-fixtures.ts'

/** A schema source answering from `schemas` (id -> avsc Type or an error to reject with). */
function source(schemas: Record<number, unknown>) {
  const calls: number[] = []
  return {
    calls,
    async fetchSchema(id: number) {
      calls.push(id)
      const answer = schemas[id]
      if (answer === undefined) throw Object.assign(new Error(`Schema ${id} not found.`), { status: 404 })
      if (answer instanceof Error) throw answer
      return answer
    },
  }
}

async function rejection(promise: Promise<unknown>): Promise<BridgeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof BridgeError)) throw new Error(`expected a BridgeError, got ${String(err)}`)
  return err
}

describe('createWireFormatReader', () => {
  it('decodes with the writer schema of the id, fetching each id once', async () => {
    // Given a source that knows id 7
    const src = source({ 7: fileCreatedType })
    const decode = createWireFormatReader(src)
    // When two records of id 7 are decoded
    const first = await decode(wire(7, validRecord))
    const second = await decode(wire(7, { ...validRecord, externalId: 'other' }))
    // Then both decode, and the registry was asked once
    expect(first).toEqual(validRecord)
    expect(second).toMatchObject({ externalId: 'other' })
    expect(src.calls).toEqual([7])
  })

  it('decodes at once, without a promise, once the id is known (decodeKnown)', async () => {
    const src = source({ 7: fileCreatedType })
    const decode = createWireFormatReader(src)
    // Before the id was fetched: unknown, and the registry is not asked
    expect(decode.decodeKnown(wire(7, validRecord))).toBe(UNKNOWN_WRITER)
    expect(src.calls).toEqual([])
    await decode(wire(7, validRecord))
    // After: the value itself, and a body that does not match throws UNDECODABLE_AVRO
    expect(decode.decodeKnown(wire(7, validRecord))).toEqual(validRecord)
    expect(() => decode.decodeKnown(Buffer.concat([wire(7, validRecord), Buffer.from([1])]))).toThrow(
      expect.objectContaining({ code: 'UNDECODABLE_AVRO' }),
    )
    expect(src.calls).toEqual([7])
  })

  it('404 -> UNKNOWN_SCHEMA_ID (permanent), asked again next time (not cached)', async () => {
    const src = source({})
    const decode = createWireFormatReader(src)
    const err = await rejection(decode(wire(9, validRecord)))
    expect(err).toMatchObject({ code: 'UNKNOWN_SCHEMA_ID', retryable: false })
    expect(err.message).toBe('schema id 9 is not in the registry')
    await rejection(decode(wire(9, validRecord)))
    expect(src.calls).toEqual([9, 9])
  })

  it.each([400, 401, 500, 503])(
    'status %s (connection refused is 400 in the client) -> SCHEMA_REGISTRY_UNAVAILABLE (retryable), then recovers',
    async (status) => {
      // Given a registry that fails once with `status`
      const schemas: Record<number, unknown> = {
        7: Object.assign(new Error('registry says no'), { status }),
      }
      const decode = createWireFormatReader(source(schemas))
      // Then the first decode is a retryable error, never a DLQ reason
      const err = await rejection(decode(wire(7, validRecord)))
      expect(err).toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE', retryable: true })
      // And once the registry answers, the same record decodes
      schemas[7] = fileCreatedType
      expect(await decode(wire(7, validRecord))).toEqual(validRecord)
    },
  )

  it('an error without status (the schema cannot be parsed) -> UNSUPPORTED_SCHEMA (permanent)', async () => {
    const decode = createWireFormatReader(source({ 7: new SyntaxError('Unexpected token') }))
    const err = await rejection(decode(wire(7, validRecord)))
    expect(err).toMatchObject({ code: 'UNSUPPORTED_SCHEMA', retryable: false })
    expect(err.message).toContain('Unexpected token')
  })

  it('a schema that is not Avro (JSON Schema, Protobuf) -> UNSUPPORTED_SCHEMA', async () => {
    const jsonSchemaLike = { validate: () => true, fromBuffer: (b: Buffer) => JSON.parse(b.toString()) }
    const err = await rejection(createWireFormatReader(source({ 7: jsonSchemaLike }))(wire(7, validRecord)))
    expect(err).toMatchObject({ code: 'UNSUPPORTED_SCHEMA', message: 'schema id 7 is not an Avro schema' })
  })

  it('a truncated body -> UNDECODABLE_AVRO', async () => {
    const decode = createWireFormatReader(source({ 7: fileCreatedType }))
    const full = wire(7, validRecord)
    const err = await rejection(decode(full.subarray(0, full.length - 3)))
    expect(err).toMatchObject({ code: 'UNDECODABLE_AVRO', retryable: false })
    expect(err.message).toMatch(/^Avro body does not match schema id 7: /)
  })

  it('trailing bytes after the record -> UNDECODABLE_AVRO', async () => {
    const decode = createWireFormatReader(source({ 7: fileCreatedType }))
    const err = await rejection(decode(Buffer.concat([wire(7, validRecord), Buffer.from([1, 2])])))
    expect(err.code).toBe('UNDECODABLE_AVRO')
  })

  it('a body written with another schema -> UNDECODABLE_AVRO', async () => {
    // Given the body of a different record type under id 7
    const other = avsc.Type.forSchema({
      type: 'record',
      name: 'Other',
      fields: [{ name: 'n', type: 'long' }],
    })
    const body = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), other.toBuffer({ n: 123_456 })])
    const err = await rejection(createWireFormatReader(source({ 7: fileCreatedType }))(body))
    expect(err.code).toBe('UNDECODABLE_AVRO')
  })
})

describe('createWireFormatWriter', () => {
  it('writes the Confluent wire format the reader (and the fixtures) read, fetching each id once', async () => {
    // Given a source that knows id 70000 (above 16 bits, so all four id bytes matter)
    const src = source({ 70000: fileCreatedType })
    const encode = createWireFormatWriter(src)
    // When two values are encoded
    const first = await encode(70000, validRecord)
    const second = await encode(70000, { ...validRecord, externalId: 'other' })
    // Then the bytes are magic 0, the big-endian id and the Avro body, as built independently, and they decode back
    expect(first.equals(wire(70000, validRecord))).toBe(true)
    const decode = createWireFormatReader(src)
    expect(await decode(second)).toEqual({ ...validRecord, externalId: 'other' })
    expect(src.calls.filter((id) => id === 70000)).toHaveLength(2) // one per writer and reader
  })

  it('names the field that does not match the schema', async () => {
    const encode = createWireFormatWriter(source({ 7: fileCreatedType }))
    await expect(encode(7, { ...validRecord, occurredAt: 'yesterday' })).rejects.toThrow(/occurredAt/)
  })

  it('encodes at once once the id is known, the same bytes, whatever size the values come in', async () => {
    const encode = createWireFormatWriter(source({ 7: fileCreatedType }))
    // Given an id not fetched yet: no value can be encoded at once
    expect(encode.encodeKnown(7, validRecord)).toBe(UNKNOWN_WRITER)
    await encode(7, validRecord)
    // Then a value far larger than the writer's 64 KiB scratch buffer, and a short one after it
    const large = { ...validRecord, fileName: 'x'.repeat(200_000) }
    const short = { ...validRecord, externalId: 'e' }
    for (const value of [large, short, validRecord]) {
      const bytes = encode.encodeKnown(7, value) as Buffer
      expect(Buffer.isBuffer(bytes)).toBe(true)
      expect(bytes.equals(wire(7, value))).toBe(true)
    }
    expect(() => encode.encodeKnown(7, { ...validRecord, occurredAt: 'yesterday' })).toThrow(/occurredAt/)
  })
})
