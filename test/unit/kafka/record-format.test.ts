// Records through kafkajs' own record batch encoder and decoder with the bridge's record format and codecs
// installed (src/kafka/client.ts): headers in order with repeats, null and binary values, for every
// compression codec Kafka defines; and each codec reading frames as other clients write them.
import { createRequire } from 'node:module'
import { zstdCompressSync } from 'node:zlib'
import fc from 'fast-check'
import { compressFrameSync } from 'lz4-napi'
import { describe, expect, it } from 'vitest'
import { prepareKafkajs } from '../../../src/kafka/client.ts'
import { lz4Codec, snappyCodec, zstdCodec } from '../../../src/kafka/codecs.ts'
import { decodedHeaders } from '../../../src/kafka/record-format.ts'
import type { RecordHeader } from '../../../src/model/records.ts'

prepareKafkajs()
const require = createRequire(import.meta.url)
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: object) => unknown
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (b: object) => Promise<{ buffer: Buffer }>
}
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{
  records: Array<{ key: Buffer | null; value: Buffer | null; headers: object; timestamp: string }>
}>
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown

const CODECS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const

/** Encodes `messages` as one record batch (kafkajs' produce path) and decodes it (kafkajs' fetch path). */
async function roundTrip(
  messages: Array<{ key: Buffer | null; value: Buffer | null; headerList?: readonly RecordHeader[] }>,
  compression: number,
) {
  const records = messages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: i }))
  const batch = await RecordBatch({ compression, records, firstTimestamp: 1_700_000_000_000 })
  return (await decodeBatch(new Decoder(batch.buffer))).records
}

const ISSUE_HEADERS: RecordHeader[] = [
  ['n', null],
  ['dup', Buffer.from('1')],
  ['dup', Buffer.from('2')],
  ['bin', Buffer.from([0xff, 0x00, 0x80, 0x6f, 0x6b])],
]

describe('record headers through kafkajs', () => {
  for (const [name, compression] of Object.entries(CODECS)) {
    it(`keeps order, repeats, null and binary values (${name})`, async () => {
      // Given the issue's headers, and repeats interleaved with an integer-like and a __proto__ name
      const tricky: RecordHeader[] = [
        ['a', Buffer.from('1')],
        ['b', Buffer.from('x')],
        ['a', null],
        ['1', Buffer.alloc(0)],
        ['__proto__', Buffer.from('p')],
      ]
      // When they are encoded and decoded in one batch
      const [first, second, third] = await roundTrip(
        [
          { key: Buffer.from('k'), value: Buffer.from('v'), headerList: ISSUE_HEADERS },
          { key: null, value: null, headerList: tricky },
          { key: null, value: Buffer.from('no headers') },
        ],
        compression,
      )
      // Then each list comes back exactly, and kafkajs' own object is as kafkajs builds it
      expect(decodedHeaders(first as object)).toEqual(ISSUE_HEADERS)
      expect(decodedHeaders(second as object)).toEqual(tricky)
      expect(decodedHeaders(third as object)).toEqual([])
      expect(first?.headers).toEqual({
        n: null,
        dup: [Buffer.from('1'), Buffer.from('2')],
        bin: ISSUE_HEADERS[3]?.[1],
      })
      expect(Object.hasOwn(second?.headers ?? {}, '__proto__')).toBe(true)
      expect(first?.timestamp).toBe('1700000000000')
      expect(second?.value).toBeNull()
    })
  }

  it('round-trips any header list (property)', async () => {
    const header = fc.tuple(
      fc.string({ maxLength: 8, unit: 'binary' }),
      fc.option(fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a))),
    ) as fc.Arbitrary<RecordHeader>
    await fc.assert(
      fc.asyncProperty(
        fc.array(header, { maxLength: 12 }),
        fc.constantFrom(0, 1, 2, 3, 4),
        async (list, c) => {
          const [decoded] = await roundTrip([{ key: null, value: Buffer.from('v'), headerList: list }], c)
          // A name is UTF-8 on the wire: lone surrogates cannot survive any client, so compare encoded.
          const wire = list.map(([n, v]) => [Buffer.from(n).toString(), v])
          expect(decodedHeaders(decoded as object)).toEqual(wire)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('still writes the kafkajs object form of headers as before', async () => {
    const [decoded] = await roundTrip(
      [{ key: null, value: Buffer.from('v'), headers: { a: 'x', b: ['1', '2'] } } as never],
      0,
    )
    expect(decodedHeaders(decoded as object)).toEqual([
      ['a', Buffer.from('x')],
      ['b', Buffer.from('1')],
      ['b', Buffer.from('2')],
    ])
  })
})

describe('codecs read what other clients write', () => {
  const plain = Buffer.from('a record batch body, a record batch body, a record batch body')

  it('lz4: an LZ4 frame', async () => {
    expect(await lz4Codec.decompress(compressFrameSync(plain))).toEqual(plain)
  })

  it('zstd: a zstd frame, and two concatenated ones', async () => {
    const frame = zstdCompressSync(plain)
    expect(await zstdCodec.decompress(frame)).toEqual(plain)
    expect(await zstdCodec.decompress(Buffer.concat([frame, frame]))).toEqual(Buffer.concat([plain, plain]))
  })

  it('snappy: a raw block (librdkafka) and the xerial framing (the Java client)', async () => {
    const block = await snappyCodec.compress({ buffer: plain })
    expect(await snappyCodec.decompress(block)).toEqual(plain)
    // xerial: magic, version 1, compatible version 1, then each block with a 4-byte big-endian length
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1])
    const length = Buffer.alloc(4)
    length.writeUInt32BE(block.length)
    const xerial = Buffer.concat([header, length, block, length, block])
    expect(await snappyCodec.decompress(xerial)).toEqual(Buffer.concat([plain, plain]))
  })
})
