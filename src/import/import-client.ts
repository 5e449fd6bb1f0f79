import PQueue from 'p-queue'
import { interceptors, Pool } from 'undici'
import { z } from 'zod'
import { type ApiEndpoint, ApiError, type ErrorCode } from '../errors.ts'
import type { Metrics } from '../metrics.ts'
import type { FileOutcome, MediaKind } from '../pipeline/types.ts'
import { countAttempts } from './count-attempts.ts'
import { asFileStatus, IMPORT_KINDS } from './import-kinds.ts'
import { type ImportRequest, importRequestBody } from './import-request.ts'
import { createRetryOptions, parseRetryAfter } from './retry-policy.ts'

/**
 * Job status, normalised: `started` while running; `success` with `files`; `failed` (the job as a whole,
 * no files); `lost` when Livingdocs does not know the id (HTTP 200 `state:"lost"` as the document import
 * documents it, or HTTP 404).
 */
export type JobStatus =
  | { finished: false; state: 'started'; startedAt: string | undefined }
  | { finished: true; state: 'success'; files: FileOutcome[] }
  | { finished: true; state: 'failed' }
  | { finished: true; state: 'lost' }

/** Options of {@link createImportClient}. */
export interface ImportClientOptions {
  /** e.g. `https://server.livingdocs.io` (no trailing slash). */
  baseUrl: string
  /** API version path segment, e.g. `2026-07` ([VER] §4). */
  apiVersion: string
  /** Bearer token with scope `public-api:write` ([GS] §3). */
  accessToken: string
  /** Per attempt: headers and body must arrive within this, ms. */
  requestTimeoutMs: number
  /** Retries for network errors, 429 and 5xx, with exponential backoff honouring Retry-After. */
  maxRetries: number
  /** Connections to the API origin. */
  connections?: number
  /** Backoff of the first retry, ms (doubles each time, with jitter, capped by maxBackoffMs). Default 500. */
  minBackoffMs?: number
  /**
   * Longest wait between two attempts, ms, and the longest `Retry-After` waited for inside the client;
   * a longer one ends the retries (the error then carries `context.retryAfterMs`). Default 30000.
   */
  maxBackoffMs?: number
  /** Most requests started per second, in a sliding window (0 or undefined: no limit). */
  rateLimitPerSecond?: number
  /** Random source in [0, 1) for the backoff jitter (tests). */
  random?: () => number
}

const errorBody = z.looseObject({
  status: z.number().optional(),
  error: z.string().optional(),
  error_details: z.unknown(),
})

/** `200 {"id": ...}` of a submit; built once (building a zod schema costs more than a parse). */
const submitResponse = z.object({ id: z.union([z.string().min(1), z.number()]).transform(String) })

const fileItem = z.looseObject({
  state: z.string().optional(),
  status: z.string().optional(),
  externalId: z.union([z.string(), z.number()]).transform(String),
  systemName: z.string().optional(),
  mediaId: z.string().nullish(),
  reason: z.string().nullish(),
})

const statusBody = z.looseObject({
  finished: z.boolean(),
  state: z.string(),
  id: z.string().optional(),
  startedAt: z.string().optional(),
  files: z.array(fileItem).optional(),
})

/**
 * Client of the Livingdocs file import API ([F] §1): `submit` starts an import job, `status` reads it.
 * Built on an undici Pool with undici's retry interceptor and the policy of `createRetryOptions`
 * (network errors, 429, 500/502/503/504; exponential backoff with jitter; `Retry-After` in seconds or as
 * an HTTP date honoured, RFC 9110 §10.2.3). Every attempt is counted in `bridge_api_attempts_total`, each
 * final answer in `bridge_api_requests_total`, 401/403 answers in `bridge_api_auth_failures_total`.
 * An optional client-side rate limit (p-queue, sliding one-second window) spaces the requests.
 *
 * Retrying the POST is opted into on purpose: if a lost response hid a created job, the repeated batch
 * starts a second job whose files come back `skipped: already exists` or updated (the import matches on
 * systemName + externalId, [F] §1.1, [IA]); results are taken only from the job whose id we received,
 * and webhooks of the orphan job are ignored as unknown ids.
 */
