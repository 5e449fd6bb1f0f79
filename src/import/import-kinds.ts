import type { MediaKind } from '../model/files.ts'

/**
 * How each Livingdocs import differs on the wire ([F] [I] [V] §7): its path under `/api/{version}/import/`
 * (the status endpoint is `<path>/status`), the key of its entries in the request and of its items in
 * the status, and where a status item keeps its `mediaId`: at the item's top level for files, nested
 * in `image{mediaId,…}` or `video{mediaId,…}` for images and videos.
 */
export const IMPORT_KINDS: Readonly<
  Record<
    MediaKind,
    { path: string; itemsKey: 'files' | 'images' | 'videos'; nestedKey: 'image' | 'video' | undefined }
  >
> = {
  file: { path: 'files', itemsKey: 'files', nestedKey: undefined },
  image: { path: 'images', itemsKey: 'images', nestedKey: 'image' },
  video: { path: 'videos', itemsKey: 'videos', nestedKey: 'video' },
}

/**
 * A status body of any import in the file import's shape: its items under `files`, each with its
 * `mediaId` at the top level (taken from the nested `image`/`video` object when the item has none of
 * its own). Anything else is left as it is for the status schema to judge.
 *
 * @param body the parsed JSON of a status answer
 */
export function asFileStatus(body: unknown, kind: MediaKind): unknown {
  const { itemsKey, nestedKey } = IMPORT_KINDS[kind]
  if (nestedKey === undefined || body === null || typeof body !== 'object') return body
  const { [itemsKey]: items, ...rest } = body as Record<string, unknown>
  if (!Array.isArray(items)) return rest
  return {
    ...rest,
    files: items.map((item: unknown) => {
      if (item === null || typeof item !== 'object') return item
      const nested = (item as Record<string, unknown>)[nestedKey] as { mediaId?: unknown } | null | undefined
      const own = (item as { mediaId?: unknown }).mediaId
      return own === undefined && nested?.mediaId !== undefined ? { ...item, mediaId: nested.mediaId } : item
    }),
  }
}
