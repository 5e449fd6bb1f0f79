// The writer schema's logical types: an occurredAt written in micro- or nanoseconds (or local
// timestamps, or a date) is read as epoch ms, and a time outside RFC 3339's range is an INVALID_EVENT.
// The writer bytes come from avsc's own long encoding, as a Java or Python producer writes them.
import avsc from 'avsc'
import { describe, expect, it } from 'vitest'
import { createEventDecoder } from '../../../src/events/decode.ts'
import type { DecodeResult } from '../../../src/model/files.ts'
import { instantLogicalTypes } from '../../../src/registry/logical-types.ts'
import type { SchemaCodec } from '../../../src/registry/registry.ts'
import { createWireFormatReader } from '../../../src/registry/wire-format.ts'
import { validRecord, writerSchemaWith } from '../events/avro-fixtures.ts'

const writerSchema = writerSchemaWith

/** The record's bytes as a producer writes them: the raw number in the schema's unit. */
function written(occurredAt: object, raw: bigint | number): Buffer {
  const plainLong = avsc.types.LongType.__with({
    fromBuffer: (b: Buffer) => b.readBigInt64LE(),
    toBuffer: (n: bigint) => {
      const b = Buffer.alloc(8)
      b.writeBigInt64LE(BigInt(n))
      return b
    },
    fromJSON: BigInt,
    toJSON: Number,
    isValid: () => true,
    compare: () => 0,
  })
  const underlying = (occurredAt as { type: string }).type
  // The type by name, so that the registry's long (a BigInt one) writes it.
  const type = avsc.Type.forSchema(writerSchema(underlying), {
    registry: underlying === 'long' ? { long: plainLong } : {},
  })
  const body = type.toBuffer({ ...validRecord, occurredAt: underlying === 'long' ? BigInt(raw) : raw })
  return Buffer.concat([Buffer.from([0, 0, 0, 0, 9]), body])
}

/** Decodes `value` with the registry client's parse of the writer schema (our logical types). */
async function decodeWith(occurredAt: object, value: Buffer): Promise<DecodeResult> {
  const reader = avsc.Type.forSchema(writerSchema(occurredAt), { logicalTypes: instantLogicalTypes() })
  const codec: SchemaCodec = {
    register: async () => 9,
    encode: async () => Buffer.alloc(0),
    decode: createWireFormatReader({ fetchSchema: async () => reader }),
  }
  return createEventDecoder(codec, {
    defaultSystemName: undefined,
    mediaKinds: { kindsByMediaType: {}, detectFromFile: false },
  })(value)
}

const MS = Date.UTC(2026, 2, 1, 12, 30, 15, 123)

describe('logical types of the writer schema', () => {
  it.each([
    ['timestamp-millis', BigInt(MS), MS],
    ['timestamp-micros', BigInt(MS) * 1000n + 456n, MS],
    ['timestamp-nanos', BigInt(MS) * 1_000_000n + 456_789n, MS],
    ['local-timestamp-millis', BigInt(MS), MS],
    ['local-timestamp-micros', BigInt(MS) * 1000n + 999n, MS],
    ['local-timestamp-nanos', BigInt(MS) * 1_000_000n, MS],
    ['timestamp-micros', -1n, -1],
    ['timestamp-nanos', -1_000_001n, -2],
  ])('occurredAt %s %s is read as %s ms', async (logicalType, raw, ms) => {
    const schema = { type: 'long', logicalType }
    const result = await decodeWith(schema, written(schema, raw))
    expect(result).toMatchObject({ ok: true, event: { occurredAt: ms } })
  })

  it('a date is midnight UTC of that day', async () => {
    const schema = { type: 'int', logicalType: 'date' }
    const days = Math.floor(MS / 86_400_000)
    const result = await decodeWith(schema, written(schema, days))
    expect(result).toMatchObject({ ok: true, event: { occurredAt: Date.UTC(2026, 2, 1) } })
  })

  it('the issue’s input: micros read as millis were the year 58884; now the right day', async () => {
    const schema = { type: 'long', logicalType: 'timestamp-micros' }
    const result = await decodeWith(schema, written(schema, BigInt(MS) * 1000n))
    if (!result.ok) throw new Error(result.failure.message)
    expect(new Date(result.event.occurredAt).toISOString()).toBe('2026-03-01T12:30:15.123Z')
  })

  it.each([
    ['local-timestamp-micros', 253_402_300_800_000n * 1000n],
    ['timestamp-micros', -62_135_596_800_001n * 1000n],
    ['timestamp-millis', 253_402_300_800_000n],
  ])('%s outside 0001-01-01 … 9999-12-31 -> INVALID_EVENT naming occurredAt', async (logicalType, raw) => {
    const schema = { type: 'long', logicalType }
    const result = await decodeWith(schema, written(schema, raw))
    expect(result).toMatchObject({ ok: false, failure: { reason: 'INVALID_EVENT' } })
    if (result.ok) return
    expect(result.failure.message).toMatch(/^occurredAt: must lie between 0001-01-01/)
  })
})
