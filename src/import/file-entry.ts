/**
 * The `files[]` entry of an import request for one event ([F] §1.1): the decoder serialises it once per
 * event (`createEventValidator`, src/events/decode.ts), and the request carries those bytes as they are
 * (src/import/import-request.ts).
 */

import type { FileCreatedEvent } from '../model/files.ts'

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

/**
 * The metadata of an entry with `checksum` stored in the property `property` (`CHECKSUM_METADATA_PROPERTY`,
 * issue 24): the object with it, and its JSON text when the metadata came as text (the Avro form): the
 * text as it came with the property written before its closing brace, so numbers beyond 2^53 stay as
 * sent; written again by JSON.stringify only when the metadata named the property itself (the
 * checksum wins) or was empty.
 */
export function withChecksum(
  metadata: Record<string, unknown>,
  text: string | undefined,
  property: string,
  checksum: string,
): { object: Record<string, unknown>; text: string | undefined } {
  const object = { ...metadata, [property]: checksum }
  const end = text?.lastIndexOf('}') ?? -1
  if (
    text === undefined ||
    end < 0 ||
    Object.hasOwn(metadata, property) ||
    Object.keys(metadata).length === 0
  )
    return { object, text: undefined }
  return {
    object,
    text: `${text.slice(0, end)},${JSON.stringify(property)}:${JSON.stringify(checksum)}${text.slice(end)}`,
  }
}
