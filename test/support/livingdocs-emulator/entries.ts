// One batch entry of an import job, from its mediaType to the media library.
// Sheet: [F] §1.2, [I][V] §7 (per-item results), [MT] [M] §7 (mediaTypes, metadata), §9/§10 (choices, facts).
import { createHash } from 'node:crypto'
import type { Dispatcher } from 'undici'
import { dimensions, download, guessFromUrl, type Sniffed, sniff } from './downloads.ts'
import { KINDS, mimeAllowed } from './kinds.ts'
import { assetView, type MediaLibrary } from './library.ts'
import type { FileInput, FileOutcome, JobRecord, MediaEntry, MediaKind } from './model.ts'
import { MEDIA_TYPE_KIND, metadataReason, validateMetadata } from './project-config.ts'
import { type EmulatorSettings, WEBP_GIF_LIMIT } from './settings.ts'
import type { EmulatorFaults, EmulatorVariants } from './types.ts'

/** The file import's documented per-item failure phrase; detail follows after `: `. [F] §1.2, §6, §10 */
export const UPLOAD_FAILED = 'Could not upload file'
/** Per-item reason of an unknown mediaType or one of another kind's type (undocumented wording, §9). */
export const INVALID_MEDIA_TYPE = 'Invalid mediaType'

/** The MIME type `skipDownloads` assumes when a URL has no known extension. */
const SKIP_MODE_MIME: Record<MediaKind, string> = {
  file: 'application/octet-stream',
  image: 'image/jpeg',
  video: 'video/mp4',
}

/** What processing an entry reads from the emulator (the EmulatorCore; faults and variants are live). */
export type EntryContext = {
  readonly settings: EmulatorSettings
  readonly library: MediaLibrary
  readonly dispatcher: Dispatcher
  readonly random: () => number
  readonly faults: EmulatorFaults
  readonly variants: EmulatorVariants
}

/**
 * One entry, in this order: mediaType of the import's type → metadata → (reimport `skip`) existing pair →
 * `fileFailureRate` → download (≤ the import's upload limit, §11.6) → MIME type from the bytes and the
 * import's rule (webp and gif images ≤ 10MB) → image dimensions → media library. Failure reasons:
 * README "Per-item results".
 */
export const processEntry = async (
  ctx: EntryContext,
  job: JobRecord,
  file: FileInput,
  signal: AbortSignal,
): Promise<FileOutcome> => {
  const { kind, systemName } = job
  const spec = KINDS[kind]
  const base = { systemName, externalId: file.id }
  const failed = (reason: string): FileOutcome => ({ state: 'failed', ...base, reason })
  const uploadFailed = (detail: string) => failed(`${spec.uploadFailed}: ${detail}`)
  const skipped = (entry: MediaEntry): FileOutcome => ({
    state: 'skipped',
    ...base,
    reason: 'already exists',
    mediaId: entry.id,
    ...(kind !== 'file' ? { asset: assetView(entry, entry.kind) } : {}),
  })
  const mediaType = ctx.settings.mediaTypes.get(file.mediaType)
  if (!mediaType) return failed(`${INVALID_MEDIA_TYPE}: "${file.mediaType}" is not configured`)
  const wanted = MEDIA_TYPE_KIND[kind]
  if (mediaType.type !== wanted)
    return failed(`${INVALID_MEDIA_TYPE}: "${file.mediaType}" is not a ${wanted}`)
  const errors = validateMetadata(file.metadata, mediaType)
  if (errors.length > 0) return failed(metadataReason(errors))
  const policy = ctx.variants.reimport
  // §10: a pair in use is reported as such; under `skip` its URL is not even fetched again.
  const existing = policy === 'skip' ? ctx.library.get(systemName, file.id) : undefined
  if (existing) return skipped(existing)
  if (ctx.faults.fileFailureRate > 0 && ctx.random() < ctx.faults.fileFailureRate) {
    return uploadFailed('emulated failure')
  }
  let bytes: Buffer
  let sniffed: Sniffed
  let size: { width: number; height: number } | undefined
  if (ctx.settings.skipDownloads) {
    bytes = Buffer.from(file.url)
    sniffed = guessFromUrl(file.url, SKIP_MODE_MIME[kind])
  } else {
    const got = await download(file.url, {
      dispatcher: ctx.dispatcher,
      timeoutMs: ctx.settings.downloadTimeoutMs,
      maxBytes: ctx.settings.uploadLimits[kind],
      signal,
    })
    if (!got.ok) return uploadFailed(got.detail)
    bytes = got.bytes
    const fallback = ctx.variants.undetectedMimeType === 'content-type' ? got.contentType : undefined
    sniffed = await sniff(bytes, fallback)
    if (!mimeAllowed(kind, sniffed.mimeType, ctx.settings.allowedMimeTypes)) {
      return uploadFailed(`mime type ${sniffed.mimeType} is not allowed`)
    }
    // §11.6: "webp and gif images are limited to a maximum size of 10MB" (webp never passes the image
    // import's MIME rule, [I]; the rule is kept whole).
    const webpGifMax = Math.min(WEBP_GIF_LIMIT, ctx.settings.uploadLimits.image)
    if (kind === 'image' && /^image\/(gif|webp)$/.test(sniffed.mimeType) && bytes.length > webpGifMax) {
      return uploadFailed(`file size exceeds the maximum of ${webpGifMax} bytes`)
    }
    if (kind === 'image') size = dimensions(bytes)
  }
  const stored = ctx.library.store(
    {
      kind,
      systemName,
      file,
      contentHash: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      mimeType: sniffed.mimeType,
      ext: sniffed.ext,
      ...size,
      shareMetadata: ctx.settings.skipDownloads,
    },
    policy,
  )
  if (stored.state === 'skipped') return skipped(stored.entry)
  const asset = kind !== 'file' ? { asset: assetView(stored.entry, kind) } : {}
  return { state: 'imported', ...base, mediaId: stored.entry.id, ...asset }
}
