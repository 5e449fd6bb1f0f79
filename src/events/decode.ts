import { z } from 'zod'
import { type DlqReason, isBridgeError } from '../errors.ts'
import type { DecodeFailure, DecodeResult, FileCreatedEvent, RecordHeader } from '../pipeline/types.ts'
import { apicurioHint } from './apicurio-hint.ts'
import { type MediaKindOptions, resolveMediaKind } from './media-kind.ts'
import type { SchemaCodec } from './registry.ts'
import { toRequestUrl } from './url.ts'

const isJsonObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
/** JSON.parse makes `"__proto__"` an own key; copying the object (as a record schema does) drops it. */
const PROTO_KEY_MESSAGE = 'the key __proto__ is not allowed'

/**
 * The instants an event may carry, epoch ms: 0001-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z, the
 * range of RFC 3339 timestamps (§5.6, four-digit years) and so of the result event's consumers (Python's
 * `datetime`, Java's ISO formatters). A result with a time outside cannot be read by them.
 */
const MIN_EVENT_MS = -62_135_596_800_000
const MAX_EVENT_MS = 253_402_300_799_999
const RANGE_MESSAGE = 'must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (RFC 3339)'
const isoDateTime = z.iso.datetime({ offset: true })

/** An instant as epoch ms (an integer) or an ISO 8601 date-time with offset, within the RFC 3339 range. */
const eventTime = z.unknown().transform((value, ctx) => {
  let ms: number | undefined
  if (typeof value === 'number' && Number.isInteger(value)) ms = value
  else if (typeof value === 'string' && isoDateTime.safeParse(value).success) ms = Date.parse(value)
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be epoch ms (an integer) or an ISO 8601 date-time with offset',
    })
    return z.NEVER
  }
  if (!(ms >= MIN_EVENT_MS && ms <= MAX_EVENT_MS)) {
    ctx.addIssue({ code: 'custom', message: RANGE_MESSAGE })
    return z.NEVER
  }
  return ms
})
/** Longest URL accepted: RFC 9110 §4.1 asks senders and recipients to support at least 8000 octets. */
const MAX_URL_LENGTH = 8000

/**
 * An identifier (externalId, systemName, mediaType): no control characters, which would make ids that
 * look alike in logs and in Livingdocs differ invisibly (and break line-based tools).
 */
const identifier = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters')

const eventSchema = z.object({
  externalId: identifier(1024),
  // Sent as a valid URI (src/events/url.ts); the length limit applies to what is sent.
  url: z
    .string()
    .transform((text, ctx) => {
      const result = toRequestUrl(text)
      if (result.ok) return result.url
      ctx.addIssue({ code: 'custom', message: result.message })
      return z.NEVER
    })
    .pipe(z.string().max(MAX_URL_LENGTH)),
  fileName: z.string().min(1).max(1024),
  mediaType: identifier(200).default('file'),
  // A JSON object, or (the Avro form) a string holding one; absent means {}. Kept as parsed, not copied.
  metadata: z
    .unknown()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return {}
      let object: unknown = value
      if (typeof value === 'string') {
        try {
          object = JSON.parse(value)
        } catch {
          object = undefined
        }
      }
      if (!isJsonObject(object)) {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object' })
        return z.NEVER
      }
      if (Object.hasOwn(object, '__proto__')) {
        ctx.addIssue({ code: 'custom', message: PROTO_KEY_MESSAGE })
        return z.NEVER
      }
      return object
    }),
  systemName: identifier(200).nullish(),
  // The file's MIME type, when the legacy system knows it: it routes images and videos to their imports.
  mimeType: z.string().max(255).nullish(),
  occurredAt: eventTime,
})

/** Options of {@link createEventDecoder}. */
export interface EventDecoderOptions {
  /** Used when an event has no systemName; without it such events go to the DLQ. */
  defaultSystemName: string | undefined
  /** Which import each file goes to (`MEDIA_TYPE_KINDS`, `MEDIA_KIND_DETECTION`). */
  mediaKinds: MediaKindOptions
}

/**
 * Creates the decoder of input record values ({@link createRecordReader}, then
 * {@link createEventValidator}): the Confluent wire format (magic byte 0 + schema id + Avro body) and
 * plain JSON objects (first non-blank byte `{`).
 * @returns `decode(value, headers?)`, which resolves to `{ok:true,event}` or `{ok:false,failure}` for a
 *   permanent problem (a DLQ case), and rejects only with a retryable BridgeError
 *   (`SCHEMA_REGISTRY_UNAVAILABLE`), which must not send the record to the DLQ
 */
