import type { Dispatcher, RetryHandler } from 'undici'
import { equalJitterMs } from '../backoff.ts'
import { isQuotaAnswer } from './api-answer.ts'

/** Statuses retried by the client: 429 (rate limited) and the transient 5xx ([GS] §6, [F] §5). */
export const RETRY_STATUS_CODES = [429, 500, 502, 503, 504]

/**
 * Socket errors retried by the client: undici's default list (`RetryHandler`) plus the timeouts
 * `ETIMEDOUT`, `UND_ERR_CONNECT_TIMEOUT` and `UND_ERR_HEADERS_TIMEOUT`, which an overloaded API gives as
 * often as a reset.
 */
export const RETRY_ERROR_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]

/** Options of {@link createRetryOptions}. Durations in ms. */
export interface RetryPolicyOptions {
  /** Retries after the first attempt (so at most `maxRetries + 1` attempts). */
  maxRetries: number
  /** Base of the exponential backoff: retry n waits about `minBackoffMs * 2^(n-1)`. */
  minBackoffMs: number
  /**
   * Cap of the exponential backoff, and the longest `Retry-After` the client waits for. A longer
   * `Retry-After` ends the retries at once: the 429/503 goes to the caller, whose error carries
   * `retryAfterMs`, so the job tracker holds its requests until then instead of a socket and a request.
   */
  maxBackoffMs: number
  /** Random source in [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number
  /** Clock for HTTP-date `Retry-After` values, epoch ms. Default `Date.now`. */
  now?: () => number
}

/**
 * Parses a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`).
 *
 * @param value the header value (undici gives a string, or an array when repeated: the first counts)
 * @param nowMs the current time, epoch ms
 * @returns the delay in ms (0 for a date in the past), or undefined when absent or unparseable
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim()
  if (raw === undefined || raw === '') return undefined
  if (/^\d+$/.test(raw)) return Number(raw) * 1000
  // RFC 9110 §5.6.7: IMF-fixdate, with the obsolete RFC 850 and asctime forms, which Date.parse reads.
  if (!/[a-z]/i.test(raw)) return undefined
  const at = Date.parse(raw)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

/** The error undici hands to a retry policy: a network error, or a RequestRetryError for a status. */
interface RetryCandidate extends Error {
  code?: string
  statusCode?: number
  headers?: Record<string, string | string[] | undefined>
}

/**
 * Options for undici's retry interceptor (`interceptors.retry`), whose handler re-dispatches the request;
 * only the backoff decision is ours, as undici's `retry` callback option:
 *
 * - retried: network errors ({@link RETRY_ERROR_CODES}), 429 and 5xx ({@link RETRY_STATUS_CODES}), for
 *   GET, POST (why a repeated POST is safe: see `createImportClient`) and PATCH (a media library PATCH
 *   carries the entry's `version`: a repeat of one Livingdocs applied is refused 409 and the entry read
 *   again, [ML] §11.1); but not a POST's 429 without
 *   `Retry-After`, the plan's usage limit ([F] §5), which the submit queue backs off for minutes;
 * - backoff: `equalJitterMs` (src/backoff.ts), exponential with equal jitter. undici's default policy
 *   has no jitter;
 * - `Retry-After` on 429 and 503 (RFC 9110 §10.2.3, seconds or HTTP-date, parsed by
 *   {@link parseRetryAfter}) replaces the backoff, plus up to `minBackoffMs` of jitter. undici's default
 *   caps a long `Retry-After` at its `maxTimeout`, retrying before the server asked; here a
 *   `Retry-After` over `maxBackoffMs` ends the retries and leaves the answer to the caller.
 *
 * undici calls the policy with `state.counter` = the number of the retry about to happen (1-based).
 */
export function createRetryOptions(options: RetryPolicyOptions): RetryHandler.RetryOptions {
  const random = options.random ?? Math.random
  const now = options.now ?? Date.now
  const retry: RetryHandler.RetryCallback = (err, context, callback) => {
    const { code, statusCode, headers } = err as RetryCandidate
    const method = (context.opts as Dispatcher.DispatchOptions).method
    const give = () => {
      callback(err)
      return null
    }
    if (code !== undefined && code !== 'UND_ERR_REQ_RETRY' && !RETRY_ERROR_CODES.includes(code)) return give()
    if (method !== 'GET' && method !== 'POST' && method !== 'PATCH') return give()
    if (statusCode !== undefined && !RETRY_STATUS_CODES.includes(statusCode)) return give()
    if (context.state.counter > options.maxRetries) return give()
    const retryAfterMs =
      statusCode === 429 || statusCode === 503 ? parseRetryAfter(headers?.['retry-after'], now()) : undefined
    if (retryAfterMs !== undefined && retryAfterMs > options.maxBackoffMs) return give()
    // A submit's 429 without Retry-After is the plan's usage limit ([F] §5): asking again within seconds
    // only spends requests; the submit queue backs off for minutes instead (`quota` in api-answer.ts).
    // Only a submit (the one POST) can answer so: any other endpoint stands for the rest.
    if (
      statusCode !== undefined &&
      isQuotaAnswer(statusCode, retryAfterMs, method === 'POST' ? 'submit' : 'status')
    )
      return give()
    const delayMs =
      retryAfterMs === undefined
        ? equalJitterMs(
            context.state.counter,
            { minMs: options.minBackoffMs, maxMs: options.maxBackoffMs },
            random,
          )
        : retryAfterMs + Math.round(random() * options.minBackoffMs)
    return setTimeout(() => callback(null), delayMs)
  }
  return {
    retry,
    maxRetries: options.maxRetries,
    minTimeout: options.minBackoffMs,
    maxTimeout: options.maxBackoffMs,
    methods: ['GET', 'POST', 'PATCH'],
    statusCodes: RETRY_STATUS_CODES,
    errorCodes: RETRY_ERROR_CODES,
    // We classify the final response ourselves (its error body is needed).
    throwOnError: false,
  }
}
