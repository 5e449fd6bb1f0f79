// The retry policy handed to undici's retry interceptor: Retry-After parsing, backoff with jitter, decisions.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRetryOptions, parseRetryAfter } from '../../../src/import/retry-policy.ts'

const NOW = Date.parse('2026-11-29T12:00:00Z')

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it.each([
    ['120', 120_000],
    ['0', 0],
    [' 7 ', 7000],
    ['Sun, 29 Nov 2026 12:00:30 GMT', 30_000],
    ['Sunday, 29-Nov-26 12:01:00 GMT', 60_000],
    ['Sun Nov 29 12:00:05 2026', 5000],
    ['Sun, 29 Nov 2026 11:00:00 GMT', 0],
  ])('%j -> %i ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms)
  })

  it.each([[undefined], [''], ['-5'], ['1.5'], ['soon'], ['12abc'], ['2026-13-45']])(
    '%j -> undefined',
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined()
    },
  )

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['3', '9'], NOW)).toBe(3000)
  })
})

describe('createRetryOptions: the retry callback', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  const policy = createRetryOptions({
    maxRetries: 3,
    minBackoffMs: 100,
    maxBackoffMs: 10_000,
    random: () => 0,
    now: () => NOW,
  })
  const statusError = (statusCode: number, headers: Record<string, string> = {}) =>
    Object.assign(new Error('Request failed'), { code: 'UND_ERR_REQ_RETRY', statusCode, headers })
  const networkError = (code: string) => Object.assign(new Error(code), { code })

  /** Runs the callback; returns after how many ms it said "retry" (null) or "give up" (the error). */
  async function decide(err: Error, counter = 1, method = 'POST') {
    const cb = vi.fn()
    const retry = policy.retry as NonNullable<typeof policy.retry>
    retry(err, { state: { counter }, opts: { method, path: '/', retryOptions: policy } as never }, cb)
    if (cb.mock.calls.length > 0) return { after: 0, result: cb.mock.calls[0]?.[0] }
    let waited = 0
    while (cb.mock.calls.length === 0 && waited < 60_000) {
      await vi.advanceTimersByTimeAsync(50)
      waited += 50
    }
    return { after: waited, result: cb.mock.calls[0]?.[0] }
  }

  it('retries 5xx and 429 with exponential backoff', async () => {
    expect(await decide(statusError(500), 1)).toEqual({ after: 50, result: null })
    expect(await decide(statusError(502), 3)).toEqual({ after: 200, result: null })
    expect(await decide(statusError(429), 2, 'GET')).toEqual({ after: 100, result: null })
  })

  it('does not retry a submit’s 429 without Retry-After (the plan’s usage limit): the queue backs off for it', async () => {
    const quota = statusError(429)
    expect(await decide(quota, 1, 'POST')).toEqual({ after: 0, result: quota })
    expect(await decide(statusError(429, { 'retry-after': '1' }), 1, 'POST')).toEqual({
      after: 1000,
      result: null,
    })
  })

  it('retries network errors, and GET as well as POST', async () => {
    expect((await decide(networkError('ECONNRESET'), 1, 'GET')).result).toBeNull()
    expect((await decide(networkError('UND_ERR_HEADERS_TIMEOUT'), 1)).result).toBeNull()
  })

  it('waits for Retry-After (seconds or HTTP-date) on 429 and 503 instead of the backoff', async () => {
    expect(await decide(statusError(429, { 'retry-after': '2' }))).toEqual({ after: 2000, result: null })
    expect(await decide(statusError(503, { 'retry-after': 'Sun, 29 Nov 2026 12:00:03 GMT' }))).toEqual({
      after: 3000,
      result: null,
    })
  })

  it('gives up at once on a Retry-After over maxBackoffMs, on other statuses, errors, methods, and after maxRetries', async () => {
    const long = statusError(429, { 'retry-after': '11' })
    expect(await decide(long)).toEqual({ after: 0, result: long })
    const bad = statusError(400)
    expect(await decide(bad)).toEqual({ after: 0, result: bad })
    const bug = networkError('ERR_INVALID_ARG_TYPE')
    expect(await decide(bug)).toEqual({ after: 0, result: bug })
    const put = statusError(503)
    expect(await decide(put, 1, 'PUT')).toEqual({ after: 0, result: put })
    const last = statusError(503)
    expect(await decide(last, 4)).toEqual({ after: 0, result: last })
  })
})
