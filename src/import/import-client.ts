import { interceptors, Pool } from 'undici'
import { type ApiEndpoint, ApiError } from '../errors.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { MediaKind } from '../model/files.ts'
import { accessTokenSource } from '../secrets.ts'
import type { BridgeTracing } from '../telemetry/bridge-tracing.ts'
import { answerError, type CallAnswer, classifyAnswer } from './api-answer.ts'
import { countAttempts } from './count-attempts.ts'
import { createDeprecationReporter } from './deprecation.ts'
import { IMPORT_KINDS } from './import-kinds.ts'
import { type ImportRequest, importRequestBody } from './import-request.ts'
import type { JobStatus } from './job-status.ts'
import { endpointOfRequest, mediaLibraryCalls } from './media-library.ts'
import { RateLimit } from './rate-limit.ts'
import { createRetryOptions, parseRetryAfter } from './retry-policy.ts'

export type { JobStatus } from './job-status.ts'

/** Options of {@link createImportClient}. */
export interface ImportClientOptions {
  /** e.g. `https://server.livingdocs.io` (no trailing slash). */
  baseUrl: string
  /** API version path segment, e.g. `2026-07` ([VER] §4). */
  apiVersion: string
  /**
   * Bearer token with scope `public-api:write` ([GS] §3), as read at start-up; the media library reads
   * (a timed-out job's look-up, `ON_EXISTING=metadata`) need `public-api:read` too ([ML] §11.2).
   */
  accessToken: string
  /**
   * The file the token came from (`LIVINGDOCS_ACCESS_TOKEN_FILE`, a mounted Secret): read again after a
   * 401 or 403 (at most every 5 s); a new token there is used at once. Undefined: the token is fixed.
   */
  accessTokenFile?: string | undefined
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
  /**
   * Most requests started per second, in a sliding window (0 or undefined: no limit), until
   * `setRateLimit` changes it (this replica's share of the group's, src/jobs/api-budget.ts).
   */
  rateLimitPerSecond?: number
  /** Random source in [0, 1) for the backoff jitter (tests). */
  random?: () => number
}

/**
 * Client of the Livingdocs file import API ([F] §1): `submit` starts an import job, `status` reads it;
 * and of the media library ([ML] §11.1, §11.2): `lookup`, `readEntry`, `patchEntry` (media-library.ts).
 * Built on an undici Pool with undici's retry interceptor and the policy of `createRetryOptions`
 * (network errors, 429, 500/502/503/504; exponential backoff with jitter; `Retry-After` in seconds or as
 * an HTTP date honoured, RFC 9110 §10.2.3). Every attempt is counted in `bridge_api_attempts_total`, each
 * final answer in `bridge_api_requests_total`, 401/403 answers in `bridge_api_auth_failures_total`.
 * An optional client-side rate limit (src/import/rate-limit.ts: at most so many requests per second as
 * the server sees them, changeable at run time) spaces the requests. An answer that announces the API
 * version as deprecated is counted and logged once (deprecation.ts).
 *
 * While tracing is on, each request (with its retries) is an HTTP client span, a child of the active
 * span (the import job's), named `<method> <path>` with the HTTP conventions' attributes, and the
 * request carries the span's context (`traceparent`) instead of the caller's trace headers.
 *
 * Retrying the POST is opted into on purpose: if a lost response hid a created job, the repeated batch
 * starts a second job whose files come back `skipped: already exists` or updated (the import matches on
 * systemName + externalId, [F] §1.1, [IA]); results are taken only from the job whose id we received,
 * and webhooks of the orphan job are ignored as unknown ids.
 */