export function createEventDecoder(codec: SchemaCodec, options: EventDecoderOptions) {
  const read = createRecordReader(codec)
  const validate = createEventValidator(options)
  return async function decode(
    value: Buffer | null,
    headers: readonly RecordHeader[] = [],
  ): Promise<DecodeResult> {
    let raw = read(value, headers)
    if (raw instanceof Promise) {
      try {
        raw = await raw
      } catch (err) {
        raw = avroReadFailure(err, headers)
      }
    }
    return raw instanceof ReadFailure ? raw : validate(raw)
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
 * for Avro what avsc decodes with the writer schema (logical types: src/events/logical-types.ts), for
 * JSON what JSON.parse gives. The headers only serve the DLQ message: a value Apicurio's serializer
 * wrote with the schema id in headers says so ({@link apicurioHint}).
 *
 * @returns `read(value, headers)`: the decoded value or a {@link ReadFailure} (a DLQ case); for Avro a
 *   promise of the codec's decode (no promise more per record than the codec's own), whose rejection the
 *   caller turns into a failure with {@link avroReadFailure}
 */
export function createRecordReader(codec: SchemaCodec) {
  return function read(value: Buffer | null, headers: readonly RecordHeader[]): unknown {
    if (value === null) return readFailure('EMPTY_VALUE', 'record value is null (a tombstone)')
    if (value.length === 0) return readFailure('EMPTY_VALUE', 'record value is empty (0 bytes)')
    if (value[0] === 0) {
      if (value.length < 5)
        return readFailure('UNDECODABLE_AVRO', `wire format needs at least 5 bytes, got ${value.length}`)
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
 * @returns `validate(raw)`: `{ok:true,event,bytes,entryJson}`, or `{ok:false,failure}` with
 *   `INVALID_EVENT` (naming each wrong field) or `MISSING_SYSTEM_NAME`
 */
export function createEventValidator(options: EventDecoderOptions) {
  return function validate(raw: unknown): DecodeResult {
    const parsed = eventSchema.safeParse(raw)
    if (!parsed.success) {
      const detail = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`)
        .join('; ')
      return fail('INVALID_EVENT', detail)
    }
    const e = parsed.data
    const systemName = e.systemName ?? options.defaultSystemName
    if (systemName === undefined) {
      return fail('MISSING_SYSTEM_NAME', 'event has no systemName and DEFAULT_SYSTEM_NAME is not set')
    }
    const event: FileCreatedEvent = {
      externalId: e.externalId,
      url: e.url,
      fileName: e.fileName,
      ...resolveMediaKind(e, options.mediaKinds),
      metadata: e.metadata,
      systemName,
      occurredAt: e.occurredAt,
    }
    let entryJson: string
    try {
      entryJson = fileEntryJson(event)
    } catch (err) {
      // JSON.stringify recurses: metadata nested some thousand levels deep overflows the stack.
      if (err instanceof RangeError) return fail('INVALID_EVENT', 'metadata: nested too deeply')
      throw err
    }
    // An entry too large for any request is a valid event all the same: it gets a FAILED result naming
    // the limit (the batcher), not a DLQ record.
    return { ok: true, event, bytes: Buffer.byteLength(entryJson) + 1, entryJson }
  }
}

/** The `files[]` entry of an import request for `event` ([F] §1.1: url, id, fileName, metadata, mediaType). */
export function toFileEntry(event: FileCreatedEvent) {
  return {
    id: event.externalId,
    url: event.url,
    fileName: event.fileName,
    // The video import lists no mediaType among its entry keys ([V] §7): the default handle is left
    // out (the server's default), another one is sent so that it can choose among mediaVideo types.
    ...(event.kind === 'video' && event.mediaType === 'video' ? {} : { mediaType: event.mediaType }),
    metadata: event.metadata,
  }
}

/**
 * The JSON of `event`'s file entry. @throws RangeError when the metadata is nested too deeply for
 * JSON.stringify's recursion
 */
export function fileEntryJson(event: FileCreatedEvent): string {
  return JSON.stringify(toFileEntry(event))
}

/** UTF-8 size in bytes of the JSON of `event`'s file entry, plus a separator. */
export function fileEntryBytes(event: FileCreatedEvent): number {
  return Buffer.byteLength(fileEntryJson(event)) + 1
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
