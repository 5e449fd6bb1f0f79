// Options with their defaults applied. Each default plays what the docs say (README "Options").
import type { MediaKind, MediaTypeConfig } from './model.ts'
import { resolveMediaTypes } from './project-config.ts'
import type { LivingdocsEmulatorOptions } from './types.ts'
import { WRITE_SCOPE } from './types.ts'
import {
  DEFAULT_API_VERSIONS,
  DEFAULT_DEPRECATED_VERSIONS,
  NEWEST_RELEASED_VERSION,
  newestServedVersion,
} from './versions.ts'

/** The server's default `httpServer.maxRequestBodySize: '500kb'` in bytes (`bytes`: 500 × 1024). §10 */
export const DEFAULT_BODY_LIMIT_BYTES = 512_000

/** The default `uploadRestrictions.maxFileSize: '100mb'` in bytes (100 × 1024 × 1024). §10 */
export const DEFAULT_MAX_FILE_SIZE = 104_857_600

/**
 * The upload limits of each import by default, bytes (§11.6, [SC] "full mediaLibrary config (with default
 * values)", read as the `bytes` package reads them): files and videos `'100mb'`, images `'15mb'`.
 */
export const DEFAULT_UPLOAD_LIMITS: Record<MediaKind, number> = {
  file: DEFAULT_MAX_FILE_SIZE,
  image: 15_728_640,
  video: DEFAULT_MAX_FILE_SIZE,
}

/** "webp and gif images are limited to a maximum size of 10MB" (§11.6), bytes. */
export const WEBP_GIF_LIMIT = 10_485_760

/** Resolved settings (options with defaults applied). */
export type EmulatorSettings = {
  tokens: Record<string, string[]>
  token: string
  apiVersions: string[]
  removedVersions: string[]
  tooOldVersions: 410 | 404
  apiVersion: string
  maxFilesPerRequest: number
  bodyLimitBytes: number
  downloadTimeoutMs: number
  allowedMimeTypes: string[] | undefined
  /** The download limit of each import, bytes (webp and gif images: also {@link WEBP_GIF_LIMIT}). */
  uploadLimits: Record<MediaKind, number>
  /** Versions whose answers carry a deprecation header. */
  deprecatedVersions: string[]
  fileConcurrency: number
  jobDurationMs: number
  jobDurationJitterMs: number
  /** By handle. */
  mediaTypes: Map<string, MediaTypeConfig>
  webhookTimeoutMs: number
  webhookRetries: number
  webhookRetryDelayMs: number
  skipDownloads: boolean
  rateLimitPerSecond: number | undefined
}

/**
 * Applies defaults to the options.
 * @throws Error when `apiVersion` is not served or `mediaTypes` is not a valid project config
 */
export const resolveSettings = (options: LivingdocsEmulatorOptions): EmulatorSettings => {
  const token = options.token ?? Object.keys(options.tokens ?? {})[0] ?? 'emulator-token'
  const removedVersions = options.removedVersions ?? []
  const apiVersions = (options.apiVersions ?? DEFAULT_API_VERSIONS).filter(
    (v) => !removedVersions.includes(v),
  )
  // A real version by default: the newest released one while it is served (§10).
  const apiVersion =
    options.apiVersion ??
    (apiVersions.includes(NEWEST_RELEASED_VERSION)
      ? NEWEST_RELEASED_VERSION
      : newestServedVersion(apiVersions)) ??
    'v1'
  if (!apiVersions.includes(apiVersion)) {
    throw new Error(`apiVersion ${apiVersion} is not among the served versions ${apiVersions.join(', ')}`)
  }
  return {
    tokens: options.tokens ?? { [token]: [WRITE_SCOPE] },
    token,
    apiVersions,
    removedVersions,
    tooOldVersions: options.tooOldVersions ?? 410,
    apiVersion,
    maxFilesPerRequest: options.maxFilesPerRequest ?? 1000,
    bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    downloadTimeoutMs: options.downloadTimeoutMs ?? 10_000,
    allowedMimeTypes: options.allowedMimeTypes,
    uploadLimits: uploadLimitsOf(options.maxFileSize ?? options.maxFileBytes),
    deprecatedVersions: options.deprecatedVersions ?? DEFAULT_DEPRECATED_VERSIONS,
    fileConcurrency: options.fileConcurrency ?? 8,
    jobDurationMs: options.jobDurationMs ?? 0,
    jobDurationJitterMs: options.jobDurationJitterMs ?? 0,
    mediaTypes: resolveMediaTypes(options.mediaTypes),
    webhookTimeoutMs: options.webhookTimeoutMs ?? 10_000,
    webhookRetries: options.webhookRetries ?? 0,
    webhookRetryDelayMs: options.webhookRetryDelayMs ?? 500,
    skipDownloads: options.skipDownloads ?? false,
    rateLimitPerSecond: options.rateLimitPerSecond,
  }
}

/** Each import's download limit: `maxFileSize` for all when given, else the documented defaults. */
const uploadLimitsOf = (maxFileSize: number | undefined): Record<MediaKind, number> =>
  maxFileSize === undefined
    ? { ...DEFAULT_UPLOAD_LIMITS }
    : { file: maxFileSize, image: maxFileSize, video: maxFileSize }
