// The project config's mediaTypes and their metadata rules. [MT] §7, §10; the error shape of [M] §7.
import type {
  LegacyMediaTypeConfig,
  MediaKind,
  MediaTypeConfig,
  MediaTypeKind,
  MetadataError,
  MetadataPropertyConfig,
} from './model.ts'

/** The mediaType `type` each import accepts: files → mediaFile, images → mediaImage, videos → mediaVideo. [MT] §7 */
export const MEDIA_TYPE_KIND: Record<MediaKind, MediaTypeKind> = {
  file: 'mediaFile',
  image: 'mediaImage',
  video: 'mediaVideo',
}

/** The handle one mediaType of each `type` must have. [MT] §7, §10 */
const REQUIRED_HANDLE: Record<MediaTypeKind, string> = {
  mediaFile: 'file',
  mediaImage: 'image',
  mediaVideo: 'video',
}

/** `message` of the media library import's metadata `ValidationError`. [M] §7 */
export const METADATA_VALIDATION_FAILED = 'Metadata validation failed.'

/** The metadata of a project without a mediaTypes config: `title`, `caption`, `source`, `description`. [MT] §10 */
const defaultMetadata = (): MetadataPropertyConfig[] =>
  ['title', 'caption', 'source', 'description'].map((handle) => ({ handle, type: 'li-text' }))

/** The default project config: one mediaType per kind with the docs' default metadata, none required. [MT] §10 */
export const defaultMediaTypes = (): MediaTypeConfig[] => [
  { handle: 'image', type: 'mediaImage', metadata: defaultMetadata() },
  { handle: 'video', type: 'mediaVideo', metadata: defaultMetadata() },
  { handle: 'file', type: 'mediaFile', metadata: defaultMetadata() },
]

const LEGACY_PLUGIN = { string: 'li-text', boolean: 'li-boolean', number: 'li-integer' } as const

/** Converts the emulator's older record form to the array form (see {@link LegacyMediaTypeConfig}). */
const fromLegacy = (record: Record<string, LegacyMediaTypeConfig>): MediaTypeConfig[] =>
  Object.entries(record).map(([handle, legacy]) => ({
    handle,
    type: legacy.type ?? 'mediaFile',
    ...(legacy.strict !== undefined ? { strict: legacy.strict } : {}),
    metadata: Object.entries(legacy.metadata ?? {}).map(([name, rule]) => {
      const plugin = LEGACY_PLUGIN[rule.type ?? 'string']
      if (!plugin) throw new Error(`mediaTypes.${handle}.metadata.${name}: type ${rule.type} has no plugin`)
      const config = {
        ...(rule.required !== undefined ? { required: rule.required } : {}),
        ...(rule.maxLength !== undefined ? { maxLength: rule.maxLength } : {}),
      }
      return { handle: name, type: plugin, config }
    }),
  }))

/**
 * Reads the `mediaTypes` option (array form, or the older record form) and checks it as the server's
 * config validation would. [MT] §7: handles are unique; when a `type` is used, one mediaType of it has
 * its handle (`file`, `image`, `video`).
 * @returns the mediaTypes by handle
 * @throws Error on an invalid config
 */
export const resolveMediaTypes = (
  option: MediaTypeConfig[] | Record<string, LegacyMediaTypeConfig> | undefined,
): Map<string, MediaTypeConfig> => {
  const list =
    option === undefined ? defaultMediaTypes() : Array.isArray(option) ? option : fromLegacy(option)
  const byHandle = new Map<string, MediaTypeConfig>()
  for (const mediaType of list) {
    if (!Object.hasOwn(REQUIRED_HANDLE, mediaType.type)) {
      throw new Error(`mediaTypes: "${mediaType.handle}" has type ${String(mediaType.type)}`)
    }
    if (byHandle.has(mediaType.handle)) throw new Error(`mediaTypes: handle "${mediaType.handle}" twice`)
    const handles = (mediaType.metadata ?? []).map((m) => m.handle)
    if (new Set(handles).size !== handles.length) {
      throw new Error(`mediaTypes: "${mediaType.handle}" declares a metadata handle twice`)
    }
    byHandle.set(mediaType.handle, structuredClone(mediaType))
  }
  for (const [type, handle] of Object.entries(REQUIRED_HANDLE)) {
    const used = list.some((m) => m.type === type)
    if (used && byHandle.get(handle)?.type !== type) {
      throw new Error(`mediaTypes: one ${type} must have the handle "${handle}" [MT]`)
    }
  }
  return byHandle
}