export function createImportClient(
  options: ImportClientOptions,
  deps: { metrics: Metrics; logger?: Logger | undefined; tracing?: BridgeTracing | undefined },
) {
  const tracing = deps.tracing?.on === true ? deps.tracing : undefined
  const url = new URL(options.baseUrl)
  const apiPath = `${url.pathname.replace(/\/+$/, '')}/api/${encodeURIComponent(options.apiVersion)}`
  const pathOf = (kind: MediaKind) => `${apiPath}/import/${IMPORT_KINDS[kind].path}`
  const reportDeprecation = createDeprecationReporter(options.apiVersion, deps)
  // compose(): the first interceptor is the innermost, so the attempt counter sees every attempt the
  // retry interceptor makes, and bridge_api_requests_total below sees only the final answer. No redirect
  // interceptor: a 3xx comes back as it is and is classified `configuration` (a redirect followed
  // silently could turn a POST into a GET of some page, or send the token to another origin).
  const pool = new Pool(url.origin, {
    connections: options.connections ?? 8,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
  }).compose(
    countAttempts((method, path, status) =>
      deps.metrics.apiAttempts.inc({ endpoint: endpointOfRequest(method, path), status: String(status) }),
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
  // Client-side rate limit: each request (a submit, a status read, a media library call, with its
  // retries) takes one slot, held until a second after its answer (src/import/rate-limit.ts); retries
  // wait for their backoff, not for a slot. Submits waiting for a slot go before the others: a submit
  // gives Livingdocs its next job, a read only publishes results (see the job tracker's webhook handling).
  const limiter = new RateLimit(options.rateLimitPerSecond ?? 0)
  const token = accessTokenSource(options.accessToken, options.accessTokenFile)
  const fixedHeaders = {
    'content-type': 'application/json; charset=utf-8',
    accept: 'application/json',
  }

  /**
   * One request with its retries, within the rate limit; a 401/403 that a new token in the token file
   * answers is asked once more (not for `more.rereadToken: false`: a check that must not spend the
   * file's re-read, which happens at most every 5 s, before a refusal that needs it).
   */
  function call(
    endpoint: ApiEndpoint,
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: Buffer,
    more: CallOptions = {},
  ): Promise<CallAnswer> {
    const { files, kind } = more
    let extraHeaders = more.headers
    return limiter.run(
      endpoint === 'submit' ? 1 : 0,
      async () => {
        const stop = deps.metrics.apiRequestDuration.startTimer({ endpoint })
        const span = tracing?.startHttpClient(
          method,
          new URL(path, url.origin),
          path.split('?', 1)[0] as string,
        )
        // The span's context replaces the caller's trace headers (the first traced file's, src/telemetry/trace-context.ts).
        if (span !== undefined) extraHeaders = tracing?.headersOf(span)
        try {
          let answer = await send(endpoint, method, path, body, extraHeaders)
          if (
            (answer.status === 401 || answer.status === 403) &&
            more.rereadToken !== false &&
            token.reread()
          ) {
            // Never the token itself: only that the file changed.
            deps.logger?.warn(
              { endpoint, status: answer.status, file: options.accessTokenFile },
              'import API refused the access token; the token file holds a new one, used from now on',
            )
            answer = await send(endpoint, method, path, body, extraHeaders)
          }
          const reading = classifyAnswer({ endpoint, ...answer, files, kind })
          deps.metrics.apiAnswers.inc({ endpoint, class: reading.class })
          if (span !== undefined) tracing?.endHttpClient(span, { status: answer.status })
          return { reading, status: answer.status, retryAfterMs: answer.retryAfterMs }
        } catch (err) {
          if (span !== undefined) tracing?.endHttpClient(span, { error: (err as ApiError).code ?? 'error' })
          throw err
        } finally {
          stop()
        }
      },
      more.stillWanted,
    )
  }

  async function send(
    endpoint: ApiEndpoint,
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body: Buffer | undefined,
    extraHeaders: Record<string, string> | undefined,
  ): Promise<{
    status: number
    text: string
    retryAfterMs: number | undefined
    location: string | undefined
  }> {
    const headers = { ...extraHeaders, ...fixedHeaders, authorization: `Bearer ${token.value}` }
    let res: Awaited<ReturnType<typeof pool.request>>
    let text: string
    try {
      res = await pool.request({ method, path, headers, ...(body === undefined ? {} : { body }) })
      text = await res.body.text()
    } catch (err) {
      deps.metrics.apiRequests.inc({ endpoint, status: '0' })
      deps.metrics.apiAnswers.inc({ endpoint, class: 'retry' })
      throw new ApiError(
        'API_NETWORK_ERROR',
        `${endpoint} request failed: ${(err as Error).message}`,
        { endpoint, status: 0, answerClass: 'retry' },
        { retryable: true, cause: err },
      )
    }
    deps.metrics.apiRequests.inc({ endpoint, status: String(res.statusCode) })
    reportDeprecation(endpoint, res.headers)
    if (res.statusCode === 401 || res.statusCode === 403) deps.metrics.apiAuthFailures.inc()
    const retryAfterMs =
      res.statusCode === 429 || res.statusCode === 503
        ? parseRetryAfter(res.headers['retry-after'], Date.now())
        : undefined
    const location = res.headers.location
    return {
      status: res.statusCode,
      text,
      retryAfterMs,
      location: Array.isArray(location) ? location[0] : location,
    }
  }

  return {
    /**
     * Starts an import job: `POST /api/{version}/import/files`, `/images` or `/videos` as the request's
     * kind says ([F] [I] [V] §1.1, §7).
     * @param options.headers extra request headers, e.g. W3C `traceparent`/`tracestate` (src/telemetry/trace-context.ts);
     *   they never replace the authorization or content headers
     * @param options.stillWanted asked when the rate limit lets the submit go: false withdraws it unsent
     * @returns the job id of any 2xx answer that carries one
     * @throws ApiError whose `answerClass` says what the answer means (see `classifyAnswer`); the
     *   client's retries already spent. `RequestWithdrawn` (rate-limit.ts) for a submit withdrawn unsent
     */
    async submit(
      request: ImportRequest,
      options?: { headers?: Record<string, string>; stillWanted?: () => boolean },
    ): Promise<string> {
      const answer = await call('submit', 'POST', pathOf(request.kind), importRequestBody(request), {
        headers: options?.headers,
        files: request.files.length,
        stillWanted: options?.stillWanted,
      })
      if ('jobId' in answer.reading) return answer.reading.jobId
      throw answerError('submit', answer)
    },

    /**
     * Reads a job: `GET /api/{version}/import/<files|images|videos>/status?id=` ([F] §1.2, [I] [V] §7),
     * normalising the per-file key (`state` or the older `status`), the success value (`imported` or
     * `success`) to `imported`, and a `mediaId` nested in `image{…}`/`video{…}` to the item's own.
     * @param kind the import the job runs in (default `file`)
     * @returns the status; `lost` for a job Livingdocs does not know (404 or `state: "lost"`)
     * @throws ApiError whose `answerClass` says what the answer means (see `classifyAnswer`)
     */
    async status(jobId: string, kind: MediaKind = 'file'): Promise<JobStatus> {
      const answer = await call(
        'status',
        'GET',
        `${pathOf(kind)}/status?id=${encodeURIComponent(jobId)}`,
        undefined,
        { kind },
      )
      const { reading } = answer
      if ('jobStatus' in reading) return reading.jobStatus
      if (reading.class === 'job-unknown') return { finished: true, state: 'lost' }
      throw answerError('status', answer)
    },

    ...mediaLibraryCalls(call, apiPath),

    /**
     * Changes the most requests started per second (0: none); requests waiting for the window keep
     * their place and start under the new limit.
     */
    setRateLimit(perSecond: number): void {
      limiter.perSecond = perSecond
    },

    /** Closes the connection pool (requests waiting for the rate limit are dropped). */
    async close(): Promise<void> {
      limiter.clear()
      await pool.close()
    },
  }
}

export type ImportClient = ReturnType<typeof createImportClient>

/** What a request of the client may carry besides its body. */
interface CallOptions {
  /** Extra request headers (trace context). */
  headers?: Record<string, string> | undefined
  /** Submit: the files the request carries. */
  files?: number | undefined
  /** Status: the import the job runs in. */
  kind?: MediaKind | undefined
  /** False: a 401/403 does not re-read the token file. */
  rereadToken?: boolean | undefined
  /**
   * Asked when the rate limit lets the request go: false withdraws it unsent (`RequestWithdrawn`, rate-limit.ts);
   * a submit whose partitions were revoked while it waited, for instance.
   */
  stillWanted?: (() => boolean) | undefined
}
