import { STATUS_CODES } from 'node:http'
import { z } from 'zod'
import type { AnswerClass, ApiEndpoint, ErrorCode } from '../errors.ts'
import type { MediaKind } from '../model/files.ts'
import type { FileOutcome } from '../model/outcomes.ts'
import { asFileStatus, IMPORT_KINDS } from './import-kinds.ts'

/**
 * Job status, normalised: `started` while running; `success` with `files`; `failed` (the job as a whole,
 * no files); `lost` when Livingdocs does not know the id (HTTP 200 `state:"lost"` as the document import
 * documents it, [D] §7, or HTTP 404, §9).
 */
export type JobStatus =
  | { finished: false; state: 'started'; startedAt: string | undefined }
  | { finished: true; state: 'success'; files: FileOutcome[] }
  | { finished: true; state: 'failed' }
  | { finished: true; state: 'lost' }

/** The settings an operator checks when the API refuses the credentials. */
export const CHECK_CREDENTIALS = 'LIVINGDOCS_ACCESS_TOKEN or LIVINGDOCS_ACCESS_TOKEN_FILE'
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

/** What an answer means: its class, and what the bridge needs of it. */
export type AnswerReading =
  /** Submit: the job id. */
  | { class: 'accepted'; jobId: string }
  /** Status read: the job's status. */
  | { class: 'accepted'; jobStatus: JobStatus }
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

/** `{"id": ...}` of a submit ([F] §1.1); built once (building a zod schema costs more than a parse). */
const submitBody = z.looseObject({ id: z.union([z.string().min(1), z.number()]).transform(String) })

/**
 * One per-file item of a finished job ([F] §1.2, [GIT], [PR1209]). Optional fields may be `null`
 * (`.nullish()`) and unknown keys are kept: the docs forbid neither.
 */
const fileItem = z.looseObject({
  state: z.string().nullish(),
  status: z.string().nullish(),
  externalId: z.union([z.string(), z.number()]).transform(String),
  systemName: z.string().nullish(),
  mediaId: z.string().nullish(),
  reason: z.string().nullish(),
})

