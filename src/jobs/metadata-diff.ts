/**
 * What must change in an existing media library entry for its metadata to be the event's (pure): the
 * `setMetadataProperty` operations of one PATCH ([ML] §11.1, §11.4).
 */

import { isDeepStrictEqual } from 'node:util'
import type { SetMetadataProperty } from '../import/library-entry.ts'

/** The differences between an entry's metadata and an event's. */
export interface MetadataDiff {
  /** One `setMetadataProperty` per property to set or remove, in the event's order; none when equal. */
  patches: SetMetadataProperty[]
  /**
   * The event's checksum differs from the one the entry holds: the legacy file's bytes changed, and the
   * entry keeps its old ones (no public endpoint replaces them, §11.3).
   */
  contentChanged: boolean
}

const has = (o: Record<string, unknown>, key: string) => Object.hasOwn(o, key) && o[key] != null

/**
 * Compares an entry's metadata (`stored`, as `GET /mediaLibrary/{id}` gave it) with the event's
 * (`wanted`, what the import request carried):
 *
 * | event's property | entry | operation |
 * |---|---|---|
 * | a value | absent, or another value (deep JSON equality) | `setMetadataProperty` with the value |
 * | a value | the same value | none |
 * | `null` | a value | `setMetadataProperty` with `value: null` (removes it, [ML] §11.1) |
 * | `null` | absent | none |
 * | absent | anything | none: a property the event does not name may be an editor's own |
 * | the checksum property (`checksumProperty`) | anything | none: only an import writes it, with the bytes it downloads; a value other than the entry's sets {@link MetadataDiff.contentChanged} |
 *
 * @param options.checksumProperty the metadata property that holds the event's `checksum`
 *   (`CHECKSUM_METADATA_PROPERTY`), or undefined
 */
export function diffMetadata(
  stored: Record<string, unknown>,
  wanted: Record<string, unknown>,
  options: { checksumProperty?: string | undefined } = {},
): MetadataDiff {
  const patches: SetMetadataProperty[] = []
  let contentChanged = false
  for (const [propertyName, value] of Object.entries(wanted)) {
    if (propertyName === options.checksumProperty) {
      contentChanged =
        value != null && has(stored, propertyName) && !isDeepStrictEqual(stored[propertyName], value)
      continue
    }
    if (value === null || value === undefined) {
      if (has(stored, propertyName))
        patches.push({ operation: 'setMetadataProperty', propertyName, value: null })
      continue
    }
    if (!has(stored, propertyName) || !isDeepStrictEqual(stored[propertyName], value))
      patches.push({ operation: 'setMetadataProperty', propertyName, value })
  }
  return { patches, contentChanged }
}
