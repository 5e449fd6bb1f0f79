/**
 * The media library calls of the Livingdocs client ([ML] §11.1, §11.2): look an entry up by
 * `systemName` + `externalId`, read one by `mediaId`, and change its metadata with one PATCH checked
 * against its `version`. They go through the import client's own request function (`createImportClient`):
 * the same connection pool, retries, rate limit (`API_RATE_LIMIT_PER_SECOND`), token and metrics.
 */

import type { ApiEndpoint } from '../errors.ts'
import { answerError, type CallAnswer } from './api-answer.ts'
import { type LibraryEntry, patchBody, type SetMetadataProperty } from './library-entry.ts'

/** One request of the client with its retries, and its final answer classified. */
export type ApiCall = (
  endpoint: ApiEndpoint,
  method: 'GET' | 'PATCH',
  path: string,
  body?: Buffer,
  more?: { rereadToken?: boolean | undefined },
) => Promise<CallAnswer>

/**
 * The endpoint a request of the client is, from its method and path (for the per-attempt metrics,
 * which see only the request): POST → `submit`, PATCH → `patch`, GET of `/mediaLibrary?…` → `lookup`,
 * of `/mediaLibrary/{id}` → `entry`, any other GET → `status`.
 */
export function endpointOfRequest(method: string | undefined, path: string | undefined): ApiEndpoint {
  if (method === 'POST') return 'submit'
  if (method === 'PATCH') return 'patch'
  if (path?.includes('/mediaLibrary?')) return 'lookup'
  if (path?.includes('/mediaLibrary/')) return 'entry'
  return 'status'
}

/**
 * The media library calls over `call`, under `apiPath` (`<base path>/api/<version>`).
 * Each throws an `ApiError` whose `answerClass` says what a refused answer means (`classifyAnswer`).
 */
export function mediaLibraryCalls(call: ApiCall, apiPath: string) {
  const libraryPath = `${apiPath}/mediaLibrary`
  return {
    /**
     * The entries of `systemName` + `externalId`: `GET …/mediaLibrary?systemName=&externalId=` ([ML]
     * §11.2; scope `public-api:read`). The parameter is `externalId` as the prose, the parameter table
     * and the example name it (the OpenAPI block says `externalIds`). Only entries that carry this
     * `externalId` (and this `systemName`, when they name one) are kept: a server that ignored the
     * filter must not make another file's entry pass for this one. A 404 is read as none.
     * @param options.check a check (the start-up look-up): a 401/403 does not re-read the token file
     * @throws ApiError for any other answer than a list
     */
    async lookup(
      systemName: string,
      externalId: string,
      options: { check?: boolean } = {},
    ): Promise<LibraryEntry[]> {
      const query = `systemName=${encodeURIComponent(systemName)}&externalId=${encodeURIComponent(externalId)}`
      const more = options.check === true ? { rereadToken: false } : {}
      const answer = await call('lookup', 'GET', `${libraryPath}?${query}`, undefined, more)
      const { reading } = answer
      if (reading.class === 'entry-unknown') return []
      if (!('entries' in reading)) throw answerError('lookup', answer)
      return reading.entries.filter(
        (e) => e.externalId === externalId && (e.systemName === undefined || e.systemName === systemName),
      )
    },

    /**
     * The entry `mediaId` with its `version` and metadata: `GET …/mediaLibrary/{id}` ([ML] §11.2;
     * scope `public-api:read`).
     * @throws ApiError (`entry-unknown` for a 404)
     */
    async readEntry(mediaId: string): Promise<LibraryEntry> {
      const answer = await call('entry', 'GET', `${libraryPath}/${encodeURIComponent(mediaId)}`)
      if ('entry' in answer.reading) return answer.reading.entry
      throw answerError('entry', answer)
    },

    /**
     * Applies `patches` to the entry `mediaId` in one request, checked against `entryVersion` ([ML]
     * §11.1): `PATCH …/mediaLibrary/{id}` with `{version, patches}`.
     * @throws ApiError: `version-conflict` (409) when the entry changed since it was read,
     *   `file-data` (400, 413, 422) when Livingdocs refuses the metadata, `entry-unknown` (404)
     */
    async patchEntry(mediaId: string, patches: readonly SetMetadataProperty[], entryVersion: number) {
      const path = `${libraryPath}/${encodeURIComponent(mediaId)}`
      const answer = await call('patch', 'PATCH', path, patchBody(patches, entryVersion))
      if (!('patched' in answer.reading)) throw answerError('patch', answer)
    },
  }
}
