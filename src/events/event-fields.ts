/**
 * The fields of an input event, as read (JSON or Avro) or as a mapping made them, and their rules: the
 * zod schema that names every problem, and the fast path that checks the common event without zod.
 * The event validator (src/events/decode.ts) tries the fast path first and the schema when it refuses.
 */

import { z } from 'zod'
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
/** Longest checksum accepted, characters (a SHA-512 in hex with a prefix is 135). */
const MAX_CHECKSUM_LENGTH = 1024
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

/** The fields of an input event (schemas/file-created.avsc, or the same fields as JSON) and their rules. */
export const eventSchema = z.object({
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
  // A checksum of the file's bytes (issue 24): stored in CHECKSUM_METADATA_PROPERTY when that is set.
  checksum: identifier(MAX_CHECKSUM_LENGTH).nullish(),
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
 * accept nothing the schema refuses and give what it gives (property-tested in event-fields.test.ts).
 * Measured: zod's parse was ~11% of the bridge's CPU in the instant bench (with the URL and metadata
 * rules it runs), the fast path ~4%; see docs/benchmark.md.
 */
export function quickFields(raw: unknown): EventFields | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  const r = raw as Record<string, unknown>
  const { externalId, url, fileName, systemName, mimeType, checksum } = r
  const mediaType = r.mediaType === undefined ? 'file' : r.mediaType
  if (
    !isIdentifier(externalId, 1024) ||
    typeof fileName !== 'string' ||
    fileName.length < 1 ||
    fileName.length > 1024 ||
    !isIdentifier(mediaType, 200) ||
    (systemName != null && !isIdentifier(systemName, 200)) ||
    (mimeType != null && (typeof mimeType !== 'string' || mimeType.length > MAX_MIME_TYPE_LENGTH)) ||
    (checksum != null && !isIdentifier(checksum, MAX_CHECKSUM_LENGTH)) ||
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
    checksum: checksum as string | null | undefined,
  }
}
