// The media library endpoints: look-up, read by id, and PATCH with `setMetadataProperty` and `version`.
// Sheet: [ML] §11.1 (PATCH, optimistic locking, 400/404/409 bodies), §11.2 (look-ups), §4/§11.5 (answer
// shapes by version), §6 (error bodies). Undocumented choices: README "Undocumented choices".
import type { Request, Response } from 'express'
import type { EmulatorCore } from './core.ts'
import { errorBody } from './faults.ts'
import { send } from './middleware.ts'
import type { MediaEntry } from './model.ts'
import { validateMetadata } from './project-config.ts'
import { datedVersion } from './versions.ts'

/** Request stats labels of the media library endpoints. */
export const LIBRARY_LABELS = {
  lookup: 'GET /mediaLibrary',
  entry: 'GET /mediaLibrary/:id',
  patch: 'PATCH /mediaLibrary/:id',
} as const

/** Whether `version` answers `{results}` (from `2026-01`) rather than the older shape ([ML] §4, §11.2). */
const answersResults = (version: string): boolean => datedVersion(version) >= '2026-01'

/**
 * An entry as the media library answers it ([ML] §11.2 example fields; `asset.key` is in the schema but
 * not in the examples, so it is left out). `withPair`: the answer to an `externalId` query carries
 * `systemName` and `externalId`; the answer to an `ids` query and a read by id do not.
 */
export const entryView = (entry: MediaEntry, withPair: boolean): Record<string, unknown> => ({
  id: entry.id,
  version: entry.version,
  mediaType: entry.kind,
  ...(withPair ? { systemName: entry.systemName, externalId: entry.externalId } : {}),
  asset: {
    url: entry.originalUrl,
    mimeType: entry.mimeType,
    ...(entry.width !== undefined ? { width: entry.width, height: entry.height } : {}),
    size: entry.size,
  },
  metadata: structuredClone(entry.metadata),
  ...(entry.archived ? { archived: true } : {}),
  createdAt: entry.createdAt.toISOString(),
  updatedAt: entry.updatedAt.toISOString(),
})

