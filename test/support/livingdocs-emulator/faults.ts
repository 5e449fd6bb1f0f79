// Request-level faults, data-driven: each entry of REQUEST_FAULTS names a key of EmulatorFaults and how to
// answer when it triggers. To add one: add its config type and key to EmulatorFaults (types.ts), then an
// entry here. Job-level faults (stuckJobs, failJobs, fileFailureRate) are read by the job runner (core.ts),
// dropWebhooks and duplicateWebhooks by the webhook sender (webhooks.ts); `quota` and `rejectFiles` by the
// import handler (app.ts). Every fault applies to all three imports.
import type { MediaKind } from './model.ts'
import type {
  AnswerWithFault,
  EmulatorEndpoint,
  EmulatorFaults,
  RateLimitFault,
  RedirectFault,
  RequestFault,
  ServerErrorFault,
} from './types.ts'

/** The generic error body. [GS][OA] §6 */
export type ErrorBody = { status: number; error: string; error_details: Record<string, unknown> }

/**
 * An HTTP answer chosen by a fault: `body` is sent as JSON, `text` as plain text; with neither the
 * answer has no body.
 */
export type FaultAnswer = { status: number; body?: unknown; text?: string; headers?: Record<string, string> }

/** What a request fault may look at of the request it answers. */
export type FaultRequest = { originalUrl: string; host: string }

/** Reason phrases used in error bodies. */
export const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Usage Limit Exceeded',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

/** Builds `{status, error, error_details}`. [GS] §6 */
export const errorBody = (status: number, details: Record<string, unknown>): ErrorBody => ({
  status,
  error: REASON_PHRASES[status] ?? 'Error',
  error_details: details,
})

type RequestFaultKey = 'rateLimit429' | 'serverError5xx' | 'redirect' | 'answerWith'

type RequestFaultSpec<K extends RequestFaultKey> = {
  key: K
  answer: (fault: NonNullable<EmulatorFaults[K]>, hit: number, request: FaultRequest) => FaultAnswer
}

const retryAfter = (fault: RequestFault): Record<string, string> | undefined => {
  if (fault.retryAfter !== undefined) return { 'retry-after': fault.retryAfter }
  return fault.retryAfterSeconds !== undefined
    ? { 'retry-after': String(fault.retryAfterSeconds) }
    : undefined
}

const rateLimit: RequestFaultSpec<'rateLimit429'> = {
  key: 'rateLimit429',
  // [F][OA] §5: 429 "Usage Limit Exceeded" with error_details.message (the example is an object).
  answer: (fault: RateLimitFault) => {
    const headers = retryAfter(fault)
    return {
      status: 429,
      body: errorBody(429, { message: fault.message ?? 'Usage limit exceeded (emulated rate limit).' }),
      ...(headers ? { headers } : {}),
    }
  },
}

const serverError: RequestFaultSpec<'serverError5xx'> = {
  key: 'serverError5xx',
  answer: (fault: ServerErrorFault, hit: number) => {
    const statuses = Array.isArray(fault.status) ? fault.status : [fault.status ?? 503]
    const status = statuses[hit % statuses.length] ?? 503
    const headers = retryAfter(fault)
    return {
      status,
      body: errorBody(status, { message: 'Emulated server error.' }),
      ...(headers ? { headers } : {}),
    }
  },
}

const redirect: RequestFaultSpec<'redirect'> = {
  key: 'redirect',
  // Not documented for the API; what a proxy in front of it does (http→https, a trailing slash).
  answer: (fault: RedirectFault, _hit: number, request: FaultRequest) => {
    const path = request.originalUrl
    const location =
      fault.location === 'trailing-slash'
        ? path.replace(/(\?|$)/, '/$1')
        : (fault.location ?? `https://${request.host}${path}`)
    return { status: fault.status ?? 308, headers: { location } }
  },
}

const answerWith: RequestFaultSpec<'answerWith'> = {
  key: 'answerWith',
  answer: (fault: AnswerWithFault) => {
    const headers = retryAfter(fault)
    const base = { status: fault.status, ...(headers ? { headers } : {}) }
    const body = fault.body ?? 'documented'
    if (body === 'none') return base
    if (body === 'text') return { ...base, text: `${REASON_PHRASES[fault.status] ?? 'Error'} (emulated)` }
    if (body === 'documented')
      return { ...base, body: errorBody(fault.status, { message: 'Emulated answer.' }) }
    return { ...base, body }
  },
}

/** Request faults in the order they are checked. */
export const REQUEST_FAULTS = [rateLimit, serverError, redirect, answerWith] as const

/**
 * Decides whether a request fault triggers for this request, consuming one `count` when it does.
 * Mutates `fault.count`.
 */
const triggers = (
  fault: RequestFault,
  endpoint: EmulatorEndpoint,
  kind: MediaKind | undefined,
  random: () => number,
  nowMs: number,
): boolean => {
  if (fault.until !== undefined && nowMs > fault.until) return false
  if (fault.endpoints && !fault.endpoints.includes(endpoint)) return false
  // The media library's endpoints belong to no import: a fault limited to some imports skips them.
  if (fault.kinds && (kind === undefined || !fault.kinds.includes(kind))) return false
  if (fault.count !== undefined) {
    if (fault.count <= 0) return false
    fault.count--
    return true
  }
  // Neither a count nor a probability: every matching request.
  return fault.probability === undefined || random() < fault.probability
}

/**
 * Checks the request faults for one request to `endpoint` of the `kind` import.
 * @param faults the live faults (counts are consumed)
 * @param hits per-fault trigger counters (mutated)
 * @returns the answer to send, or undefined to handle the request normally
 */
export const checkRequestFaults = (
  faults: EmulatorFaults,
  endpoint: EmulatorEndpoint,
  kind: MediaKind | undefined,
  hits: Record<string, number>,
  random: () => number,
  request: FaultRequest = { originalUrl: '/', host: 'localhost' },
  nowMs = Date.now(),
): FaultAnswer | undefined => {
  for (const spec of REQUEST_FAULTS) {
    const fault = faults[spec.key]
    if (!fault || !triggers(fault, endpoint, kind, random, nowMs)) continue
    const hit = hits[spec.key] ?? 0
    hits[spec.key] = hit + 1
    return (spec.answer as (f: typeof fault, hit: number, request: FaultRequest) => FaultAnswer)(
      fault,
      hit,
      request,
    )
  }
  return undefined
}

/**
 * Gives each request fault of `faults` with `forMs` its end, `until` = `nowMs + forMs` (mutates and
 * returns `faults`): called when faults are set.
 */
export const stampRequestFaults = <T extends Partial<EmulatorFaults>>(faults: T, nowMs: number): T => {
  for (const spec of REQUEST_FAULTS) {
    const fault = faults[spec.key] as RequestFault | null | undefined
    if (fault?.forMs !== undefined) fault.until = nowMs + fault.forMs
  }
  return faults
}

/**
 * The plan quota's 429 message, worded as the docs' example (line breaks and indentation included, as the
 * OpenAPI block of every import shows them). [F][I][V][OA] §5
 */
export const quotaMessage = (perDay: number, used: number, tried: number): string =>
  `Your plan does not allow you to upload more than ${perDay} per day.\n      You already uploaded ${used} in the last 24 hours and are trying to upload ${tried} more.\n      Please try again later.`
