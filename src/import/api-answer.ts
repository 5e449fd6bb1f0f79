import { STATUS_CODES } from 'node:http'
import { z } from 'zod'
import { type AnswerClass, type ApiEndpoint, ApiError, type ErrorCode } from '../errors.ts'
import type { MediaKind } from '../model/files.ts'
import { type JobStatus, quickStatus, schemaStatus } from './job-status.ts'
import { type LibraryEntry, readEntries, readEntry } from './library-entry.ts'

/** The settings an operator checks when the API refuses the credentials. */
export const CHECK_CREDENTIALS = 'LIVINGDOCS_ACCESS_TOKEN or LIVINGDOCS_ACCESS_TOKEN_FILE'
/**
 * What to check when the API refuses a read of the media library: the token needs `public-api:read`
 * besides `public-api:write` ([ML] §3, §11.2).
 */
export const CHECK_READ_SCOPE = `${CHECK_CREDENTIALS}: the token needs the scope public-api:read too`
/** The settings an operator checks when the API is not where the bridge asks. */
export const CHECK_LOCATION = 'LIVINGDOCS_BASE_URL and LIVINGDOCS_API_VERSION'
/** The setting an operator checks for a removed API version ([VER] §4). */
export const CHECK_VERSION = 'LIVINGDOCS_API_VERSION'

/** Longest text of the API kept in an error message or a FAILED reason, characters. */
export const MAX_API_TEXT_CHARS = 300

/** One final answer of the import API, as it came (after the client's retries). */
export interface RawAnswer {
  endpoint: ApiEndpoint
  /** HTTP status of the final answer. */
  status: number
  /** The body as text ('' when empty). */
  text: string
  /** The answer's `Retry-After` in ms (429 and 503 only), or undefined. */
  retryAfterMs?: number | undefined
  /** The `Location` header of a redirect, or undefined. */
  location?: string | undefined
  /** Submit: the number of files the request carried (decides `batch-data` or `file-data`). */
  files?: number | undefined
  /** Status: the import the job runs in; images and videos nest their items' results (default `file`). */
  kind?: MediaKind | undefined
}

/** The media library's endpoints ([ML] §11.1, §11.2). */
const LIBRARY_ENDPOINTS: ReadonlySet<ApiEndpoint> = new Set(['lookup', 'entry', 'patch'])

/** What an answer means: its class, and what the bridge needs of it. */
export type AnswerReading =
  /** Submit: the job id. */
  | { class: 'accepted'; jobId: string }
  /** Status read: the job's status. */
  | { class: 'accepted'; jobStatus: JobStatus }
  /** Look-up: the entries of the `systemName` + `externalId` (none when none matched). */
  | { class: 'accepted'; entries: LibraryEntry[] }
  /** Read by `mediaId`: the entry, with its `version`. */
  | { class: 'accepted'; entry: LibraryEntry }
  /** Patch: Livingdocs applied it (its answer carries nothing more, [ML] §11.1). */
  | { class: 'accepted'; patched: true }
  /** Status read: the job is not known (404, or `state: "lost"`). */
  | { class: 'job-unknown' }
  /** Anything else: the error to raise. */
  | {
      class: Exclude<AnswerClass, 'accepted' | 'job-unknown'>
      code: ErrorCode
      retryable: boolean
      /** `<endpoint> answered HTTP <status>: <the API's own text>`, bounded. */
      message: string
      /** `credentials` and `configuration`: the settings to check. */
      setting?: string
      /** `unreadable`: the body's keys and types (never its values). */
      shape?: string
    }

/**
 * One request's final answer, after the client's retries: its reading ({@link classifyAnswer}), its HTTP
 * status, and the `Retry-After` of a 429 or 503 in ms (undefined otherwise).
 */
export type CallAnswer = { reading: AnswerReading; status: number; retryAfterMs: number | undefined }

