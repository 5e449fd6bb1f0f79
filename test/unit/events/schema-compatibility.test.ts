// schemas/file-created.avsc with the optional `checksum` (issue 24) stays compatible both ways (FULL, as
// a Confluent or Apicurio registry checks it) with the schema without it: records of old producers read
// with the new schema, and records with a checksum read by consumers that still hold the old one.
import { readFileSync } from 'node:fs'
import avsc from 'avsc'
import { describe, expect, it } from 'vitest'
import { SCHEMA_FILES } from '../../../src/registry/registry.ts'
import { validRecord } from './avro-fixtures.ts'

const current = JSON.parse(readFileSync(SCHEMA_FILES.fileCreated, 'utf8')) as {
  fields: Array<{ name: string }>
}
const before = { ...current, fields: current.fields.filter((f) => f.name !== 'checksum') }
const newType = avsc.Type.forSchema(current as avsc.Schema)
const oldType = avsc.Type.forSchema(before as avsc.Schema)

describe('file-created.avsc with checksum', () => {
  it('has checksum as an optional field with a null default', () => {
    expect(current.fields.find((f) => f.name === 'checksum')).toMatchObject({
      type: ['null', 'string'],
      default: null,
    })
  })

  it('reads a record written without checksum (backward): checksum null', () => {
    const resolver = newType.createResolver(oldType)
    const read = newType.fromBuffer(oldType.toBuffer(validRecord), resolver) as { checksum: unknown }
    expect(read.checksum).toBeNull()
  })

  it('is read by a consumer of the old schema (forward): the checksum is skipped', () => {
    const resolver = oldType.createResolver(newType)
    const read = oldType.fromBuffer(newType.toBuffer({ ...validRecord, checksum: 'sha256:1' }), resolver)
    expect(read).toMatchObject({ externalId: validRecord.externalId, metadata: validRecord.metadata })
    expect(read).not.toHaveProperty('checksum')
  })
})