export function createImportClient(options: ImportClientOptions, deps: { metrics: Metrics }) {
  const url = new URL(options.baseUrl)
  const importPath = `${url.pathname.replace(/\/+$/, '')}/api/${encodeURIComponent(options.apiVersion)}/import`
  const pathOf = (kind: MediaKind) => `${importPath}/${IMPORT_KINDS[kind].path}`
  const endpointOf = (method: string | undefined) => (method === 'POST' ? 'submit' : 'status')
  // compose(): the first interceptor is the innermost, so the attempt counter sees every attempt the
  // retry interceptor makes, and bridge_api_requests_total below sees only the final answer.
  const pool = new Pool(url.origin, {
    connections: options.connections ?? 8,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
  }).compose(
    countAttempts((method, status) =>
      deps.metrics.apiAttempts.inc({ endpoint: endpointOf(method), status: String(status) }),
    ),
    interceptors.retry(
      createRetryOptions({
        maxRetries: options.maxRetries,
        minBackoffMs: options.minBackoffMs ?? 500,
        maxBackoffMs: options.maxBackoffMs ?? 30_000,
        ...(options.random === undefined ? {} : { random: options.random }),
      }),
    ),
  )
  // Client-side rate limit: each request (a submit or a status read, with its retries) takes one start
  // in a sliding one-second window; retries then wait for their backoff, not for the window.
  const rate = options.rateLimitPerSecond ?? 0
  const limiter = rate > 0 ? new PQueue({ intervalCap: rate, interval: 1000, strict: true }) : undefined
  const headers = {
    authorization: `Bearer ${options.accessToken}`,
    'content-type': 'application/json; charset=utf-8',
    accept: 'application/json',
  }

  async function call(
    endpoint: 'submit' | 'status',
    method: 'GET' | 'POST',
    path: string,
    body?: string,
    extraHeaders?: Record<string, string>,
  ): Promise<{ status: number; json: unknown; retryAfterMs: number | undefined }> {
    if (limiter !== undefined) await limiter.add(() => undefined)
    const stop = deps.metrics.apiRequestDuration.startTimer({ endpoint })
    try {
      const all = extraHeaders === undefined ? headers : { ...extraHeaders, ...headers }
      const res = await pool.request({ method, path, headers: all, ...(body === undefined ? {} : { body }) })
      const text = await res.body.text()
      deps.metrics.apiRequests.inc({ endpoint, status: String(res.statusCode) })
      if (res.statusCode === 401 || res.statusCode === 403) deps.metrics.apiAuthFailures.inc()
      let json: unknown
      try {
        json = text === '' ? undefined : JSON.parse(text)
      } catch {
        json = text
      }
      const retryAfterMs =
        res.statusCode === 429 || res.statusCode === 503
          ? parseRetryAfter(res.headers['retry-after'], Date.now())
          : undefined
      return { status: res.statusCode, json, retryAfterMs }
    } catch (err) {
      deps.metrics.apiRequests.inc({ endpoint, status: '0' })
      throw new ApiError(
        'API_NETWORK_ERROR',
        `${endpoint} request failed: ${(err as Error).message}`,
        { endpoint, status: 0 },
        { retryable: true, cause: err },
      )
    } finally {
      stop()
    }
  }

  return {
    /**
     * Starts an import job: `POST /api/{version}/import/files`, `/images` or `/videos` as the request's
     * kind says ([F] [I] [V] §1.1, §7).
     * @param options.headers extra request headers, e.g. W3C `traceparent`/`tracestate` (src/tracing.ts);
     *   they never replace the authorization or content headers
     * @returns the job id from the `200 {"id": ...}` response
     * @throws ApiError with a code from the status (see {@link classifyStatus}); retries already spent
     */
    async submit(request: ImportRequest, options?: { headers?: Record<string, string> }): Promise<string> {
      const { status, json, retryAfterMs } = await call(
        'submit',
        'POST',
        pathOf(request.kind),
        importRequestBody(request),
        options?.headers,
      )
      if (status === 200 || status === 201) {
        const parsed = submitResponse.safeParse(json)
        if (parsed.success) return parsed.data.id
        throw new ApiError('API_INVALID_RESPONSE', 'submit answered without a job id', {
          endpoint: 'submit',
          status,
        })
      }
      throw apiError('submit', status, json, retryAfterMs)
    },

    /**
     * Reads a job: `GET /api/{version}/import/<files|images|videos>/status?id=` ([F] §1.2, [I] [V] §7),
     * normalising the per-file key (`state` or the older `status`), the success value (`imported` or
     * `success`) to `imported`, and a `mediaId` nested in `image{…}`/`video{…}` to the item's own.
     * @param kind the import the job runs in (default `file`)
     * @throws ApiError for non-2xx other than 404 (which means `lost`), or a body that fits no shape
     */
    async status(jobId: string, kind: MediaKind = 'file'): Promise<JobStatus> {
      const { status, json, retryAfterMs } = await call(
        'status',
        'GET',
        `${pathOf(kind)}/status?id=${encodeURIComponent(jobId)}`,
      )
      if (status === 404) return { finished: true, state: 'lost' }
      if (status !== 200) throw apiError('status', status, json, retryAfterMs)
      const parsed = statusBody.safeParse(asFileStatus(json, kind))
      if (!parsed.success) {
        throw new ApiError(
          'API_INVALID_RESPONSE',
          `status of job ${jobId} has an unknown shape`,
          { endpoint: 'status', status },
          { retryable: true, context: { issues: parsed.error.issues.slice(0, 3) } },
        )
      }
      return normaliseStatus(parsed.data)
    },

    /** Closes the connection pool (requests waiting for the rate limit are dropped). */
    async close(): Promise<void> {
      limiter?.clear()
      await pool.close()
    },
  }
}