const query = (req: Request, name: string): string | undefined => {
  const value = req.query[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * `GET /api/:apiVersion/mediaLibrary?systemName=&externalId=` (or `externalIds`, the OpenAPI block's
 * name; or `ids=a,b`): the matching entries, `{"results": […]}` from `2026-01`, before it
 * `{"mediaLibraryEntries": […]}` (variant `legacyListShape: 'array'`: a bare array). Nothing matching:
 * an empty list (variant `lookupMiss: '404'`: the generic 404). Neither `externalId` nor `ids`: 400.
 */
export const lookupHandler = (core: EmulatorCore) => (req: Request, res: Response) => {
  const externalIds = (query(req, 'externalId') ?? query(req, 'externalIds'))?.split(',')
  const ids = query(req, 'ids')?.split(',')
  const systemName = query(req, 'systemName')
  if (externalIds === undefined && ids === undefined) {
    return send(res, 400, errorBody(400, { externalId: 'Missing required property: externalId or ids' }))
  }
  const found = core.library
    .list()
    .filter((e) =>
      ids !== undefined
        ? ids.includes(e.id)
        : externalIds?.includes(e.externalId) && (systemName === undefined || e.systemName === systemName),
    )
  if (found.length === 0 && core.variants.lookupMiss === '404') {
    return send(res, 404, errorBody(404, { message: 'No media library entry found.' }))
  }
  const entries = found.map((e) => entryView(e, ids === undefined))
  if (answersResults(String(req.params.apiVersion))) return send(res, 200, { results: entries })
  if (core.variants.legacyListShape === 'array') return send(res, 200, entries)
  send(res, 200, { mediaLibraryEntries: entries })
}

const notFoundBody = (id: string) =>
  errorBody(404, { name: 'NotFound', message: `MediaLibrary Entry does not exist (id: '${id}')` })

/**
 * `GET /api/:apiVersion/mediaLibrary/:id`: the entry itself, in every version ([ML] §11.2); 404 with the
 * PATCH's documented body for an unknown id. The fault `editorChanges` then changes the entry as an
 * editor would, after the answer: `version` + 1 and one metadata property.
 */
export const entryHandler = (core: EmulatorCore) => (req: Request, res: Response) => {
  const id = String(req.params.id)
  const entry = core.library.byId(id)
  if (entry === undefined) return send(res, 404, notFoundBody(id))
  send(res, 200, entryView(entry, false))
  const editor = core.faults.editorChanges
  if (editor === null || (editor.count !== undefined && editor.count <= 0)) return
  if (editor.count !== undefined) editor.count--
  entry.metadata = {
    ...entry.metadata,
    [editor.property ?? 'description']: editor.value ?? 'changed by an editor',
  }
  entry.version++
  entry.updatedAt = core.now()
}

/** The PATCH operations each version knows ([ML] §11.1, with the release that added each). */
const operationsOf = (version: string): string[] => {
  const dated = datedVersion(version)
  return [
    'setMetadataProperty',
    'archive',
    'replaceAsset',
    'removeAsset',
    'revokeAsset',
    ...(dated >= '2026-01' ? ['unrevokeAsset'] : []),
    ...(dated >= '2026-05' ? ['addUsageLogEntry', 'updateUsageLogEntry', 'removeUsageLogEntry'] : []),
  ]
}

/** The emulated operations; the others are known but answered 400 "not emulated". */
const EMULATED = new Set(['setMetadataProperty', 'archive'])

type Patch = { operation?: unknown; propertyName?: unknown; value?: unknown }

/**
 * `PATCH /api/:apiVersion/mediaLibrary/:id` with `{patches, version?, preserveUpdatedAt?}` ([ML] §11.1):
 *
 * - 400 `{"patches": "Missing required property: patches"}` without a `patches` array; 400
 *   `{"patches.N.operation": "No enum match for: \"x\""}` for an unknown operation (the documented one);
 *   400 for a `setMetadataProperty` without `propertyName`; 400 `{"metadata.<handle>": message}` when the
 *   result fails the mediaType's metadata rules (undocumented wording);
 * - 404 `{"name":"NotFound","message":"MediaLibrary Entry does not exist (id: '…')"}`;
 * - 409 `{"name":"Conflict","message":"Version: Expected <stored> to be equal to <sent>"}` when a `version`
 *   is sent and is not the entry's;
 * - 200 `{"status": 200}`: every patch applied (all or none), `version` + 1, `updatedAt` now unless
 *   `preserveUpdatedAt` (from `2026-03`).
 *
 * Each PATCH that gets past auth and the version check is logged in `stats().mediaPatches`.
 */
export const patchHandler = (core: EmulatorCore) => (req: Request, res: Response) => {
  const id = String(req.params.id)
  const body = (req.body ?? {}) as { patches?: unknown; version?: unknown; preserveUpdatedAt?: unknown }
  const sentVersion =
    typeof body.version === 'number' || (typeof body.version === 'string' && /^\d+$/.test(body.version))
      ? Number(body.version)
      : undefined
  const answer = (status: number, payload: unknown) => {
    core.stats.mediaPatches.push({
      mediaId: id,
      ...(sentVersion !== undefined ? { version: sentVersion } : {}),
      patches: structuredClone(body.patches),
      status,
      at: core.now(),
    })
    send(res, status, payload)
  }
  if (!Array.isArray(body.patches)) {
    return answer(400, errorBody(400, { patches: 'Missing required property: patches' }))
  }
  const patches = body.patches as Patch[]
  const known = operationsOf(String(req.params.apiVersion))
  const invalid: Record<string, string> = {}
  patches.forEach((p, i) => {
    const op = p?.operation
    if (typeof op !== 'string' || !known.includes(op))
      invalid[`patches.${i}.operation`] = `No enum match for: ${JSON.stringify(op)}`
    else if (!EMULATED.has(op)) invalid[`patches.${i}.operation`] = `${op} is not emulated`
    else if (op === 'setMetadataProperty' && (typeof p.propertyName !== 'string' || p.propertyName === ''))
      invalid[`patches.${i}.propertyName`] = 'Missing required property: propertyName'
  })
  if (Object.keys(invalid).length > 0) return answer(400, errorBody(400, invalid))
  const entry = core.library.byId(id)
  if (entry === undefined) return answer(404, notFoundBody(id))
  if (sentVersion !== undefined && sentVersion !== entry.version) {
    const message = `Version: Expected ${entry.version} to be equal to ${sentVersion}`
    return answer(409, errorBody(409, { name: 'Conflict', message }))
  }
  const metadata = { ...entry.metadata }
  let archived = entry.archived ?? false
  for (const p of patches) {
    if (p.operation === 'archive') archived = true
    else if (p.value === null || p.value === undefined) delete metadata[p.propertyName as string]
    else metadata[p.propertyName as string] = structuredClone(p.value)
  }
  const mediaType = core.settings.mediaTypes.get(entry.mediaType)
  const errors = mediaType === undefined ? [] : validateMetadata(metadata, mediaType)
  if (errors.length > 0) {
    const details = Object.fromEntries(errors.map((e) => [`metadata.${e.metadataProperty}`, e.message]))
    return answer(400, errorBody(400, details))
  }
  entry.metadata = metadata
  if (archived) entry.archived = true
  entry.version++
  if (body.preserveUpdatedAt !== true) entry.updatedAt = core.now()
  answer(200, { status: 200 })
}