/** `{"id": ...}` of a submit ([F] §1.1); built once (building a zod schema costs more than a parse). */
const submitBody = z.looseObject({ id: z.union([z.string().min(1), z.number()]).transform(String) })

/**
 * A submit's 429 without `Retry-After` is the plan's usage limit ([F] §5): the submit queue backs off
 * for minutes (class `quota`), and the client does not retry it within seconds (`retry-policy.ts`).
 */
export function isQuotaAnswer(
  status: number,
  retryAfterMs: number | undefined,
  endpoint: ApiEndpoint,
): boolean {
  return status === 429 && retryAfterMs === undefined && endpoint === 'submit'
}

/**
 * Classifies one final answer of the Livingdocs API, for every endpoint it calls, and reads what the
 * bridge needs of it (pure). The one rule behind every answer ([GS] §6, [VER] §4, [F] §1, §5, [ML]
 * §11.1, §11.2; RFC 9110 §15): only the file's own data earns `file-data`; an answer about our account,
 * credentials, configuration or the way between holds; a hiccup retries.
 *
 * | answer | submit | status read | `lookup`, `entry` | `patch` |
 * |---|---|---|---|---|
 * | 2xx, JSON of the documented shape | `accepted` (the job id; any 2xx, not only 200) | `accepted` (`lost` → `job-unknown`) | `accepted` (entries in each version's shape; an entry with its `version`) | `accepted` (any JSON, or empty) |
 * | 2xx, JSON of another shape, or empty | `unreadable` | `unreadable` | `unreadable` | — |
 * | 2xx, not JSON (an HTML page) | `configuration` | `configuration` | `configuration` | `configuration` |
 * | 1xx as the final answer, 3xx (redirects are not followed) | `configuration` | `configuration` | `configuration` | `configuration` |
 * | 401, 403 | `credentials` | `credentials` | `credentials` (the scope `public-api:read`) | `credentials` |
 * | 402 (the account's payment) | `quota` | `quota` | `quota` | `quota` |
 * | 404 | `configuration` | `job-unknown` | `entry-unknown` | `entry-unknown` |
 * | 408, 423, 424, 425 | `retry` | `retry` | `retry` | `retry` |
 * | 429 with `Retry-After` | `retry` | `retry` | `retry` | `retry` |
 * | 429 without `Retry-After` (the plan's usage limit, [F] §5) | `quota` | `retry` | `retry` | `retry` |
 * | 400, 413, 422 | `batch-data` (several files) or `file-data` (one) | `configuration` | `configuration` | `file-data` |
 * | 409 | `batch-data` or `file-data` | `configuration` | `configuration` | `version-conflict` |
 * | 410 | `configuration` (`LIVINGDOCS_API_VERSION`) | the same | the same | the same |
 * | any other 4xx (405, 406, 407, 411, 412, 414, 415, 417, 421, 426, 428, 431, 451, …) | `configuration` | `configuration` | `configuration` | `configuration` |
 * | 501, 505, 511 | `configuration` | `configuration` | `configuration` | `configuration` |
 * | another 5xx | `retry` | `retry` | `retry` | `retry` |
 *
 * The body only matters for a 2xx (its shape) and for the message: the API's own text is kept
 * whatever the shape (`error`, `error_details`, `message`, plain text), at most
 * {@link MAX_API_TEXT_CHARS} characters.
 */
