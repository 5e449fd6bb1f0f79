import { createRequire } from 'node:module'
import type { RecordHeader } from '../model/records.ts'

/**
 * Record headers as Kafka defines them, kept through kafkajs: an ordered list of (name, value) pairs in
 * which a name may repeat and a value may be null (KIP-82; the record format v2, "Record" and "Header"
 * in Kafka's protocol guide: `headerKey: varint string`, `Value: varint bytes`, length -1 = null).
 *
 * kafkajs 2.2.4 (its last release; frozen since 2023) folds headers into an object: repeats of a name are
 * grouped into an array, so ("a",1),("b",2),("a",3) comes back as a,a,b; integer-like names such as "1"
 * are moved first by JavaScript's key order; and its record encoder cannot write a null value at all
 * (`Buffer.byteLength(null)` throws in its header size computation). It has no option for either. This
 * module replaces its two record functions (`protocol/recordBatch/record/v0/index.js`, the encoder, and
 * `.../decoder.js`) with versions that do the same for every other field, byte for byte, and in
 * addition:
 * - decoding keeps the list as it came, in the record's `headerList` property ({@link decodedHeaders});
 *   the kafkajs `headers` object is still built, as kafkajs builds it, for other users of the client;
 * - encoding takes a message's `headerList`, when present, instead of its `headers` object, writing
 *   each pair in order (null as length -1).
 *
 * The replacement works through Node's CommonJS module cache: kafkajs loads both modules lazily (with its
 * produce and fetch requests), so replacing their exports before the first produce or fetch is seen by
 * every later `require`. {@link installRecordFormat} checks that no kafkajs module that captured the
 * originals was loaded before, and throws otherwise. A unit test round-trips records through kafkajs'
 * own produce request encoder and fetch batch decoder (test/unit/kafka/record-format.test.ts).
 */

const require = createRequire(import.meta.url)

interface KafkajsEncoder {
  writeVarInt(value: number): KafkajsEncoder
  writeInt8(value: number): KafkajsEncoder
  writeVarLong(value: unknown): KafkajsEncoder
  writeVarIntBytes(value: Buffer | string | null | undefined): KafkajsEncoder
  writeVarIntString(value: string): KafkajsEncoder
}
interface KafkajsEncoderClass {
  new (): KafkajsEncoder
  sizeOfVarInt(value: number): number
  sizeOfVarLong(value: unknown): number
  sizeOfVarIntBytes(value: Buffer | string | null | undefined): number
}
interface KafkajsDecoder {
  readInt8(): number
  readVarLong(): unknown
  readVarInt(): number
  readVarIntBytes(): Buffer | null
  readVarIntString(): string | null
}
interface LongValue {
  add(other: unknown): LongValue
  toString(): string
}

const path = (p: string) => require.resolve(`kafkajs/src/${p}`)
const PATHS = {
  encoder: path('protocol/recordBatch/record/v0/index.js'),
  decoder: path('protocol/recordBatch/record/v0/decoder.js'),
  /** The kafkajs modules that capture the two above when they load. */
  dependents: [path('protocol/requests/produce/v3/request.js'), path('protocol/recordBatch/v0/decoder.js')],
}
const Encoder = require('kafkajs/src/protocol/encoder.js') as KafkajsEncoderClass
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: unknown): LongValue }
const TimestampTypes = require('kafkajs/src/protocol/timestampTypes.js') as { LOG_APPEND_TIME: number }

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([])

type HeaderObject = Record<string, Buffer | string | null | Array<Buffer | string | null> | undefined>

/** A kafkajs message as the produce request hands it to the record encoder. */
interface EncodableRecord {
  offsetDelta?: number
  timestampDelta?: unknown
  key: Buffer | string | null | undefined
  value: Buffer | string | null | undefined
  headers?: HeaderObject
  headerList?: readonly RecordHeader[]
}

/** kafkajs' object form as a list (its own flattening: each name once, repeats grouped). */
function listOf(headers: HeaderObject): Array<readonly [string, Buffer | string | null | undefined]> {
  const list: Array<readonly [string, Buffer | string | null | undefined]> = []
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (Array.isArray(value)) for (const v of value) list.push([name, v])
    else list.push([name, value])
  }
  return list
}

