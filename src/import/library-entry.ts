/**
 * Media library entries as the bridge reads them ([ML] §11.1, §11.2): the answer of a look-up by
 * `systemName` + `externalId` (`GET /mediaLibrary?…`), of a read by `mediaId` (`GET /mediaLibrary/{id}`),
 * and the body of a `PATCH /mediaLibrary/{id}`. `classifyAnswer` (api-answer.ts) calls the readers for a
 * 2xx answer of those endpoints.
 */

import { z } from 'zod'

/** A media library entry, as far as the bridge needs it. */
export interface LibraryEntry {
  /** The `mediaId`. */
  id: string
  /**
   * The entry's `version` for optimistic locking ([ML] §11.1: a number in GET answers, a string in the
   * PATCH prose; read as a number). Undefined when the answer had none (a look-up's answer need not).
   */
  version: number | undefined
  /** Its metadata (`{}` when the answer had none). */
  metadata: Record<string, unknown>
  systemName: string | undefined
  externalId: string | undefined
}

/** One `setMetadataProperty` operation ([ML] §11.1): a `value` of `null` removes the property. */
export interface SetMetadataProperty {
  operation: 'setMetadataProperty'
  propertyName: string
  value: unknown
}

const id = z.union([z.string().min(1), z.number()]).transform(String)
// [ML] §11.1: the OpenAPI block types `version` as a number, the prose as a string ("1").
const version = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)])
const entrySchema = z.looseObject({
  id,
  version: version.nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  systemName: z.string().nullish(),
  externalId: z.union([z.string(), z.number()]).transform(String).nullish(),
})

function toEntry(parsed: z.infer<typeof entrySchema>): LibraryEntry {
  return {
    id: parsed.id,
    version: parsed.version ?? undefined,
    metadata: parsed.metadata ?? {},
    systemName: parsed.systemName ?? undefined,
    externalId: parsed.externalId ?? undefined,
  }
}

const entryList = z.array(entrySchema)

/**
 * The entries of a look-up answer, in each shape by version ([ML] §4, §11.2): `{"results": […]}` from
 * `2026-01`, `{"mediaLibraryEntries": […]}` up to `2025-11` (the YAML), or a bare array (the changelog's
 * "previously returned an array"). The answer when nothing matches is not documented: an empty list
 * of any of these (a 404 is read as none too, `classifyAnswer`).
 * @returns undefined when the body is of none of these shapes
 */
export function readEntries(value: unknown): LibraryEntry[] | undefined {
  const list = Array.isArray(value)
    ? value
    : value !== null && typeof value === 'object'
      ? ((value as Record<string, unknown>).results ?? (value as Record<string, unknown>).mediaLibraryEntries)
      : undefined
  const parsed = entryList.safeParse(list)
  return parsed.success ? parsed.data.map(toEntry) : undefined
}

/**
 * The entry of a read by `mediaId` ([ML] §11.2: the entry object itself, not wrapped, in every version).
 * Its `version` is required: without it an update could not be checked against an editor's change.
 * @returns undefined when the body is no entry with a `version`
 */
export function readEntry(value: unknown): LibraryEntry | undefined {
  const parsed = entrySchema.safeParse(value)
  if (!parsed.success || parsed.data.version == null) return undefined
  return toEntry(parsed.data)
}

/**
 * The body of `PATCH /api/{version}/mediaLibrary/{id}` ([ML] §11.1): the patches in one request, with
 * the `version` read before, so that Livingdocs refuses it (409) when the entry changed since.
 */
export function patchBody(patches: readonly SetMetadataProperty[], entryVersion: number): Buffer {
  return Buffer.from(JSON.stringify({ version: entryVersion, patches }), 'utf8')
}