/** A job status ([F] §1.2): `finished` and `state` are required, the rest may be absent or `null`. */
const statusBody = z.looseObject({
  finished: z.boolean(),
  state: z.string(),
  id: z.union([z.string(), z.number()]).nullish(),
  startedAt: z.string().nullish(),
  files: z.array(fileItem).nullish(),
})

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
 * Classifies one final answer of the import API, for both endpoints, and reads what the bridge needs
 * of it (pure). The one rule behind every answer ([GS] §6, [VER] §4, [F] §1, §5; RFC 9110 §15):
 *
 * | answer | submit | status read |
 * |---|---|---|
 * | 2xx, JSON of the documented shape | `accepted` (the job id; any 2xx, not only 200) | `accepted` (`lost` → `job-unknown`) |
 * | 2xx, JSON of another shape, or empty | `unreadable` | `unreadable` |
 * | 2xx, not JSON (an HTML page) | `configuration` | `configuration` |
 * | 1xx as the final answer, 3xx (redirects are not followed) | `configuration` | `configuration` |
 * | 401, 403 | `credentials` | `credentials` |
 * | 404 | `configuration` | `job-unknown` |
 * | 405, 406, 410, 415 | `configuration` | `configuration` |
 * | 408, 425 | `retry` | `retry` |
 * | 429 with `Retry-After` | `retry` | `retry` |
 * | 429 without `Retry-After` (the plan's usage limit, [F] §5) | `quota` | `retry` |
 * | another 4xx (400, 409, 413, 422, …) | `batch-data` (several files) or `file-data` (one) | `configuration` |
 * | 501, 505, 511 | `configuration` | `configuration` |
 * | another 5xx | `retry` | `retry` |
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
    if (endpoint === 'submit') {
      const parsed = submitBody.safeParse(value)
      if (parsed.success) return { class: 'accepted', jobId: parsed.data.id }
      return fail('unreadable', 'API_INVALID_RESPONSE', {
        shape: bodyShape(value),
        detail: 'an answer without a job id',
      })
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
  if (status === 401) return fail('credentials', 'API_UNAUTHORIZED', { setting: CHECK_CREDENTIALS })
  if (status === 403) return fail('credentials', 'API_FORBIDDEN', { setting: CHECK_CREDENTIALS })
  if (status === 404) {
    if (endpoint === 'status') return { class: 'job-unknown' }
    return fail('configuration', 'API_NOT_FOUND', { setting: CHECK_LOCATION })
  }
  if (status === 410) return fail('configuration', 'API_VERSION_GONE', { setting: CHECK_VERSION })
  if (status === 405 || status === 406 || status === 415) return unexpected()
  if (status === 408 || status === 425) return fail('retry', 'API_NETWORK_ERROR')
  if (status === 429) {
    if (isQuotaAnswer(status, answer.retryAfterMs, endpoint)) return fail('quota', 'API_QUOTA_EXCEEDED')
    return fail('retry', 'API_RATE_LIMITED')
  }
  if (status >= 400 && status < 500) {
    if (endpoint === 'status') return unexpected()
    return fail((answer.files ?? 1) > 1 ? 'batch-data' : 'file-data', 'API_BAD_REQUEST')
  }
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
 * The job status the status schema reads in a parsed status answer of the `kind` import (zod; what
 * {@link quickStatus} stands in for). @returns undefined when the body is of an unknown shape
 */
export function schemaStatus(value: unknown, kind: MediaKind): JobStatus | undefined {
  const parsed = statusBody.safeParse(asFileStatus(value, kind))
  return parsed.success ? normaliseStatus(parsed.data) : undefined
}

/**
 * Normalises a parsed status ([F] §1.2): the per-file key (`state`, or the older `status`, [GIT]) and
 * success value (`imported`, or `success`, [PR1209]) become `imported`. @returns undefined for a
 * finished job of a state other than `success` or `failed` that lists no files (nothing to go on)
 */
function normaliseStatus(body: z.infer<typeof statusBody>): JobStatus | undefined {
  return jobStatusOf(body.finished, body.state, body.startedAt, body.files ?? [], (item) =>
    fileOutcome(item.externalId, item.systemName, item.state ?? item.status, item.mediaId, item.reason),
  )
}

/**
 * The job status of a status body's fields (see {@link normaliseStatus}); `outcomeOf` makes each item's
 * result, and is only called for a finished job.
 */
function jobStatusOf<T>(
  finished: boolean,
  state: string,
  startedAt: string | null | undefined,
  items: readonly T[],
  outcomeOf: (item: T) => FileOutcome,
): JobStatus | undefined {
  if (state === 'lost') return { finished: true, state: 'lost' }
  if (!finished) return { finished: false, state: 'started', startedAt: startedAt ?? undefined }
  if (items.length === 0) {
    if (state === 'failed') return { finished: true, state: 'failed' }
    if (state !== 'success') return undefined
  }
  return { finished: true, state: 'success', files: items.map(outcomeOf) }
}

/** One item's result: its state (`state` or `status`) normalised, an unknown one FAILED naming it. */
function fileOutcome(
  externalId: string,
  systemName: string | null | undefined,
  rawState: string | null | undefined,
  mediaId: string | null | undefined,
  reason: string | null | undefined,
): FileOutcome {
  const raw = (rawState ?? '').toLowerCase()
  const state =
    raw === 'skipped' ? 'skipped' : raw === 'imported' || raw === 'success' ? 'imported' : 'failed'
  return {
    externalId,
    systemName: systemName ?? undefined,
    state,
    mediaId: mediaId ?? undefined,
    reason:
      reason ?? (state === 'failed' && raw !== 'failed' ? `unknown per-file state "${raw}"` : undefined),
  }
}

const isNullishString = (v: unknown): v is string | null | undefined =>
  v === undefined || v === null || typeof v === 'string'

/**
 * {@link statusBody}'s parse of {@link asFileStatus}'s body and {@link normaliseStatus} without zod, for
 * the common case: a status whose every field is plainly of its type. Anything else gives undefined,
 * and the schema then decides; so this only has to accept nothing the schema refuses and give what it
 * gives (property-tested in api-answer.test.ts). Measured: the zod parse of each status answer was ~6%
 * of the bridge's allocations in the instant bench (one object per item and field check).
 */
export function quickStatus(value: unknown, kind: MediaKind): JobStatus | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const body = value as Record<string, unknown>
  const { finished, state, id, startedAt } = body
  if (typeof finished !== 'boolean' || typeof state !== 'string' || !isNullishString(startedAt))
    return undefined
  if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') return undefined
  const { itemsKey, nestedKey } = IMPORT_KINDS[kind]
  // Images and videos: a `files` key of their own, or items that are not a list, are left to the schema.
  if (nestedKey !== undefined && body.files !== undefined) return undefined
  const items = body[itemsKey]
  if (items !== undefined && items !== null && !Array.isArray(items)) return undefined
  const list: readonly unknown[] = items ?? []
  for (const item of list) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined
    const i = item as Record<string, unknown>
    if (typeof i.externalId !== 'string' && typeof i.externalId !== 'number') return undefined
    if (
      !isNullishString(i.state) ||
      !isNullishString(i.status) ||
      !isNullishString(i.systemName) ||
      !isNullishString(i.reason) ||
      !isNullishString(mediaIdOf(i, nestedKey))
    )
      return undefined
  }
  return jobStatusOf(finished, state, startedAt, list as readonly Record<string, unknown>[], (i) =>
    fileOutcome(
      String(i.externalId),
      i.systemName as string | null | undefined,
      (i.state ?? i.status) as string | null | undefined,
      mediaIdOf(i, nestedKey) as string | null | undefined,
      i.reason as string | null | undefined,
    ),
  )
}

/** An item's `mediaId`: its own, else the nested `image`/`video` object's ({@link asFileStatus}). */
function mediaIdOf(item: Record<string, unknown>, nestedKey: 'image' | 'video' | undefined): unknown {
  const own = item.mediaId
  if (own !== undefined || nestedKey === undefined) return own
  return (item[nestedKey] as { mediaId?: unknown } | null | undefined)?.mediaId
}
