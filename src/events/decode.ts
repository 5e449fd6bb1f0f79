import { type DlqReason, isBridgeError } from '../errors.ts'
import { fileEntryJson, withChecksum } from '../import/file-entry.ts'
import type { DecodeFailure, DecodeResult, FileCreatedEvent } from '../model/files.ts'
import type { RecordHeader } from '../model/records.ts'
import type { SchemaCodec } from '../registry/registry.ts'
import { UNKNOWN_WRITER } from '../registry/wire-format.ts'
import { apicurioHint } from './apicurio-hint.ts'
import { eventSchema, quickFields } from './event-fields.ts'
import { type MediaKindOptions, resolveMediaKind } from './media-kind.ts'

/** Options of {@link createEventDecoder}. */
export interface EventDecoderOptions {
  /** Used when an event has no systemName; without it such events go to the DLQ. */
  defaultSystemName: string | undefined
  /** Which import each file goes to (`MEDIA_TYPE_KINDS`, `MEDIA_KIND_DETECTION`). */
  mediaKinds: MediaKindOptions
  /**
   * The metadata property that stores an event's `checksum` (`CHECKSUM_METADATA_PROPERTY`); undefined:
   * the checksum is not sent.
   */
  checksumProperty?: string | undefined
}

/**
 * Creates the decoder of input record values ({@link createRecordReader}, then
 * {@link createEventValidator}): the Confluent wire format (magic byte 0 + schema id + Avro body) and
 * plain JSON objects (first non-blank byte `{`).
 * @returns `decode(value, headers?)`, which gives `{ok:true,event}` or `{ok:false,failure}` for a
 *   permanent problem (a DLQ case) at once when it needs no registry lookup (JSON, or an Avro schema id
 *   already known: no promise per record), else a promise of it; a problem that is not the record's
 *   own (a retryable BridgeError, `SCHEMA_REGISTRY_UNAVAILABLE`, which must not send the record to the
 *   DLQ, or any unexpected error) is always a rejected promise, never thrown
 */
export function createEventDecoder(codec: SchemaCodec, options: EventDecoderOptions) {
  const read = createRecordReader(codec)
  const validate = createEventValidator(options)
  const settle = (raw: unknown) => (raw instanceof ReadFailure ? raw : validate(raw))
  return function decode(
    value: Buffer | null,
    headers: readonly RecordHeader[] = [],
  ): DecodeResult | Promise<DecodeResult> {
    try {
      const raw = read(value, headers)
      if (raw instanceof Promise) return raw.then(settle, (err) => settle(avroReadFailure(err, headers)))
      return settle(raw)
    } catch (err) {
      return Promise.reject(err)
    }
  }
}

/**
 * A value that cannot be read (a DLQ case), returned in place of the decoded value: a class of its own,
 * so that no decoded value (JSON object, avsc record) can pass for one and none needs a wrapper.
 */
export class ReadFailure {
  readonly ok = false
  readonly failure: DecodeFailure
  constructor(failure: DecodeFailure) {
    this.failure = failure
  }
}

/**
 * Creates the reader of record values (the decoder's first half): the value as written, not validated;
 * for Avro what avsc decodes with the writer schema (logical types: src/registry/logical-types.ts), for
 * JSON what JSON.parse gives. The headers only serve the DLQ message: a value Apicurio's serializer
 * wrote with the schema id in headers says so ({@link apicurioHint}).
 *
 * @returns `read(value, headers)`: the decoded value or a {@link ReadFailure} (a DLQ case); for Avro
 *   whose writer schema is not known yet a promise of the codec's decode, whose rejection the caller
 *   turns into a failure with {@link avroReadFailure}
 */
