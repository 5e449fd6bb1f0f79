/**
 * The status of an import job as the bridge reads it from a status answer ([F] §1.2): the answer's body
 * parsed into a {@link JobStatus}, by a fast path for the common body ({@link quickStatus}) or by the
 * zod schema that it stands in for ({@link schemaStatus}). `classifyAnswer` (api-answer.ts) calls them
 * for a 2xx status answer.
 */

import { z } from 'zod'
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
 * gives (property-tested in job-status.test.ts). Measured: the zod parse of each status answer was ~6%
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
