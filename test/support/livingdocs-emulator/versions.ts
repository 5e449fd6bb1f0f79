// API versions: which exist, which are gone. [VER] §4, §10 (data/releases.json of the docs repository).

const DATE_VERSION = /^\d{4}-\d{2}$/

/** The newest released API version (§10: `2026-07`; `2026-09` is upcoming). */
export const NEWEST_RELEASED_VERSION = '2026-07'

/** The released date versions, oldest first: every odd month from `2025-03` to `2026-07`. [VER] §4, §10 */
export const RELEASED_DATE_VERSIONS: string[] = ['2025', '2026']
  .flatMap((year) => ['01', '03', '05', '07', '09', '11'].map((month) => `${year}-${month}`))
  .filter((v) => v >= '2025-03' && v <= NEWEST_RELEASED_VERSION)

/** Default served versions: `v1` and `beta` (both equal to `2025-03`) and the released date versions. [VER] §4 */
export const DEFAULT_API_VERSIONS: string[] = ['v1', 'beta', ...RELEASED_DATE_VERSIONS]

/** How a request's `:apiVersion` is answered. */
export type VersionVerdict = 'served' | 'gone' | 'unknown'

/** Which versions are served and which answer 410, from the options. */
export type VersionPolicy = {
  apiVersions: string[]
  removedVersions: string[]
  /** A date version older than the oldest served one: 410 (gone) or 404 (unknown). */
  tooOldVersions: 410 | 404
}

/**
 * Classifies a requested version. [VER] §4: a removed version answers 410 Gone; a version that never
 * existed, e.g. the upcoming `2026-09`, is an unknown path (the generic 404 of [GS] §6).
 * @returns `served`, `gone` (410) or `unknown` (404)
 */
export const classifyVersion = (version: string, policy: VersionPolicy): VersionVerdict => {
  if (policy.removedVersions.includes(version)) return 'gone'
  if (policy.apiVersions.includes(version)) return 'served'
  const oldest = policy.apiVersions.filter((v) => DATE_VERSION.test(v)).sort()[0]
  const tooOld = DATE_VERSION.test(version) && oldest !== undefined && version < oldest
  return tooOld && policy.tooOldVersions === 410 ? 'gone' : 'unknown'
}

/** The newest served date version, else the first served version. */
export const newestServedVersion = (apiVersions: string[]): string | undefined =>
  apiVersions
    .filter((v) => DATE_VERSION.test(v))
    .sort()
    .at(-1) ?? apiVersions[0]
