import { z } from 'zod'
import { type DlqReason, isBridgeError } from '../errors.ts'
import type { DecodeFailure, DecodeResult, FileCreatedEvent } from '../model/files.ts'
import type { RecordHeader } from '../model/records.ts'
import { type SchemaCodec, UNKNOWN_WRITER } from '../registry/registry.ts'
import { apicurioHint } from './apicurio-hint.ts'
import { type MediaKindOptions, resolveMediaKind } from './media-kind.ts'
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

/**
 * An instant as epoch ms (an integer) or an ISO 8601 date-time with offset, within the RFC 3339 range.
 * @returns the epoch ms, or the problem as a message
 */
function eventMs(value: unknown): number | string {
  let ms: number | undefined
  if (typeof value === 'number' && Number.isInteger(value)) ms = value
  else if (typeof value === 'string' && isoDateTime.safeParse(value).success) ms = Date.parse(value)
  if (ms === undefined) return 'must be epoch ms (an integer) or an ISO 8601 date-time with offset'
  return ms >= MIN_EVENT_MS && ms <= MAX_EVENT_MS ? ms : RANGE_MESSAGE
}

/**
 * The metadata: a JSON object, or (the Avro form) a string holding one; absent means {}. Kept as
 * parsed, not copied; with its JSON text when it came as one (the entry carries that text as it is).
 * @returns the object and its text (undefined unless given as a string), or the problem as a message
 */
function metadataOf(value: unknown): { object: Record<string, unknown>; text: string | undefined } | string {
  if (value === undefined) return { object: {}, text: undefined }
  let object: unknown = value
  const text = typeof value === 'string' ? value : undefined
  if (text !== undefined) {
    try {
      object = JSON.parse(text)
    } catch {
      object = undefined
    }
  }
  if (!isJsonObject(object)) return 'must be a JSON object'
  if (Object.hasOwn(object, '__proto__')) return PROTO_KEY_MESSAGE
  return { object, text }
}

/** A zod transform that applies `rule` (a value or the problem as a message) to a field, even a missing one. */
const ruled = <T>(rule: (value: unknown) => T | string) =>
  z
    .unknown()
    .optional()
    .transform((value, ctx): T => {
      const result = rule(value)
      if (typeof result !== 'string') return result
      ctx.addIssue({ code: 'custom', message: result })
      return z.NEVER
    })
/** Longest MIME type accepted (RFC 6838 §4.2 allows 127 characters each for type and subtype). */
const MAX_MIME_TYPE_LENGTH = 255
/** Longest URL accepted: RFC 9110 §4.1 asks senders and recipients to support at least 8000 octets. */
const MAX_URL_LENGTH = 8000

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/
/**
 * An identifier (externalId, systemName, mediaType): no control characters, which would make ids that
 * look alike in logs and in Livingdocs differ invisibly (and break line-based tools).
 */
const identifier = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((v) => !CONTROL_CHARACTER.test(v), 'must not contain control characters')
/** {@link identifier}'s rule, without zod (the fast path). */
const isIdentifier = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= max && !CONTROL_CHARACTER.test(v)

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
  metadata: ruled(metadataOf),
  systemName: identifier(200).nullish(),
  // The file's MIME type, when the legacy system knows it: it routes images and videos to their imports.
  mimeType: z.string().max(MAX_MIME_TYPE_LENGTH).nullish(),
  occurredAt: ruled(eventMs),
})

/** The event's fields as {@link eventSchema} gives them. */
export type EventFields = z.output<typeof eventSchema>

/**
 * The event's fields by {@link eventSchema} (zod) alone: what {@link quickFields} must agree with.
 * @returns the fields, or undefined when the schema refuses `raw`
 */
export function schemaFields(raw: unknown): EventFields | undefined {
  const parsed = eventSchema.safeParse(raw)
  return parsed.success ? parsed.data : undefined
}

/**
 * {@link eventSchema} without zod, for the common case: the same rules (the shared ones are the same
 * functions), checked in place without the intermediate objects of a zod parse. Any field not plainly
 * valid gives undefined, and the schema then decides and names every problem; so this only has to
 * accept nothing the schema refuses and give what it gives (property-tested in decode.test.ts).
 * Measured: zod's parse was ~11% of the bridge's CPU in the instant bench (with the URL and metadata
 * rules it runs), the fast path ~4%; see the README's Benchmark.
 */
export function quickFields(raw: unknown): EventFields | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  const r = raw as Record<string, unknown>
  const { externalId, url, fileName, systemName, mimeType } = r
  const mediaType = r.mediaType === undefined ? 'file' : r.mediaType
  if (
    !isIdentifier(externalId, 1024) ||
    typeof fileName !== 'string' ||
    fileName.length < 1 ||
    fileName.length > 1024 ||
    !isIdentifier(mediaType, 200) ||
    (systemName != null && !isIdentifier(systemName, 200)) ||
    (mimeType != null && (typeof mimeType !== 'string' || mimeType.length > MAX_MIME_TYPE_LENGTH)) ||
    typeof url !== 'string'
  )
    return undefined
  const requestUrl = toRequestUrl(url)
  if (!requestUrl.ok || requestUrl.url.length > MAX_URL_LENGTH) return undefined
  const metadata = metadataOf(r.metadata)
  const occurredAt = eventMs(r.occurredAt)
  if (typeof metadata === 'string' || typeof occurredAt === 'string') return undefined
  return {
    externalId,
    url: requestUrl.url,
    fileName,
    mediaType,
    metadata,
    systemName: systemName as string | null | undefined,
    mimeType: mimeType as string | null | undefined,
    occurredAt,
  }
}

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
    const event: FileCreatedEvent = {
      externalId: e.externalId,
      url: e.url,
      fileName: e.fileName,
      mediaType,
      kind,
      metadata: e.metadata.object,
      systemName,
      occurredAt: e.occurredAt,
    }
    let entryJson: string
    try {
      entryJson = fileEntryJson(event, e.metadata.text)
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

/**
 * Whether `event`'s entry carries its mediaType. The video import lists no mediaType among its entry keys
 * ([V] §7): the default handle is left out (the server's default), another one is sent so that it can
 * choose among mediaVideo types.
 */
function sendsMediaType(event: FileCreatedEvent): boolean {
  return !(event.kind === 'video' && event.mediaType === 'video')
}

/** The `files[]` entry of an import request for `event` ([F] §1.1: url, id, fileName, metadata, mediaType). */
export function toFileEntry(event: FileCreatedEvent) {
  return {
    id: event.externalId,
    url: event.url,
    fileName: event.fileName,
    ...(sendsMediaType(event) ? { mediaType: event.mediaType } : {}),
    metadata: event.metadata,
  }
}

/**
 * The JSON of `event`'s file entry: `JSON.stringify(toFileEntry(event))`, written field by field. With
 * `metadataText`, the JSON text the event's metadata was parsed from (the Avro form), that text is the
 * entry's metadata as it is, not parsed and written again: the same JSON value for any reader (numbers
 * beyond 2^53 even exactly as sent, where a round trip would round them).
 * @throws RangeError when the metadata is nested too deeply for JSON.stringify's recursion
 */
export function fileEntryJson(event: FileCreatedEvent, metadataText?: string): string {
  const mediaType = sendsMediaType(event) ? `,"mediaType":${JSON.stringify(event.mediaType)}` : ''
  return `{"id":${JSON.stringify(event.externalId)},"url":${JSON.stringify(event.url)},"fileName":${JSON.stringify(event.fileName)}${mediaType},"metadata":${metadataText ?? JSON.stringify(event.metadata)}}`
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
