/**
 * The fields a mapping file may give (docs/mapping.md): one JSONata expression per field
 * of the bridge's input event, plus `filter`. Each target says what its expression must give:
 *
 * - `required`: an expression that gives no value (or null) for an event is that event's fault
 *   (`MAPPING_FAILED`); a mapping without it is refused at start-up. Optional fields without a value get
 *   the event's default (`mediaType` `file`, `metadata` `{}`, `systemName` `DEFAULT_SYSTEM_NAME`,
 *   `occurredAt` the record's timestamp).
 * - `type`: the JSON type of its value; the rules of the value itself (URL, lengths, dates) are the
 *   event validation's (src/events/event-fields.ts), as for an unmapped event.
 */
export const TARGETS = {
  externalId: { required: true, type: 'string' },
  url: { required: true, type: 'string' },
  fileName: { required: true, type: 'string' },
  mediaType: { required: false, type: 'string' },
  metadata: { required: false, type: 'object' },
  systemName: { required: false, type: 'string' },
  // The file's MIME type when the legacy event knows it: it sends images and videos to their imports.
  mimeType: { required: false, type: 'string' },
  occurredAt: { required: false, type: 'instant' },
  // A checksum of the file's bytes, stored in CHECKSUM_METADATA_PROPERTY (issue 24: changed bytes show).
  checksum: { required: false, type: 'string' },
} as const satisfies Record<string, { required: boolean; type: ValueType }>

/**
 * JSON types a target takes: `string`; `object` (a JSON object, not an array); `instant` (epoch ms, an
 * integer, or an ISO 8601 date-time string, as `occurredAt` of an unmapped event); `boolean` (the filter).
 */
export type ValueType = 'string' | 'object' | 'instant' | 'boolean'

export type Target = keyof typeof TARGETS
export const TARGET_NAMES = Object.keys(TARGETS) as Target[]
/** Every key a mapping file may hold. */
export const MAPPING_KEYS = [...TARGET_NAMES, 'filter'] as const
export type MappingKey = (typeof MAPPING_KEYS)[number]

/** The JSON type of `value` as a message names it: `string`, `number`, `array`, `null`, … */
export function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'function') return 'function'
  return typeof value
}

/** True when `value` has the JSON type `type` (see {@link ValueType}). */
export function hasType(value: unknown, type: ValueType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string'
    case 'boolean':
      return typeof value === 'boolean'
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value)
    case 'instant':
      return typeof value === 'string' || typeof value === 'number'
  }
}

/** What {@link hasType} expects, for messages. */
export const EXPECTED: Record<ValueType, string> = {
  string: 'a string',
  boolean: 'true or false',
  object: 'a JSON object',
  instant: 'epoch ms (a number) or an ISO 8601 date-time string',
}
