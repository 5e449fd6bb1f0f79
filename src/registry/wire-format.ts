/**
 * The Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro body by avsc): a writer and
 * a reader that fetch each id's schema once (src/registry/registry.ts gives them the registry client's
 * `getSchema`) and then encode and decode without a promise per value.
 */
import { BridgeError } from '../errors.ts'

/** What {@link SchemaCodec.decodeKnown} returns for a schema id not fetched yet. */
export const UNKNOWN_WRITER: unique symbol = Symbol('unknown writer schema')

/** The part of an avsc Type the writer needs. */
interface AvroWriter {
  /** avsc: writes at `pos`; @returns the position after, or minus the bytes missing when `buf` is too small */
  encode(value: unknown, buf: Buffer, pos: number): number
  isValid(value: unknown, options: { errorHook: (path: string[]) => void }): boolean
}

/** Size of the writer's scratch buffer at first, bytes; it grows to the largest value written. */
const SCRATCH_BYTES = 64 * 1024

/**
 * Encodes values in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro body by
 * avsc) with the schema of an id, fetched once per id and kept. Per value: header and body written into
 * one scratch buffer, then copied into a buffer of their size (the registry library's own encode makes
 * three buffers and a promise chain per value; avsc's `toBuffer` a zero-filled one and a copy).
 *
 * @returns `encode(id, value)`, and `encode.encodeKnown(id, value)` (see {@link SchemaCodec.encodeKnown})
 * @throws Error naming the invalid field paths when `value` does not match the schema; the fetch's
 *   error when the registry cannot give the schema
 */
export function createWireFormatWriter(source: WriterSchemaSource): {
  (id: number, value: unknown): Promise<Buffer>
  encodeKnown(id: number, value: unknown): Buffer | typeof UNKNOWN_WRITER
} {
  const writers = new Map<number, AvroWriter>()
  let scratch = Buffer.allocUnsafe(SCRATCH_BYTES)
  async function load(id: number): Promise<AvroWriter> {
    const schema = (await source.fetchSchema(id)) as Partial<AvroWriter> | null
    if (typeof schema?.encode !== 'function' || typeof schema.isValid !== 'function') {
      throw new BridgeError('UNSUPPORTED_SCHEMA', `schema id ${id} is not an Avro schema`)
    }
    writers.set(id, schema as AvroWriter)
    return schema as AvroWriter
  }
  function write(writer: AvroWriter, id: number, value: unknown): Buffer {
    let end: number
    try {
      end = writer.encode(value, scratch, 5)
      if (end < 0) {
        scratch = Buffer.allocUnsafe(Math.max(2 * scratch.length, scratch.length - end))
        end = writer.encode(value, scratch, 5)
      }
    } catch (err) {
      const paths: string[] = []
      writer.isValid(value, { errorHook: (path) => paths.push(path.join('.')) })
      throw new Error(
        `value does not match schema id ${id} (${paths.join(', ') || 'no path'}): ${(err as Error).message}`,
        { cause: err },
      )
    }
    scratch[0] = 0
    scratch.writeUInt32BE(id, 1)
    const out = Buffer.allocUnsafe(end)
    scratch.copy(out, 0, 0, end)
    return out
  }
  async function encode(id: number, value: unknown): Promise<Buffer> {
    return write(writers.get(id) ?? (await load(id)), id, value)
  }
  return Object.assign(encode, {
    encodeKnown(id: number, value: unknown): Buffer | typeof UNKNOWN_WRITER {
      const writer = writers.get(id)
      return writer === undefined ? UNKNOWN_WRITER : write(writer, id, value)
    },
  })
}

/** Where {@link createWireFormatReader} gets the writer schema of an id. */
export interface WriterSchemaSource {
  /**
   * The parsed schema of `id`, as `@kafkajs/confluent-schema-registry`'s `getSchema` returns it (an avsc
   * Type for Avro). Rejects with an error carrying the HTTP `status` when the registry answered with an
   * error or could not be reached (the library reports connection errors as status 400), and with an
   * error without `status` when the schema itself cannot be used.
   */
  fetchSchema(id: number): Promise<unknown>
}

