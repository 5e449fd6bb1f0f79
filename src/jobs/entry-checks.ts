/**
 * The two checks of a concluded job's files against the media library ([ML] §11.1, §11.2), one file at a
 * time: the metadata update of an entry that existed (`ON_EXISTING=metadata`), and the look-up of a file
 * whose job timed out. Each call of the API holds and asks again as the bridge's other calls do
 * (`heldCall`); each returns what the file's outcome becomes.
 */

import { type ApiError, isApiError } from '../errors.ts'
import type { LibraryEntry, SetMetadataProperty } from '../import/library-entry.ts'
import {
  BYTES_NOT_REPLACED,
  CONFLICT_REASON_PREFIX,
  METADATA_REJECTED_PREFIX,
  METADATA_UNCHANGED,
  METADATA_UPDATED,
} from '../model/failure-reasons.ts'
import type { PendingFile } from '../model/files.ts'
import { isRefusal } from './api-hold.ts'
import { type HeldCallDeps, type HeldCallPolicy, heldCall } from './held-call.ts'
import { diffMetadata } from './metadata-diff.ts'

/** The media library calls the checks make (the import client's, src/import/media-library.ts). */
export interface MediaLibraryPort {
  /** `options.check`: a check at start-up, which must not spend the token file's re-read. */
  lookup(systemName: string, externalId: string, options?: { check?: boolean }): Promise<LibraryEntry[]>
  readEntry(mediaId: string): Promise<LibraryEntry>
  patchEntry(mediaId: string, patches: readonly SetMetadataProperty[], entryVersion: number): Promise<void>
}

/** Reads of an entry and PATCHes of it per update, at most: the first, and three after a 409 ([ML] §11.1). */
export const MAX_UPDATE_ATTEMPTS = 4

/** What the checks work with. */
export interface EntryCheckContext extends HeldCallDeps {
  library: MediaLibraryPort
  policy: HeldCallPolicy
}

/** What an update did to an existing entry. */
export type UpdateResult =
  /** Its metadata is the event's now (`patches` set or removed), or was already. */
  | { kind: 'updated' | 'unchanged'; reason: string; patches: number; contentChanged: boolean }
  /** An editor's change won (409 at every try, or the entry is gone), or Livingdocs refused the metadata. */
  | { kind: 'conflict' | 'rejected'; reason: string }

/** The metadata the file's import request carried (its `files[]` entry, serialised by the decoder). */
export function entryMetadata(file: PendingFile): Record<string, unknown> {
  const entry = JSON.parse(file.entry.toString('utf8')) as { metadata?: Record<string, unknown> }
  return entry.metadata ?? {}
}

/**
 * Makes the metadata of the existing entry `mediaId` the event's (`wanted`), with one PATCH checked
 * against the `version` just read ([ML] §11.1, §11.4): read, compare (`diffMetadata`), patch. A 409 (an
 * editor changed the entry since it was read) reads and compares again, up to {@link MAX_UPDATE_ATTEMPTS}
 * times; then the file is a `conflict`: the editor's change is never overwritten blindly. A 400, 413 or
 * 422 is `rejected` with the API's words; a 404 (the entry is gone) a `conflict`. A refused read or
 * PATCH (our credentials: the token needs `public-api:read` for the read) holds, it fails nothing.
 * @throws only the abort of `ctx.signal`
 */
export async function updateEntry(
  mediaId: string,
  wanted: Record<string, unknown>,
  checksumProperty: string | undefined,
  ctx: EntryCheckContext,
): Promise<UpdateResult> {
  const hold = { ...ctx.policy, refusals: 'hold' as const }
  let patched = 0
  let last: ApiError | undefined
  for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
    try {
      const entry = await heldCall('entry', () => ctx.library.readEntry(mediaId), hold, ctx)
      const { patches, contentChanged } = diffMetadata(entry.metadata, wanted, { checksumProperty })
      const tail = contentChanged ? BYTES_NOT_REPLACED : ''
      if (patches.length === 0) {
        // A PATCH of ours that answered 409 may have been applied before (an answer lost, retried).
        const kind = patched > 0 ? 'updated' : 'unchanged'
        const reason = `${patched > 0 ? METADATA_UPDATED : METADATA_UNCHANGED}${tail}`
        return { kind, reason, patches: patched, contentChanged }
      }
      patched = patches.length
      const version = entry.version as number
      await heldCall('patch', () => ctx.library.patchEntry(mediaId, patches, version), hold, ctx)
      return { kind: 'updated', reason: `${METADATA_UPDATED}${tail}`, patches: patched, contentChanged }
    } catch (err) {
      ctx.signal.throwIfAborted()
      if (!isApiError(err)) throw err
      if (err.answerClass === 'file-data')
        return { kind: 'rejected', reason: `${METADATA_REJECTED_PREFIX}${err.message}` }
      if (err.answerClass === 'entry-unknown')
        return {
          kind: 'conflict',
          reason: `${CONFLICT_REASON_PREFIX}media library entry ${mediaId} no longer exists (${err.message})`,
        }
      if (err.answerClass !== 'version-conflict') throw err
      last = err
    }
  }
  const detail = last === undefined ? '' : ` (${last.message})`
  return {
    kind: 'conflict',
    reason: `${CONFLICT_REASON_PREFIX}the entry changed in Livingdocs at each of ${MAX_UPDATE_ATTEMPTS} tries; not overwritten${detail}`,
  }
}

/** What a look-up of a timed-out job's file found. */
export type LookupResult =
  | { kind: 'found'; mediaId: string }
  | { kind: 'not-found' }
  /** The API refused the look-up (e.g. the token lacks `public-api:read`) and `refusals` was `throw`. */
  | { kind: 'refused'; err: unknown }

/**
 * Looks the file up by `systemName` + `externalId` ([ML] §11.2) after its job timed out: an entry
 * Livingdocs holds for it means its import happened. With `refusals: 'throw'` a refused look-up (our
 * credentials or configuration) gives `refused` instead of holding: the caller keeps the file's FAILED
 * `timeout`, as before the look-up existed.
 * @throws only the abort of `ctx.signal`
 */
export async function lookUpFile(
  systemName: string,
  externalId: string,
  refusals: 'hold' | 'throw',
  ctx: EntryCheckContext,
): Promise<LookupResult> {
  try {
    const entries = await heldCall(
      'lookup',
      () => ctx.library.lookup(systemName, externalId),
      { ...ctx.policy, refusals },
      ctx,
    )
    const entry = entries[0]
    return entry === undefined ? { kind: 'not-found' } : { kind: 'found', mediaId: entry.id }
  } catch (err) {
    ctx.signal.throwIfAborted()
    if (isRefusal(err)) return { kind: 'refused', err }
    throw err
  }
}
