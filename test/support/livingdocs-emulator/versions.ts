// API versions: which exist, which are gone, which are deprecated. [VER] §4, §10, §11.5 ([R2609]).

const DATE_VERSION = /^\d{4}-\d{2}$/

/**
 * The date version `version` answers as: itself when it is a date version (`YYYY-MM`), else `2025-03`
 * (`v1` and `beta` are equal to `2025-03`). [VER] §4
 */
export const datedVersion = (version: string): string => (DATE_VERSION.test(version) ? version : '2025-03')

/**
 * The newest released API version: `2026-09` (§11.5: the release-2026-09 notes mark it `current` and
 * `maintained`; `2026-11` was still `upcoming` in the newest stored copy).
 */
export const NEWEST_RELEASED_VERSION = '2026-09'

/** The released date versions, oldest first: every odd month from `2025-03` to `2026-09`. [VER] §4, §11.5 */
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
 * existed, e.g. the upcoming `2026-11`, is an unknown path (the generic 404 of [GS] §6).
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

/** A deprecation as the release notes announce it (§11.5, [R2609]). */
export type Deprecation = {
  /** The deprecation code the server logs, e.g. `LIDEP089-v1`. */
  code: string
  /** When the version was deprecated: the release's month, epoch seconds (RFC 9745 `@<seconds>`). */
  deprecatedAtSeconds: number
  /** The release that removes it. */
  removedIn: string
  /** The first day of that release's month, as an HTTP-date (RFC 8594 `Sunset`). */
  sunset: string
}

/**
 * The deprecations the notes announce (§11.5): `v1` and `beta` since release-2026-09 (`LIDEP089-v1`,
 * `LIDEP089-beta`), removed in release-2027-03; `2025-03` in release-2026-11 (not released yet, so not
 * deprecated by default: option `deprecatedVersions`), removed in release-2027-05. The dates are the
 * first day of each release's month (the notes name releases, not days: a guess).
 */
export const DEPRECATIONS: Record<string, Deprecation> = {
  v1: {
    code: 'LIDEP089-v1',
    deprecatedAtSeconds: 1_788_220_800,
    removedIn: 'release-2027-03',
    sunset: 'Mon, 01 Mar 2027 00:00:00 GMT',
  },
  beta: {
    code: 'LIDEP089-beta',
    deprecatedAtSeconds: 1_788_220_800,
    removedIn: 'release-2027-03',
    sunset: 'Mon, 01 Mar 2027 00:00:00 GMT',
  },
  '2025-03': {
    code: 'LIDEP-2025-03',
    deprecatedAtSeconds: 1_793_491_200,
    removedIn: 'release-2027-05',
    sunset: 'Sat, 01 May 2027 00:00:00 GMT',
  },
}

/** Versions deprecated by default: `v1` and `beta` (release-2026-09, §11.5). */
export const DEFAULT_DEPRECATED_VERSIONS = ['v1', 'beta']

/**
 * The header that announces a deprecated version in an answer (§11.5: "Requests to them answer with a
 * deprecation warning header"; its name is not given, so each standard form is a variant):
 * `deprecation` (RFC 9745, default) `Deprecation: @<seconds>`; `warning` (RFC 7234 §5.5) `Warning: 299 -
 * "<code>: …"`; `sunset` (RFC 8594) `Sunset: <HTTP-date>`.
 */
export const deprecationHeader = (
  version: string,
  form: 'deprecation' | 'warning' | 'sunset',
): Record<string, string> => {
  const d = DEPRECATIONS[version] ?? {
    code: `LIDEP-${version}`,
    deprecatedAtSeconds: 1_788_220_800,
    removedIn: 'a later release',
    sunset: 'Mon, 01 Mar 2027 00:00:00 GMT',
  }
  if (form === 'warning')
    return {
      warning: `299 - "${d.code}: API version ${version} is deprecated and will be removed in ${d.removedIn}"`,
    }
  if (form === 'sunset') return { sunset: d.sunset }
  return { deprecation: `@${d.deprecatedAtSeconds}` }
}