/** The part of an avsc Type the reader needs. */
interface AvroReader {
  readonly typeName: string
  fromBuffer(buffer: Buffer): unknown
}

/**
 * Decodes the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro body) with the
 * writer schema of the id. Each id's schema is fetched once and kept, so once an id is known a decode
 * is a map lookup and an avsc `fromBuffer` (no promise chain, no retry wrapper).
 *
 * Classification (Confluent Schema Registry API, `GET /schemas/ids/{id}`: 404 with error_code 40403
 * "Schema not found"):
 * - HTTP 404: `UNKNOWN_SCHEMA_ID`, permanent (a DLQ reason). The bridge registers its result schema
 *   through the same URL at start-up, so a wrong registry URL stops start-up instead.
 * - any other status (5xx, 401/403, connection refused or timed out): `SCHEMA_REGISTRY_UNAVAILABLE`,
 *   retryable; nothing is cached, the next call asks again.
 * - no status (the registry's schema cannot be parsed, or is JSON Schema / Protobuf, not Avro):
 *   `UNSUPPORTED_SCHEMA`, permanent.
 * - the body does not match the writer schema (truncated, trailing bytes, corrupt): `UNDECODABLE_AVRO`.
 *
 * @returns `decode(buffer)`, with `decode.decodeKnown(buffer)` for the ids already fetched (see
 *   {@link SchemaCodec.decodeKnown}); `buffer` must be at least 5 bytes with byte 0 = 0 (callers check)
 * @throws BridgeError with one of the codes above
 */
export function createWireFormatReader(
  source: WriterSchemaSource,
): ((buffer: Buffer) => Promise<unknown>) & { decodeKnown(buffer: Buffer): unknown } {
  const readers = new Map<number, AvroReader>()

  async function load(id: number): Promise<AvroReader> {
    let schema: unknown
    try {
      schema = await source.fetchSchema(id)
    } catch (err) {
      const status = (err as { status?: unknown }).status
      if (status === 404) {
        throw new BridgeError('UNKNOWN_SCHEMA_ID', `schema id ${id} is not in the registry`, { cause: err })
      }
      if (typeof status === 'number') {
        throw new BridgeError(
          'SCHEMA_REGISTRY_UNAVAILABLE',
          `schema registry lookup of id ${id} failed: ${(err as Error).message}`,
          { retryable: true, cause: err, context: { status, schemaId: id } },
        )
      }
      throw new BridgeError(
        'UNSUPPORTED_SCHEMA',
        `schema id ${id} cannot be used: ${(err as Error)?.message ?? String(err)}`,
        { cause: err },
      )
    }
    if (!isAvroReader(schema)) {
      throw new BridgeError('UNSUPPORTED_SCHEMA', `schema id ${id} is not an Avro schema`)
    }
    readers.set(id, schema)
    return schema
  }

  function read(reader: AvroReader, id: number, buffer: Buffer): unknown {
    try {
      // avsc checks the whole body is used: a truncated body and trailing bytes both throw.
      return reader.fromBuffer(buffer.subarray(5))
    } catch (err) {
      throw new BridgeError(
        'UNDECODABLE_AVRO',
        `Avro body does not match schema id ${id}: ${(err as Error)?.message ?? String(err)}`,
        { cause: err },
      )
    }
  }

  async function decode(buffer: Buffer): Promise<unknown> {
    const id = buffer.readUInt32BE(1)
    return read(readers.get(id) ?? (await load(id)), id, buffer)
  }
  return Object.assign(decode, {
    decodeKnown(buffer: Buffer): unknown {
      const id = buffer.readUInt32BE(1)
      const reader = readers.get(id)
      return reader === undefined ? UNKNOWN_WRITER : read(reader, id, buffer)
    },
  })
}

function isAvroReader(schema: unknown): schema is AvroReader {
  const s = schema as Partial<AvroReader> | null
  return typeof s?.typeName === 'string' && typeof s.fromBuffer === 'function'
}
