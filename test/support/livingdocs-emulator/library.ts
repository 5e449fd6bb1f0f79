// The emulated media library: one store for all three imports, keyed by systemName + externalId.
// Sheet: [ML] §7 (entry model), [M] §7 (`externalId` unique together with `systemName`), §10 (re-imports).
import type { AssetView, FileInput, MediaEntry, MediaKind } from './model.ts'

const MIXED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** The stored content of an entry about to be imported. */
export type Incoming = {
  kind: MediaKind
  systemName: string
  file: FileInput
  contentHash: string
  size: number
  mimeType: string
  ext: string
  width?: number
  height?: number
  /** Whether the metadata may be kept by reference (benchmark mode) instead of copied. */
  shareMetadata: boolean
}

/** What storing an entry did. */
export type StoreResult = { state: 'imported' | 'skipped'; entry: MediaEntry }

/** The library key of a pair. */
export const mediaKey = (systemName: string, externalId: string): string => `${systemName}\u0000${externalId}`

/**
 * The asset of an entry as an image or video status item nests it. [I][V] §7: images carry the image
 * service's `url` (`originalUrl?auto=format`) and `imageService: 'imgix'`, as the docs' example does.
 */
export const assetView = (entry: MediaEntry, kind: MediaKind): AssetView => {
  if (kind !== 'image') return { originalUrl: entry.originalUrl, mimeType: entry.mimeType }
  return {
    originalUrl: entry.originalUrl,
    url: `${entry.originalUrl}?auto=format`,
    ...(entry.width !== undefined ? { width: entry.width, height: entry.height } : {}),
    mimeType: entry.mimeType,
    imageService: 'imgix',
  }
}

/** The in-memory media library. */
export class MediaLibrary {
  readonly entries = new Map<string, MediaEntry>()
  /** The same entries by mediaId. */
  readonly #byId = new Map<string, MediaEntry>()
  private readonly random: () => number
  private readonly now: () => Date

  constructor(random: () => number, now: () => Date) {
    this.random = random
    this.now = now
  }

  /** A 12 character mixed-case alphanumeric mediaId (fits the media library id pattern `^[a-zA-Z0-9-]{1,32}$`, [M] §7). */
  newMediaId(): string {
    return Array.from({ length: 12 }, () => MIXED[Math.floor(this.random() * MIXED.length)]).join('')
  }

  /** The live entry of a mediaId (not a copy), or undefined. */
  byId(id: string): MediaEntry | undefined {
    return this.#byId.get(id)
  }

  /** The live entries, in the order they were first stored. */
  list(): MediaEntry[] {
    return [...this.entries.values()]
  }

  /** The live entry of a pair (not a copy), or undefined. */
  get(systemName: string, externalId: string): MediaEntry | undefined {
    return this.entries.get(mediaKey(systemName, externalId))
  }

  /**
   * Stores an entry. A new pair is `imported` with a new mediaId. An existing pair:
   * - `skip` (default, §10): `skipped` with the existing entry, nothing changes;
   * - `update` (the files page's prose): same bytes → `skipped`; other bytes of the same kind → `imported`
   *   with the same mediaId, `version` + 1. An entry of another kind is never updated (skipped).
   */
  store(incoming: Incoming, policy: 'skip' | 'update'): StoreResult {
    const { file, systemName } = incoming
    const key = mediaKey(systemName, file.id)
    const existing = this.entries.get(key)
    if (existing) {
      const unchanged = existing.contentHash === incoming.contentHash || existing.kind !== incoming.kind
      if (policy === 'skip' || unchanged) return { state: 'skipped', entry: existing }
    }
    const now = this.now()
    const id = existing?.id ?? this.newMediaId()
    const version = (existing?.version ?? 0) + 1
    const day = now.toISOString().slice(0, 10).replaceAll('-', '/')
    const entry: MediaEntry = {
      id,
      version,
      kind: incoming.kind,
      systemName,
      externalId: file.id,
      mediaType: file.mediaType,
      fileName: file.fileName,
      // The request's metadata is a fresh parse owned by this job; the copy only guards the default mode's
      // tests, and the benchmark (skipDownloads) spends its time here instead of in the bridge.
      metadata: incoming.shareMetadata ? file.metadata : structuredClone(file.metadata),
      url: file.url,
      // `.invalid` (RFC 2606): a storage URL that looks real and can never be fetched.
      originalUrl: `https://livingdocs-${incoming.kind}s.emulator.invalid/${day}/${id}-v${version}.${incoming.ext}`,
      contentHash: incoming.contentHash,
      size: incoming.size,
      mimeType: incoming.mimeType,
      ...(incoming.width !== undefined ? { width: incoming.width, height: incoming.height } : {}),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    }
    this.entries.set(key, entry)
    this.#byId.set(id, entry)
    return { state: 'imported', entry }
  }

  /** Forgets every entry (`reset()`). */
  clear(): void {
    this.entries.clear()
    this.#byId.clear()
  }
}
