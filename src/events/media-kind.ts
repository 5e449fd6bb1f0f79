import type { MediaKind } from '../model/files.ts'

/** Options of {@link resolveMediaKind}: the `MEDIA_TYPE_KINDS` and `MEDIA_KIND_DETECTION` settings. */
export interface MediaKindOptions {
  /**
   * The import of each mediaType handle of the project config; a handle not listed goes to the file
   * import. Default `{image: 'image', video: 'video'}`: one `mediaImage` must have the handle `image`,
   * one `mediaVideo` the handle `video` ([MT] §7).
   */
  kindsByMediaType: Readonly<Record<string, MediaKind>>
  /**
   * Whether a file of the default handle `file` (the handle an event without a mediaType gets) goes to
   * the image or video import when its MIME type or its URL's extension says it is one.
   */
  detectFromFile: boolean
}

/** The defaults of `MEDIA_TYPE_KINDS` and `MEDIA_KIND_DETECTION`. */
export const DEFAULT_MEDIA_KINDS: MediaKindOptions = Object.freeze({
  kindsByMediaType: Object.freeze({ image: 'image', video: 'video' }),
  detectFromFile: true,
})

/** The handle a file detected as an image or a video gets: the one every project with them has ([MT] §7). */
const KIND_HANDLES: Readonly<Record<MediaKind, string>> = { file: 'file', image: 'image', video: 'video' }

/** MIME types the image import takes: png, jpg, gif, svg ([I] §7: "allowed types: png, jpg, gif, svg"). */
const IMAGE_MIME_TYPES = new Set(['image/png', 'image/jpeg', 'image/pjpeg', 'image/gif', 'image/svg+xml'])
const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'jpe', 'gif', 'svg'])
/** Extensions of common video containers; the video import takes `video/*` ([V] §7). */
const VIDEO_EXTENSIONS = new Set([
  'mp4',
  'm4v',
  'mov',
  'qt',
  'webm',
  'mkv',
  'avi',
  'mpg',
  'mpeg',
  'ogv',
  '3gp',
  'wmv',
  'flv',
])

/**
 * Chooses the import of a file ([F] §7: images and videos have imports of their own, the file import
 * is for other files) and the mediaType handle it is sent with:
 *
 * 1. the mediaType handle decides, through `kindsByMediaType` (default `image` → images, `video` →
 *    videos, every other handle → files);
 * 2. a file of the default handle `file` whose MIME type (when the event carries one) or URL path
 *    extension names an image the image import takes (png, jpg, gif, svg) or a video goes to that
 *    import with the handle `image` or `video` instead (`detectFromFile`). An event without a mediaType
 *    has the handle `file`, so a legacy system that knows nothing of Livingdocs' handles still gets its
 *    photos and videos into the right import. Other image types (webp, tiff…) stay files: the image
 *    import would refuse them.
 *
 * @param event the event's mediaType handle, URL, and MIME type if it carries one
 * @returns the kind and the mediaType handle to send
 */
export function resolveMediaKind(
  event: { mediaType: string; url: string; mimeType?: string | null | undefined },
  options: MediaKindOptions,
): { kind: MediaKind; mediaType: string } {
  const byHandle = options.kindsByMediaType[event.mediaType] ?? 'file'
  if (!options.detectFromFile || event.mediaType !== KIND_HANDLES.file)
    return { kind: byHandle, mediaType: event.mediaType }
  const detected = kindOfMimeType(event.mimeType) ?? kindOfExtension(event.url)
  if (detected === undefined || detected === 'file') return { kind: byHandle, mediaType: event.mediaType }
  return { kind: detected, mediaType: KIND_HANDLES[detected] }
}

/** The kind a MIME type names (`type/subtype`, parameters ignored), or undefined when none is given. */
function kindOfMimeType(mimeType: string | null | undefined): MediaKind | undefined {
  const essence = mimeType?.split(';')[0]?.trim().toLowerCase()
  if (essence === undefined || essence === '') return undefined
  if (IMAGE_MIME_TYPES.has(essence)) return 'image'
  if (essence.startsWith('video/')) return 'video'
  return 'file'
}

/** Scheme and authority, then the path, of a URL as `toRequestUrl` (src/events/url.ts) gives it. */
const URL_PATH = /^[a-z]+:\/\/[^/?#]*([^?#]*)/

/**
 * The kind the extension of a URL's path names, or undefined when it has none or an unknown one. `url`
 * is the request URL (src/events/url.ts), read as it is: its last path segment is the WHATWG parser's
 * except after a dot segment (`/a.jpg/..`), which has no extension either way.
 */
function kindOfExtension(url: string): MediaKind | undefined {
  const path = URL_PATH.exec(url)?.[1] ?? ''
  const name = path.slice(path.lastIndexOf('/') + 1)
  const dot = name.lastIndexOf('.')
  if (dot <= 0) return undefined
  const extension = name.slice(dot + 1).toLowerCase()
  if (IMAGE_EXTENSIONS.has(extension)) return 'image'
  if (VIDEO_EXTENSIONS.has(extension)) return 'video'
  return undefined
}