export function classifyAnswer(answer: RawAnswer): AnswerReading {
  const { endpoint, status } = answer
  const body = parseBody(answer.text)
  const fail = (
    cls: Exclude<AnswerClass, 'accepted' | 'job-unknown'>,
    code: ErrorCode,
    extra: { setting?: string; shape?: string; detail?: string } = {},
  ): AnswerReading => {
    const text = extra.detail ?? apiText(body)
    return {
      class: cls,
      code,
      retryable: cls === 'retry' || cls === 'quota' || cls === 'unreadable',
      message: `${endpoint} answered HTTP ${status}${text === undefined ? '' : `: ${text}`}`,
      ...(extra.setting === undefined ? {} : { setting: extra.setting }),
      ...(extra.shape === undefined ? {} : { shape: extra.shape }),
    }
  }
  const phrase = STATUS_CODES[status]
  const unexpected = () =>
    fail('configuration', 'API_UNEXPECTED_ANSWER', {
      setting: CHECK_LOCATION,
      ...(apiText(body) === undefined && phrase !== undefined ? { detail: phrase } : {}),
    })

  if (status >= 200 && status < 300) {
    if (body.kind === 'text') {
      return fail('configuration', 'API_UNEXPECTED_ANSWER', {
        setting: CHECK_LOCATION,
        detail: `a body that is not JSON (${bound(body.text)})`,
      })
    }
    const value = body.kind === 'json' ? body.value : undefined
    const unreadable = (detail: string) =>
      fail('unreadable', 'API_INVALID_RESPONSE', { shape: bodyShape(value), detail })
    switch (endpoint) {
      case 'submit': {
        const parsed = submitBody.safeParse(value)
        if (parsed.success) return { class: 'accepted', jobId: parsed.data.id }
        return unreadable('an answer without a job id')
      }
      case 'lookup': {
        const entries = readEntries(value)
        return entries === undefined
          ? unreadable('a look-up of an unknown shape')
          : { class: 'accepted', entries }
      }
      case 'entry': {
        const entry = readEntry(value)
        return entry === undefined
          ? unreadable('an entry without id or version')
          : { class: 'accepted', entry }
      }
      case 'patch':
        return { class: 'accepted', patched: true }
    }
    const kind = answer.kind ?? 'file'
    const jobStatus = quickStatus(value, kind) ?? schemaStatus(value, kind)
    if (jobStatus === undefined) {
      return fail('unreadable', 'API_INVALID_RESPONSE', {
        shape: bodyShape(value),
        detail: 'a job status of an unknown shape',
      })
    }
    if (jobStatus.state === 'lost') return { class: 'job-unknown' }
    return { class: 'accepted', jobStatus }
  }
  if (status >= 300 && status < 400) {
    return fail('configuration', 'API_UNEXPECTED_ANSWER', {
      setting: CHECK_LOCATION,
      detail: `a redirect${answer.location === undefined ? '' : ` to ${bound(answer.location)}`}, not followed`,
    })
  }
  const library = LIBRARY_ENDPOINTS.has(endpoint)
  if (status === 401 || status === 403) {
    const reads = endpoint === 'lookup' || endpoint === 'entry'
    const setting = reads ? CHECK_READ_SCOPE : CHECK_CREDENTIALS
    return fail('credentials', status === 401 ? 'API_UNAUTHORIZED' : 'API_FORBIDDEN', { setting })
  }
  if (status === 402) return fail('quota', 'API_PAYMENT_REQUIRED')
  if (status === 404) {
    if (endpoint === 'status') return { class: 'job-unknown' }
    if (library) return fail('entry-unknown', 'API_NOT_FOUND')
    return fail('configuration', 'API_NOT_FOUND', { setting: CHECK_LOCATION })
  }
  if (status === 410) return fail('configuration', 'API_VERSION_GONE', { setting: CHECK_VERSION })
  if (status === 408 || status === 423 || status === 424 || status === 425)
    return fail('retry', 'API_NETWORK_ERROR')
  if (status === 429) {
    if (isQuotaAnswer(status, answer.retryAfterMs, endpoint)) return fail('quota', 'API_QUOTA_EXCEEDED')
    return fail('retry', 'API_RATE_LIMITED')
  }
  if (status === 400 || status === 409 || status === 413 || status === 422) {
    if (endpoint === 'submit')
      return fail((answer.files ?? 1) > 1 ? 'batch-data' : 'file-data', 'API_BAD_REQUEST')
    if (endpoint === 'patch')
      return status === 409 ? fail('version-conflict', 'API_CONFLICT') : fail('file-data', 'API_BAD_REQUEST')
    return unexpected()
  }
  // Any other 4xx is about the request as the client makes it or the way to the API (a proxy's 407, a
  // 421, a 431, a 451…), never about a file: hold and name the settings, do not fail files.
  if (status >= 400 && status < 500) return unexpected()
  if (status === 501 || status === 505 || status === 511) return unexpected()
  if (status >= 500 && status < 600) return fail('retry', 'API_SERVER_ERROR')
  // 1xx as a final answer (undici handles informational answers itself), or no valid status at all.
  return unexpected()
}

