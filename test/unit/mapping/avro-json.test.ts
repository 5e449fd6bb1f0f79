// What a mapping sees of an Avro event: plain JSON as the writer schema describes it, with unions bare
// (also those avsc wraps), bytes and fixed as base64, instants as epoch ms; no copy when none is needed.
import type avsc from 'avsc'
import { describe, expect, it } from 'vitest'
import { toPlainJson } from '../../../src/mapping/avro-json.ts'
import { avroCodec } from './helpers.ts'

/** Decodes `value` written with `schema` as the bridge reads it, then as the mapping sees it. */
async function seen(schema: avsc.Schema, value: unknown): Promise<{ decoded: unknown; plain: unknown }> {
  const { codec, encode } = avroCodec(schema)
  const decoded = await codec.decode(encode(value))
  return { decoded, plain: toPlainJson(decoded) }
}

const asset = {
  type: 'record',
  name: 'Asset',
  namespace: 'dam',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['IMAGE', 'VIDEO'] } },
    { name: 'caption', type: ['null', 'string'], default: null },
    {
      name: 'renditions',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Rendition',
          fields: [
            { name: 'href', type: 'string' },
            { name: 'width', type: 'int' },
          ],
        },
      },
    },
    { name: 'labels', type: { type: 'map', values: 'string' } },
    { name: 'created', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
  ],
} as const

describe('Avro as a mapping sees it', () => {
  it('is the decoded value itself when the schema has nothing to convert: records, enums, arrays, maps, nullable unions, instants', async () => {
    const { decoded, plain } = await seen(asset as unknown as avsc.Schema, {
      id: 'A-1',
      kind: 'IMAGE',
      caption: 'Boats',
      renditions: [{ href: 'https://r.example/1', width: 800 }],
      labels: { a: 'b' },
      created: 1_764_490_500_123,
      day: 1_764_460_800_000,
    })
    expect(plain).toBe(decoded)
    expect(JSON.parse(JSON.stringify(plain))).toEqual({
      id: 'A-1',
      kind: 'IMAGE',
      caption: 'Boats',
      renditions: [{ href: 'https://r.example/1', width: 800 }],
      labels: { a: 'b' },
      // timestamp-micros and date as epoch ms (src/registry/logical-types.ts)
      created: 1_764_490_500_123,
      day: 1_764_460_800_000,
    })
  })

  it('unwraps the unions avsc wraps (two records, int and long), at any depth', async () => {
    const schema = {
      type: 'record',
      name: 'Event',
      fields: [
        {
          name: 'payload',
          type: [
            'null',
            { type: 'record', name: 'Image', fields: [{ name: 'href', type: 'string' }] },
            { type: 'record', name: 'Video', fields: [{ name: 'stream', type: 'string' }] },
          ],
        },
        { name: 'size', type: ['int', 'long'] },
        { name: 'history', type: { type: 'array', items: ['null', 'int', 'long'] } },
      ],
    }
    const { decoded, plain } = await seen(schema as avsc.Schema, {
      payload: { Video: { stream: 'https://v.example/1' } },
      size: { long: 5_000_000_000 },
      history: [null, { int: 1 }, { long: 2 }],
    })
    // avsc's own form: wrapped
    expect(JSON.parse(JSON.stringify(decoded))).toMatchObject({ size: { long: 5_000_000_000 } })
    expect(plain).toEqual({
      payload: { stream: 'https://v.example/1' },
      size: 5_000_000_000,
      history: [null, 1, 2],
    })
    expect(
      (await seen(schema as avsc.Schema, { payload: null, size: { int: 1 }, history: [] })).plain,
    ).toEqual({
      payload: null,
      size: 1,
      history: [],
    })
  })

  it('gives bytes and fixed as base64, in records, arrays, maps and unions', async () => {
    const schema = {
      type: 'record',
      name: 'Blob',
      fields: [
        { name: 'raw', type: 'bytes' },
        { name: 'hash', type: { type: 'fixed', name: 'Md5', size: 2 } },
        { name: 'parts', type: { type: 'array', items: 'bytes' } },
        { name: 'named', type: { type: 'map', values: 'bytes' } },
        { name: 'maybe', type: ['null', 'bytes'] },
        { name: 'text', type: 'string' },
      ],
    }
    const { plain } = await seen(schema as avsc.Schema, {
      raw: Buffer.from('hi'),
      hash: Buffer.from([0xff, 0x00]),
      parts: [Buffer.from('a')],
      named: { x: Buffer.from('b') },
      maybe: Buffer.from('c'),
      text: 't',
    })
    expect(plain).toEqual({
      raw: 'aGk=',
      hash: '/wA=',
      parts: ['YQ=='],
      named: { x: 'Yg==' },
      maybe: 'Yw==',
      text: 't',
    })
  })

  it('handles a recursive schema', async () => {
    const schema = {
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'tag', type: 'bytes' },
        { name: 'next', type: ['null', 'Node'], default: null },
      ],
    }
    const { plain } = await seen(schema as avsc.Schema, {
      tag: Buffer.from('1'),
      next: { tag: Buffer.from('2'), next: null },
    })
    expect(plain).toEqual({ tag: 'MQ==', next: { tag: 'Mg==', next: null } })
  })

  it('leaves a JSON event as it is', () => {
    const event = { a: [1, { b: null }] }
    expect(toPlainJson(event)).toBe(event)
  })
})
