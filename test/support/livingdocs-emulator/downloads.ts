// Downloading an entry's URL, detecting its MIME type from the bytes, and reading image dimensions.
// Sheet §10: the server takes a file's MIME type from its bytes, not from the download's Content-Type
// (release-2023-09, v237.2.35); `uploadRestrictions.maxFileSize` caps a file.
import { detectXml } from '@file-type/xml'
import { FileTypeParser } from 'file-type'
import { imageSize } from 'image-size'
import type { Dispatcher } from 'undici'
import { request } from 'undici'

/** A finished download, or why it failed (the detail after `Could not upload <kind>: `). */
export type Download =
  | { ok: true; bytes: Buffer; contentType: string | undefined }
  | { ok: false; detail: string; tooLarge?: boolean }

/** What the emulator knows of a file's type. */
export type Sniffed = { mimeType: string; ext: string }

// file-type reads binary signatures; the XML plugin (by a file-type maintainer) recognises SVG, which is
// XML text with no signature of its own, with or without an `<?xml` declaration or a namespace.
const parser = new FileTypeParser({ customDetectors: [detectXml] })

/**
 * GETs `url` and reads its body, at most `maxBytes`. Never throws.
 * @param options.timeoutMs whole request and body, ms
 * @param options.maxBytes larger bodies fail with `tooLarge` (the limit in the detail)
 * @param options.signal aborts with the job
 */
export const download = async (
  url: string,
  options: { dispatcher: Dispatcher; timeoutMs: number; maxBytes: number; signal: AbortSignal },
): Promise<Download> => {
  const timeout = AbortSignal.timeout(options.timeoutMs)
  try {
    const res = await request(url, {
      method: 'GET',
      dispatcher: options.dispatcher,
      signal: AbortSignal.any([options.signal, timeout]),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    })
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump().catch(() => {})
      return { ok: false, detail: `HTTP ${res.statusCode}` }
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length
      if (size > options.maxBytes) {
        res.body.destroy()
        return {
          ok: false,
          tooLarge: true,
          detail: `file size exceeds the maximum of ${options.maxBytes} bytes`,
        }
      }
      chunks.push(chunk as Buffer)
    }
    const header = res.headers['content-type']
    const contentType = (Array.isArray(header) ? header[0] : header)?.split(';')[0]?.trim().toLowerCase()
    return { ok: true, bytes: Buffer.concat(chunks), contentType: contentType || undefined }
  } catch (error) {
    if (timeout.aborted) return { ok: false, detail: `timeout after ${options.timeoutMs} ms` }
    const err = error as { code?: string; message?: string }
    return { ok: false, detail: err.code ?? err.message ?? String(error) }
  }
}

const EXT_OF_MIME: Record<string, string> = {
  'application/octet-stream': 'bin',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'application/json': 'json',
}

/**
 * The MIME type of `bytes` from their signature (npm `file-type` with `@file-type/xml` for SVG and other
 * XML). Bytes no signature matches (plain text, CSV…) take `fallback`: the download's Content-Type or
 * `application/octet-stream` (variant `undetectedMimeType`; a guess).
 */
export const sniff = async (bytes: Uint8Array, fallback: string | undefined): Promise<Sniffed> => {
  const detected = bytes.length > 0 ? await parser.fromBuffer(bytes) : undefined
  if (detected) return { mimeType: detected.mime, ext: detected.ext }
  const mimeType = fallback ?? 'application/octet-stream'
  return {
    mimeType,
    ext: EXT_OF_MIME[mimeType] ?? mimeType.split('/')[1]?.replace(/[^a-z0-9]/g, '') ?? 'bin',
  }
}

/** Width and height in pixels (npm `image-size`); undefined when the bytes do not tell (e.g. an SVG without a size). */
export const dimensions = (bytes: Uint8Array): { width: number; height: number } | undefined => {
  try {
    const { width, height } = imageSize(bytes)
    return width !== undefined && height !== undefined ? { width, height } : undefined
  } catch {
    return undefined
  }
}

const MIME_OF_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  pdf: 'application/pdf',
}

/**
 * `skipDownloads` only (the benchmark): a MIME type from the URL path's extension, without reading any
 * bytes, so the emulator stays cheap beside the bridge it measures.
 */
export const guessFromUrl = (url: string, fallback: string): Sniffed => {
  const path = url.split(/[?#]/)[0] ?? ''
  const ext = /\.([a-z0-9]{1,5})$/i.exec(path)?.[1]?.toLowerCase()
  const mimeType = (ext && MIME_OF_EXT[ext]) || fallback
  return { mimeType, ext: ext && MIME_OF_EXT[ext] ? ext : (EXT_OF_MIME[fallback] ?? 'bin') }
}