type Body = { kind: 'empty' } | { kind: 'json'; value: unknown } | { kind: 'text'; text: string }

function parseBody(text: string): Body {
  if (text.trim() === '') return { kind: 'empty' }
  try {
    return { kind: 'json', value: JSON.parse(text) as unknown }
  } catch {
    return { kind: 'text', text }
  }
}

/** `text` in one line, tags of an HTML page removed, at most {@link MAX_API_TEXT_CHARS} characters. */
function bound(text: string): string {
  const line = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  return line.length > MAX_API_TEXT_CHARS ? `${line.slice(0, MAX_API_TEXT_CHARS - 1)}…` : line
}

/**
 * The API's own words in an error body, whatever its shape ([GS] §6: `{status, error, error_details}`;
 * also a bare `error`, a `message`, a JSON string or plain text), in one bounded line; undefined when
 * the body says nothing.
 */
function apiText(body: Body): string | undefined {
  if (body.kind === 'empty') return undefined
  if (body.kind === 'text') return bound(body.text) || undefined
  const value = body.value
  if (typeof value === 'string') return bound(value) || undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const o = value as Record<string, unknown>
  const parts: string[] = []
  for (const key of ['error', 'message']) if (typeof o[key] === 'string') parts.push(o[key] as string)
  const details = o.error_details ?? o.errors ?? o.details
  if (typeof details === 'string') parts.push(details)
  else if (details !== null && typeof details === 'object') {
    for (const [k, v] of Object.entries(details))
      parts.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
  }
  const text = bound(parts.join('; '))
  return text === '' ? undefined : text
}

/**
 * The shape of a JSON value without its values, for logs: `{finished: boolean, files: array(2) of
 * {externalId: string}}`; three levels deep, at most {@link MAX_API_TEXT_CHARS} characters.
 */
export function bodyShape(value: unknown, depth = 3): string {
  const shape = (v: unknown, d: number): string => {
    if (v === null) return 'null'
    if (Array.isArray(v))
      return d <= 0 || v.length === 0 ? `array(${v.length})` : `array(${v.length}) of ${shape(v[0], d - 1)}`
    if (typeof v === 'object') {
      if (d <= 0) return 'object'
      return `{${Object.entries(v as Record<string, unknown>)
        .map(([k, inner]) => `${k}: ${shape(inner, d - 1)}`)
        .join(', ')}}`
    }
    return typeof v
  }
  const text = value === undefined ? 'empty' : shape(value, depth)
  return text.length > MAX_API_TEXT_CHARS ? `${text.slice(0, MAX_API_TEXT_CHARS - 1)}…` : text
}

/**
 * The error to raise for an answer the caller cannot use (anything but what it asked for): an
 * {@link ApiError} whose `answerClass` says what the answer means; an answer accepted but of another
 * kind than asked counts as `unreadable`.
 */
export function answerError(endpoint: ApiEndpoint, { reading, status, retryAfterMs }: CallAnswer): ApiError {
  if (!('code' in reading))
    return new ApiError('API_INVALID_RESPONSE', `${endpoint}: a ${reading.class} answer`, {
      endpoint,
      status,
      answerClass: 'unreadable',
    })
  return new ApiError(
    reading.code,
    reading.message,
    { endpoint, status, retryAfterMs, answerClass: reading.class, setting: reading.setting },
    { retryable: reading.retryable, context: reading.shape === undefined ? {} : { shape: reading.shape } },
  )
}