/** kafkajs' record encoder (record v0 of record batch v2), with ordered headers and null values. */
function encodeRecord({
  offsetDelta = 0,
  timestampDelta = 0,
  key,
  value,
  headers = {},
  headerList,
}: EncodableRecord): KafkajsEncoder {
  const list = headerList ?? listOf(headers)
  let headersSize = Encoder.sizeOfVarInt(list.length)
  for (const [name, v] of list) {
    headersSize += Encoder.sizeOfVarIntBytes(name) + Encoder.sizeOfVarIntBytes(v)
  }
  const sizeOfBody =
    1 + // attributes, unused
    Encoder.sizeOfVarLong(timestampDelta) +
    Encoder.sizeOfVarInt(offsetDelta) +
    Encoder.sizeOfVarIntBytes(key) +
    Encoder.sizeOfVarIntBytes(value) +
    headersSize
  const encoder = new Encoder()
    .writeVarInt(sizeOfBody)
    .writeInt8(0)
    .writeVarLong(timestampDelta)
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarInt(list.length)
  for (const [name, v] of list) encoder.writeVarIntString(name).writeVarIntBytes(v)
  return encoder
}

interface BatchContext {
  firstOffset?: unknown
  firstTimestamp?: unknown
  magicByte?: number
  isControlBatch?: boolean
  timestampType?: number
  maxTimestamp?: string
}

/** kafkajs' record decoder, returning the same fields plus `headerList`. */
function decodeRecord(decoder: KafkajsDecoder, batchContext: BatchContext = {}) {
  const {
    firstOffset,
    firstTimestamp,
    magicByte,
    isControlBatch = false,
    timestampType,
    maxTimestamp,
  } = batchContext
  const attributes = decoder.readInt8()
  const timestampDelta = decoder.readVarLong()
  const timestamp =
    timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp
      ? maxTimestamp
      : Long.fromValue(firstTimestamp).add(timestampDelta).toString()
  const offsetDelta = decoder.readVarInt()
  const offset = Long.fromValue(firstOffset).add(offsetDelta).toString()
  const key = decoder.readVarIntBytes()
  const value = decoder.readVarIntBytes()
  const count = decoder.readVarInt()
  const headers: HeaderObject = {}
  let headerList = NO_HEADERS
  if (count > 0) {
    const list: RecordHeader[] = new Array(count)
    for (let i = 0; i < count; i++) {
      // A null name breaks the protocol (names are strings); kept as "" rather than failing the fetch.
      const name = decoder.readVarIntString() ?? ''
      const v = decoder.readVarIntBytes()
      list[i] = [name, v]
      const before = Object.hasOwn(headers, name) ? headers[name] : undefined
      const merged = before === undefined ? v : Array.isArray(before) ? [...before, v] : [before, v]
      // defineProperty: a header named "__proto__" is an own key, as kafkajs' object spread made it.
      Object.defineProperty(headers, name, {
        value: merged,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    headerList = list
  }
  return {
    magicByte,
    attributes,
    timestamp,
    offset,
    key,
    value,
    headers,
    headerList,
    isControlRecord: isControlBatch,
    batchContext,
  }
}

let installed = false

/**
 * Installs the record encoder and decoder described above into kafkajs (once per process; later calls do
 * nothing). Call it before the first produce or fetch of any kafkajs client in the process.
 * @throws Error when kafkajs already loaded a module that holds the original functions
 */
export function installRecordFormat(): void {
  if (installed) return
  const early = PATHS.dependents.filter((p) => require.cache[p] !== undefined)
  if (early.length > 0) {
    throw new Error(`kafkajs record format: installed too late, already loaded: ${early.join(', ')}`)
  }
  require(PATHS.encoder)
  require(PATHS.decoder)
  ;(require.cache[PATHS.encoder] as NodeJS.Module).exports = encodeRecord
  ;(require.cache[PATHS.decoder] as NodeJS.Module).exports = decodeRecord
  installed = true
}

/**
 * The headers of a record kafkajs handed over (a message of `eachBatch`/`eachMessage`), in order with
 * repeats and null values. A record decoded without {@link installRecordFormat} has only kafkajs'
 * object: its pairs come back in that object's order, string values as UTF-8.
 */
export function decodedHeaders(message: { headers?: HeaderObject }): readonly RecordHeader[] {
  const list = (message as { headerList?: readonly RecordHeader[] }).headerList
  if (list !== undefined) return list
  if (message.headers === undefined) return NO_HEADERS
  return listOf(message.headers).map(([name, v]) => [
    name,
    v === undefined || v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v),
  ])
}
