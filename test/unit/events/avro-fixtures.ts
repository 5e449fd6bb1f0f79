// Avro fixtures for the decoder tests: the project's real file-created schema as an avsc Type, and a
// Confluent wire-format encoder (magic byte 0, 4-byte big-endian schema id, Avro body).
import { readFileSync } from 'node:fs'
import avsc from 'avsc'
import { SCHEMA_FILES } from '../../../src/registry/registry.ts'

/** schemas/file-created.avsc, parsed the way @kafkajs/confluent-schema-registry parses it. */
export const fileCreatedType = avsc.Type.forSchema(JSON.parse(readFileSync(SCHEMA_FILES.fileCreated, 'utf8')))

/** A valid record of {@link fileCreatedType} (the Avro form: metadata as a JSON string). */
export const validRecord = {
  externalId: 'ext-1',
  url: 'https://files.example/a.pdf',
  fileName: 'a.pdf',
  mediaType: 'file',
  metadata: '{"title":"A"}',
  systemName: 'archive',
  mimeType: null,
  occurredAt: 1_700_000_000_000,
  checksum: null,
}

/** Encodes `record` with {@link fileCreatedType} in the Confluent wire format under schema `id`. */
export function wire(id: number, record: unknown): Buffer {
  const header = Buffer.alloc(5)
  header.writeUInt32BE(id, 1)
  return Buffer.concat([header, fileCreatedType.toBuffer(record)])
}

/**
 * A file-created writer schema as another producer might declare it: the bridge's fields, with
 * `occurredAt` of type `occurredAt` (e.g. `{ type: 'long', logicalType: 'timestamp-micros' }`, or a
 * type name).
 */
export function writerSchemaWith(occurredAt: object | string): avsc.Schema {
  return {
    type: 'record',
    name: 'FileCreated',
    namespace: 'legacy.other',
    fields: [
      { name: 'externalId', type: 'string' },
      { name: 'url', type: 'string' },
      { name: 'fileName', type: 'string' },
      { name: 'metadata', type: 'string' },
      { name: 'systemName', type: ['null', 'string'], default: null },
      { name: 'occurredAt', type: occurredAt },
    ],
  } as avsc.Schema
}