export function createRecordReader(codec: SchemaCodec) {
  return function read(value: Buffer | null, headers: readonly RecordHeader[]): unknown {
    if (value === null) return readFailure('EMPTY_VALUE', 'record value is null (a tombstone)')
    if (value.length === 0) return readFailure('EMPTY_VALUE', 'record value is empty (0 bytes)')
    if (value[0] === 0) {
      if (value.length < 5)
        return readFailure('UNDECODABLE_AVRO', `wire format needs at least 5 bytes, got ${value.length}`)
      if (codec.decodeKnown !== undefined) {
        let known: unknown
        try {
          known = codec.decodeKnown(value)
        } catch (err) {
          return avroReadFailure(err, headers)
        }
        if (known !== UNKNOWN_WRITER) return known
      }
      return codec.decode(value)
    }
    if (startsLikeJson(value)) {
      let text: string
      try {
        // Strict: invalid UTF-8 is an error, not silently replaced by U+FFFD (RFC 8259 §8.1). A
        // leading byte order mark is dropped, which §8.1 allows.
        text = utf8.decode(value)
      } catch {
        return readFailure('INVALID_JSON', 'value is not valid UTF-8')
      }
      let raw: unknown
      try {
        raw = JSON.parse(text)
      } catch (err) {
        return readFailure('INVALID_JSON', `value is not valid JSON: ${(err as Error).message}`)
      }
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        return readFailure('INVALID_JSON', 'JSON value is not an object')
      }
      return raw
    }
    const start = `first byte 0x${value[0]?.toString(16).padStart(2, '0')} is neither the Confluent magic byte 0 nor a JSON object`
    const hint = apicurioHint(headers)
    return readFailure('UNKNOWN_WIRE_FORMAT', hint === undefined ? start : `${start}: ${hint}`)
  }
}

/**
 * Creates the validator of events (the decoder's second half): the input schema's fields, as read or
 * as a mapping made them (src/mapping/), checked and completed into a {@link FileCreatedEvent} with its
 * `files[]` entry serialised once.
 *
 * @returns `validate(raw)`: `{ok:true,event,bytes,entry}` (entry: the `files[]` entry as UTF-8 JSON), or
 *   `{ok:false,failure}` with
 *   `INVALID_EVENT` (naming each wrong field) or `MISSING_SYSTEM_NAME`
 */
export function createEventValidator(options: EventDecoderOptions) {
  return function validate(raw: unknown): DecodeResult {
    let e = quickFields(raw)
    if (e === undefined) {
      const parsed = eventSchema.safeParse(raw)
      if (!parsed.success) {
        const detail = parsed.error.issues
          .map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`)
          .join('; ')
        return fail('INVALID_EVENT', detail)
      }
      e = parsed.data
    }
    const systemName = e.systemName ?? options.defaultSystemName
    if (systemName === undefined) {
      return fail('MISSING_SYSTEM_NAME', 'event has no systemName and DEFAULT_SYSTEM_NAME is not set')
    }
    const { kind, mediaType } = resolveMediaKind(e, options.mediaKinds)
    const checksum = e.checksum ?? undefined
    const property = options.checksumProperty
    const metadata =
      property === undefined || checksum === undefined
        ? e.metadata
        : withChecksum(e.metadata.object, e.metadata.text, property, checksum)
    const event: FileCreatedEvent = {
      externalId: e.externalId,
      url: e.url,
      fileName: e.fileName,
      mediaType,
      kind,
      metadata: metadata.object,
      systemName,
      occurredAt: e.occurredAt,
    }
    let entryJson: string
    try {
      entryJson = fileEntryJson(event, metadata.text)
    } catch (err) {
      // JSON.stringify recurses: metadata nested some thousand levels deep overflows the stack.
      if (err instanceof RangeError) return fail('INVALID_EVENT', 'metadata: nested too deeply')
      throw err
    }
    // An entry too large for any request is a valid event all the same: it gets a FAILED result naming
    // the limit (the batcher), not a DLQ record.
    const entry = Buffer.from(entryJson, 'utf8')
    return { ok: true, event, bytes: entry.length + 1, entry }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function startsLikeJson(value: Buffer): boolean {
  const start = value[0] === 0xef && value[1] === 0xbb && value[2] === 0xbf ? 3 : 0 // UTF-8 BOM
  for (const byte of value.subarray(start)) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue
    return byte === 0x7b || byte === 0x5b // '{' or '[': JSON; an array is reported as not an object
  }
  return false
}

function fail(reason: DlqReason, message: string): DecodeResult {
  return { ok: false, failure: { reason, message } }
}

/**
 * The failure of an Avro value whose decode rejected with `err` (permanent codes, with the Apicurio
 * hint of `headers`). @throws err otherwise: a retryable one must not reach the DLQ
 */
export function avroReadFailure(err: unknown, headers: readonly RecordHeader[]): ReadFailure {
  if (!isBridgeError(err, 'UNKNOWN_SCHEMA_ID', 'UNSUPPORTED_SCHEMA', 'UNDECODABLE_AVRO')) throw err
  const hint = apicurioHint(headers)
  return readFailure(err.code as DlqReason, hint === undefined ? err.message : `${err.message}; ${hint}`)
}

function readFailure(reason: DlqReason, message: string): ReadFailure {
  return new ReadFailure({ reason, message })
}
