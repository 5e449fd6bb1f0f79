import avsc from 'avsc'
import type { ConsumedRecord, RecordHeader } from '../../../src/model/records.ts'
import { instantLogicalTypes } from '../../../src/registry/logical-types.ts'
import type { SchemaCodec } from '../../../src/registry/registry.ts'
import { createWireFormatReader } from '../../../src/registry/wire-format.ts'

/** A codec for JSON-only tests: any Avro value fails the test. */
export const unusedCodec: SchemaCodec = {
  register: () => Promise.reject(new Error('not used')),
  encode: () => Promise.reject(new Error('not used')),
  decode: () => Promise.reject(new Error('no Avro in this test')),
}

/**
 * A codec reading the Confluent wire format with `schema` (any id) as the registry client parses a
 * writer schema: avsc's defaults and the bridge's instant logical types.
 * @returns the codec, and `encode(value)` writing a value of the schema in the wire format
 */
export function avroCodec(schema: avsc.Schema) {
  const type = avsc.Type.forSchema(schema, { logicalTypes: instantLogicalTypes() })
  const codec: SchemaCodec = {
    ...unusedCodec,
    decode: createWireFormatReader({ fetchSchema: async () => type }),
  }
  const encode = (value: unknown) => Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), type.toBuffer(value)])
  return { codec, type, encode }
}

/** A consumed record holding `value` (JSON text for an object), with `overrides`. */
export function recordOf(value: unknown, overrides: Partial<ConsumedRecord> = {}): ConsumedRecord {
  return {
    topic: 'legacy.dam',
    partition: 2,
    offset: '9007199254740993',
    key: Buffer.from('A-1'),
    value: Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)),
    headers: [] as RecordHeader[],
    timestamp: 1_700_000_000_000,
    ...overrides,
  }
}
