// What differs between the file, image and video imports: paths, keys, reasons, MIME rules, result shapes.
// Sheet: [F] §1, [I][V] §7 ("Related imports and how they differ"), [DPA] §2 (webhook source).

import type { FileOutcome, MediaKind, WebhookBody } from './model.ts'
import type { EmulatorEndpoint, EmulatorVariants } from './types.ts'

/** Everything the emulator does differently per import. */
export type KindSpec = {
  kind: MediaKind
  /** Path segment (`/import/<path>`) and the request's and status answer's batch key. */
  path: 'files' | 'images' | 'videos'
  /** Key of the nested media entry in a status item (`image{…}`, `video{…}`); files have `mediaId` flat. */
  itemKey?: 'image' | 'video'
  /** Whether each OpenAPI lists `mediaType` as required: images yes; files and videos no. [F][I][V] */
  mediaTypeRequired: boolean
  /** The handle used when an entry may and does omit `mediaType` (a guess, §9). */
  defaultMediaType: string
  /** The webhook body's `source`. [DPA] §2 (`livingdocs-file-import`, `-video-import` by analogy) */
  source: WebhookBody['source']
  /** The documented per-item failure phrase; detail follows after `: ` (§10 "appendix"). [F][I][V] */
  uploadFailed: string
  /** Label prefix in the request stats, e.g. `POST /import/images`. */
  labels: Record<Extract<EmulatorEndpoint, 'import' | 'status'>, string>
}

const spec = (
  kind: MediaKind,
  path: KindSpec['path'],
  extra: Pick<KindSpec, 'mediaTypeRequired' | 'itemKey'>,
): KindSpec => ({
  kind,
  path,
  ...extra,
  defaultMediaType: kind,
  source: `livingdocs-${kind}-import`,
  uploadFailed: `Could not upload ${kind}`,
  labels: { import: `POST /import/${path}`, status: `GET /import/${path}/status` },
})

/** The three imports. */
export const KINDS: Record<MediaKind, KindSpec> = {
  file: spec('file', 'files', { mediaTypeRequired: false }),
  image: spec('image', 'images', { mediaTypeRequired: true, itemKey: 'image' }),
  video: spec('video', 'videos', { mediaTypeRequired: false, itemKey: 'video' }),
}

/** The image import's allowed types: png, jpg, gif, svg. [I] §7 */
export const IMAGE_MIME_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/svg+xml']

/** Whether `mimeType` matches an entry of `allowed` (exact, or `type/*` for a whole type). */
export const mimeMatches = (mimeType: string, allowed: string[]): boolean =>
  allowed.some((a) => a === mimeType || (a.endsWith('/*') && mimeType.startsWith(a.slice(0, -1))))

/**
 * Whether an import takes a file of this (detected) MIME type: images png/jpg/gif/svg [I]; videos `video/*`
 * [V]; files what `allowedMimeTypes` allows (`files.uploadRestrictions`, §10; undefined = everything).
 */
export const mimeAllowed = (kind: MediaKind, mimeType: string, allowedMimeTypes?: string[]): boolean => {
  if (kind === 'image') return IMAGE_MIME_TYPES.includes(mimeType)
  if (kind === 'video') return mimeType.startsWith('video/')
  return allowedMimeTypes === undefined || mimeMatches(mimeType, allowedMimeTypes)
}

/**
 * Renders a stored outcome as a status item of its import, per the variants. [F] §1.2, [I][V] §7,
 * [PR1209], [GIT]. Key order as in the docs' examples:
 * - files: `{state, mediaId, systemName, externalId}`; skipped `{state, reason, systemName, externalId, mediaId}`
 * - images: `{state, externalId, systemName, image:{mediaId, originalUrl, url, width, height, mimeType, imageService}}`
 * - videos: `{state, systemName, externalId, video:{mediaId, originalUrl, mimeType}}`
 * Skipped items carry `reason` after the state and the existing entry; failed items have no entry.
 */
export const renderItem = (
  spec: KindSpec,
  outcome: FileOutcome,
  variants: EmulatorVariants,
): Record<string, unknown> => {
  const key = variants.perFileStateKey
  const { systemName, externalId, mediaId, reason } = outcome
  const state = outcome.state === 'imported' ? variants.perFileSuccessValue : outcome.state
  const head = { [key]: state, ...(outcome.state === 'imported' ? {} : { reason }) }
  if (spec.kind === 'file') {
    if (outcome.state === 'imported') return { ...head, mediaId, systemName, externalId }
    if (outcome.state === 'skipped') return { ...head, systemName, externalId, mediaId }
    return { ...head, systemName, externalId }
  }
  const ids = spec.kind === 'image' ? { externalId, systemName } : { systemName, externalId }
  if (outcome.state === 'failed' || !spec.itemKey) return { ...head, ...ids }
  const asset = outcome.asset
  const entry =
    spec.kind === 'image'
      ? {
          mediaId,
          originalUrl: asset?.originalUrl,
          url: asset?.url,
          width: asset?.width,
          height: asset?.height,
          mimeType: asset?.mimeType,
          imageService: asset?.imageService,
        }
      : { mediaId, originalUrl: asset?.originalUrl, mimeType: asset?.mimeType }
  return { ...head, ...ids, [spec.itemKey]: entry }
}
