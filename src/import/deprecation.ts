/**
 * Deprecation notices in the Livingdocs API's answers. Since release-2026-09, requests to the deprecated
 * versions `v1` and `beta` "answer with a deprecation warning header" whose name the notes do not give
 * (§11.5, [R2609]); `2025-03` follows in release-2026-11 and is removed in release-2027-05. So every
 * standard form of the kind is read, not one guessed name:
 *
 * - `Deprecation` (RFC 9745): a structured-field Date, `@<epoch seconds>`; the drafts before it sent
 *   `true` or an HTTP-date, read as well;
 * - `Sunset` (RFC 8594): the HTTP-date after which the resource may stop answering;
 * - `Warning` (RFC 7234 §5.5, obsoleted by RFC 9111 but still sent): `<code> <agent> "<text>"`, read as a
 *   deprecation when its text names one (`deprecat…`, `sunset`, a `LIDEP…` code);
 * - any other header whose name says `deprecation` (`X-API-Deprecation`, `X-Deprecation-Warning`, …);
 * - with any of them, a `Link` with `rel="deprecation"` or `rel="sunset"` (RFC 9745 §3, RFC 8594 §3)
 *   is kept as the place to read more.
 */

import type { ApiEndpoint } from '../errors.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'

/** How a response announced the deprecation. */
export type DeprecationForm = 'deprecation' | 'sunset' | 'warning' | 'other'
const DEPRECATION_FORMS: readonly DeprecationForm[] = ['deprecation', 'sunset', 'warning', 'other']

/** What one response said about the deprecation of the API version it answered. */
export interface DeprecationNotice {
  /** The forms it used, in the order of {@link DEPRECATION_FORMS}. */
  forms: DeprecationForm[]
  /** The headers that said so, name → value (each value at most 300 characters). */
  headers: Record<string, string>
  /** When the version is (or was) deprecated, epoch ms, if a `Deprecation` date said. */
  deprecatedAt: number | undefined
  /** When it may stop answering, epoch ms, if a `Sunset` date said. */
  sunsetAt: number | undefined
}

type Headers = Record<string, string | string[] | undefined>

const first = (value: string | string[] | undefined): string | undefined =>
  (Array.isArray(value) ? value.join(', ') : value)?.trim() || undefined

/** An RFC 9745 Date (`@1688169599`), or a draft's HTTP-date; epoch ms, or undefined. */
function deprecationDate(value: string): number | undefined {
  const sf = /^@(-?\d{1,15})$/.exec(value)
  if (sf !== null) return Number(sf[1]) * 1000
  return httpDate(value)
}

/** An HTTP-date (RFC 9110 §5.6.7), epoch ms, or undefined. */
function httpDate(value: string): number | undefined {
  if (!/[a-z]/i.test(value)) return undefined
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : at
}

const DEPRECATION_TEXT = /deprecat|sunset|\bLIDEP\d+/i

/**
 * Reads the deprecation notice of one response's headers (undici's: lower-case names).
 * @returns the notice, or undefined when the response announces none (a `Deprecation: false` or `?0`
 *   announces none either)
 */
export function readDeprecation(headers: Headers): DeprecationNotice | undefined {
  const said: Record<string, string> = {}
  const forms = new Set<DeprecationForm>()
  const note = (form: DeprecationForm, name: string, value: string) => {
    forms.add(form)
    said[name] = value.length > 300 ? `${value.slice(0, 299)}…` : value
  }
  const deprecation = first(headers.deprecation)
  if (deprecation !== undefined && !/^(false|\?0)$/i.test(deprecation))
    note('deprecation', 'deprecation', deprecation)
  const sunset = first(headers.sunset)
  if (sunset !== undefined) note('sunset', 'sunset', sunset)
  const warning = first(headers.warning)
  if (warning !== undefined && DEPRECATION_TEXT.test(warning)) note('warning', 'warning', warning)
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'deprecation' || !/deprecat/i.test(name)) continue
    const text = first(value)
    if (text !== undefined) note('other', name, text)
  }
  if (forms.size === 0) return undefined
  const link = first(headers.link)
  if (link !== undefined && /rel="?(deprecation|sunset)"?/i.test(link)) said.link = link
  return {
    forms: DEPRECATION_FORMS.filter((f) => forms.has(f)),
    headers: said,
    deprecatedAt: deprecation === undefined ? undefined : deprecationDate(deprecation),
    sunsetAt: sunset === undefined ? undefined : httpDate(sunset),
  }
}

/**
 * The reporter of deprecation notices for the client of API version `version`: every answer that
 * carries one counts in `bridge_api_deprecation_notices_total{version}`; the first per version is
 * logged once, at warn, with the headers that said so and what to do (move `LIVINGDOCS_API_VERSION`
 * before the version answers 410 Gone).
 * @returns `report(endpoint, headers)`, called with every answer's headers
 */
export function createDeprecationReporter(
  version: string,
  deps: { metrics: Metrics; logger?: Logger | undefined },
): (endpoint: ApiEndpoint, headers: Headers) => void {
  // Whether this version's deprecation was logged: once per reporter (every such answer is still counted).
  let logged = false
  // The series exists from the start (0), for dashboards and alerts.
  deps.metrics.apiDeprecationNotices.inc({ version }, 0)
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())
  return (endpoint, headers) => {
    const notice = readDeprecation(headers)
    if (notice === undefined) return
    deps.metrics.apiDeprecationNotices.inc({ version })
    if (logged) return
    logged = true
    deps.logger?.warn(
      {
        apiVersion: version,
        endpoint,
        forms: notice.forms,
        headers: notice.headers,
        deprecatedAt: iso(notice.deprecatedAt),
        sunsetAt: iso(notice.sunsetAt),
      },
      `Livingdocs announces API version ${version} as deprecated: set LIVINGDOCS_API_VERSION to a maintained version before it is removed (every request then answers 410 Gone)`,
    )
  }
}