export type ImportClient = ReturnType<typeof createImportClient>

function normaliseStatus(body: z.infer<typeof statusBody>): JobStatus {
  if (body.state === 'lost') return { finished: true, state: 'lost' }
  if (!body.finished) return { finished: false, state: 'started', startedAt: body.startedAt }
  if (body.state === 'failed' && (body.files === undefined || body.files.length === 0)) {
    return { finished: true, state: 'failed' }
  }
  const files: FileOutcome[] = (body.files ?? []).map((item) => {
    const raw = (item.state ?? item.status ?? '').toLowerCase()
    const state =
      raw === 'skipped' ? 'skipped' : raw === 'imported' || raw === 'success' ? 'imported' : 'failed'
    return {
      externalId: item.externalId,
      systemName: item.systemName,
      state,
      mediaId: item.mediaId ?? undefined,
      reason:
        item.reason ??
        (state === 'failed' && raw !== 'failed' ? `unknown per-file state "${raw}"` : undefined),
    }
  })
  return { finished: true, state: 'success', files }
}

/**
 * Maps a final non-2xx status to an error code ([GS] §6, [VER] §4, [F] §5).
 * 401 `API_UNAUTHORIZED`, 403 `API_FORBIDDEN`, 400/413/422 `API_BAD_REQUEST`, 410 `API_VERSION_GONE`,
 * 429 `API_RATE_LIMITED` (retryable), 5xx `API_SERVER_ERROR` (retryable).
 */
export function classifyStatus(status: number): { code: ErrorCode; retryable: boolean } {
  if (status === 401) return { code: 'API_UNAUTHORIZED', retryable: false }
  if (status === 403) return { code: 'API_FORBIDDEN', retryable: false }
  if (status === 410) return { code: 'API_VERSION_GONE', retryable: false }
  if (status === 429) return { code: 'API_RATE_LIMITED', retryable: true }
  if (status >= 500) return { code: 'API_SERVER_ERROR', retryable: true }
  if (status === 408) return { code: 'API_NETWORK_ERROR', retryable: true }
  return { code: 'API_BAD_REQUEST', retryable: false }
}

/**
 * The error of a final non-2xx answer, with the HTTP status and the server's `Retry-After` (429/503)
 * when it was longer than the client waits for itself.
 */
function apiError(endpoint: ApiEndpoint, status: number, json: unknown, retryAfterMs?: number): ApiError {
  const { code, retryable } = classifyStatus(status)
  const body = errorBody.safeParse(json)
  const detail = body.success
    ? `${body.data.error ?? ''} ${JSON.stringify(body.data.error_details ?? {})}`
    : ''
  return new ApiError(
    code,
    `${endpoint} answered HTTP ${status}${detail ? `: ${detail.trim()}` : ''}`,
    { endpoint, status, retryAfterMs },
    { retryable },
  )
}