const isMissing = (value: unknown) => value === undefined || value === null || value === ''
const isIsoDateTime = (value: string) =>
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
  !Number.isNaN(Date.parse(value))

/**
 * What is wrong with a present value for a plugin's stored format, as the tail of "The value of '/x' …"
 * ([M] §7's one example: `must be string`); undefined when it is fine or the plugin is not checked.
 */
const formatProblem = (
  plugin: string,
  value: unknown,
  property: MetadataPropertyConfig,
): string | undefined => {
  const config = property.config ?? {}
  switch (plugin) {
    case 'li-text':
    case 'li-color':
      if (typeof value !== 'string') return 'must be string'
      if (config.maxLength !== undefined && value.length > config.maxLength) {
        return `must NOT have more than ${config.maxLength} characters`
      }
      return undefined
    case 'li-boolean':
      return typeof value === 'boolean' ? undefined : 'must be boolean'
    case 'li-integer':
      return Number.isInteger(value) ? undefined : 'must be integer'
    case 'li-datetime':
      if (typeof value !== 'string') return 'must be string'
      return isIsoDateTime(value) ? undefined : 'must match format "date-time"'
    case 'li-enum': {
      if (typeof value !== 'string') return 'must be string'
      const items = config.dataProvider?.items
      return items && !items.some((i) => i.value === value)
        ? 'must be equal to one of the allowed values'
        : undefined
    }
    case 'li-string-list':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? undefined
        : 'must be array of string'
    case 'li-numeric-list':
      return Array.isArray(value) && value.every((v) => typeof v === 'number')
        ? undefined
        : 'must be array of number'
    default:
      return undefined
  }
}

/**
 * Checks an entry's metadata against its mediaType. [MT] §7 (rules), [M] §7 (error shape). Messages:
 * `requiredErrorMessage` when configured, else `The value of '/<handle>' <problem>` in the style of the
 * one documented message (`The value of '/title' must be string`); the wording of the others is a guess.
 * @returns one error per broken property, in config order (empty when valid)
 */
export const validateMetadata = (
  metadata: Record<string, unknown>,
  mediaType: MediaTypeConfig,
): MetadataError[] => {
  const errors: MetadataError[] = []
  const declared = mediaType.metadata ?? []
  for (const property of declared) {
    // Own properties only: a handle like `constructor` must not find Object.prototype's.
    const value = Object.hasOwn(metadata, property.handle) ? metadata[property.handle] : undefined
    const at = `The value of '/${property.handle}'`
    if (isMissing(value)) {
      if (property.config?.required) {
        const message = property.config.requiredErrorMessage ?? `${at} is required`
        errors.push({ metadataProperty: property.handle, message })
      }
      continue
    }
    const problem = formatProblem(property.type ?? property.plugin ?? '', value, property)
    if (problem) errors.push({ metadataProperty: property.handle, message: `${at} ${problem}` })
  }
  if (mediaType.strict) {
    const names = new Set(declared.map((p) => p.handle))
    for (const name of Object.keys(metadata)) {
      if (!names.has(name)) {
        errors.push({
          metadataProperty: name,
          message: `The value of '/${name}' is not declared by the mediaType`,
        })
      }
    }
  }
  return errors
}

/**
 * The per-item `reason` of a metadata failure, rendered from the [M] §7 shape (the async imports document
 * no wording: a guess): `Metadata validation failed. title: Please provide a title; year: …`.
 */
export const metadataReason = (errors: MetadataError[]): string =>
  `${METADATA_VALIDATION_FAILED} ${errors.map((e) => `${e.metadataProperty}: ${e.message}`).join('; ')}`
