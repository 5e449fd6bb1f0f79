// classifyAnswer: every status code class (1xx–5xx), with and without the documented error body, for
// both endpoints, as one table; then the 2xx bodies, the API's message whatever its shape, and the
// tolerated status shapes (nulls, unknown keys).
import { STATUS_CODES } from 'node:http'
import { describe, expect, it } from 'vitest'
import type { AnswerClass, ApiEndpoint } from '../../../src/errors.ts'
import {
  type AnswerReading,
  bodyShape,
  CHECK_CREDENTIALS,
  CHECK_LOCATION,
  CHECK_READ_SCOPE,
  CHECK_VERSION,
  classifyAnswer,
  MAX_API_TEXT_CHARS,
  type RawAnswer,
} from '../../../src/import/api-answer.ts'

/** The documented error body ([GS] §6). */
const documented = (status: number) =>
  JSON.stringify({
    status,
    error: STATUS_CODES[status] ?? 'Error',
    error_details: { message: `what the API says about ${status}` },
  })

const read = (endpoint: ApiEndpoint, status: number, text: string, extra: Partial<RawAnswer> = {}) =>
  classifyAnswer({ endpoint, status, text, files: 3, ...extra })

const classOf = (r: AnswerReading): AnswerClass => r.class

// status, class of a submit (of 3 files), of a status read, of a media library read (look-up and
// read by mediaId alike) and of a patch; the body is the documented error body, the empty body, or
// plain text: the class of a non-2xx answer does not depend on it.
const TABLE: Array<[number, AnswerClass, AnswerClass, AnswerClass, AnswerClass]> = [
  [100, 'configuration', 'configuration', 'configuration', 'configuration'],
  [101, 'configuration', 'configuration', 'configuration', 'configuration'],
  [103, 'configuration', 'configuration', 'configuration', 'configuration'],
  [300, 'configuration', 'configuration', 'configuration', 'configuration'],
  [301, 'configuration', 'configuration', 'configuration', 'configuration'],
  [302, 'configuration', 'configuration', 'configuration', 'configuration'],
  [303, 'configuration', 'configuration', 'configuration', 'configuration'],
  [304, 'configuration', 'configuration', 'configuration', 'configuration'],
  [307, 'configuration', 'configuration', 'configuration', 'configuration'],
  [308, 'configuration', 'configuration', 'configuration', 'configuration'],
  [400, 'batch-data', 'configuration', 'configuration', 'file-data'],
  [401, 'credentials', 'credentials', 'credentials', 'credentials'],
  // issue 24: Payment Required is the account's, like the plan's usage limit: never a file's fault
  [402, 'quota', 'quota', 'quota', 'quota'],
  [403, 'credentials', 'credentials', 'credentials', 'credentials'],
  [404, 'configuration', 'job-unknown', 'entry-unknown', 'entry-unknown'],
  [405, 'configuration', 'configuration', 'configuration', 'configuration'],
  [406, 'configuration', 'configuration', 'configuration', 'configuration'],
  [407, 'configuration', 'configuration', 'configuration', 'configuration'],
  [408, 'retry', 'retry', 'retry', 'retry'],
  [409, 'batch-data', 'configuration', 'configuration', 'version-conflict'],
  [410, 'configuration', 'configuration', 'configuration', 'configuration'],
  [411, 'configuration', 'configuration', 'configuration', 'configuration'],
  [412, 'configuration', 'configuration', 'configuration', 'configuration'],
  [413, 'batch-data', 'configuration', 'configuration', 'file-data'],
  [414, 'configuration', 'configuration', 'configuration', 'configuration'],
  [415, 'configuration', 'configuration', 'configuration', 'configuration'],
  [417, 'configuration', 'configuration', 'configuration', 'configuration'],
  [421, 'configuration', 'configuration', 'configuration', 'configuration'],
  [422, 'batch-data', 'configuration', 'configuration', 'file-data'],
  [423, 'retry', 'retry', 'retry', 'retry'],
  [424, 'retry', 'retry', 'retry', 'retry'],
  [425, 'retry', 'retry', 'retry', 'retry'],
  [426, 'configuration', 'configuration', 'configuration', 'configuration'],
  [428, 'configuration', 'configuration', 'configuration', 'configuration'],
  [429, 'quota', 'retry', 'retry', 'retry'],
  [431, 'configuration', 'configuration', 'configuration', 'configuration'],
  [451, 'configuration', 'configuration', 'configuration', 'configuration'],
  [499, 'configuration', 'configuration', 'configuration', 'configuration'],
  [500, 'retry', 'retry', 'retry', 'retry'],
  [501, 'configuration', 'configuration', 'configuration', 'configuration'],
  [502, 'retry', 'retry', 'retry', 'retry'],
  [503, 'retry', 'retry', 'retry', 'retry'],
  [504, 'retry', 'retry', 'retry', 'retry'],
  [505, 'configuration', 'configuration', 'configuration', 'configuration'],
  [507, 'retry', 'retry', 'retry', 'retry'],
  [511, 'configuration', 'configuration', 'configuration', 'configuration'],
  [599, 'retry', 'retry', 'retry', 'retry'],
]

describe('classifyAnswer: every status class, every endpoint, with and without the documented body', () => {
  for (const body of ['documented', 'empty', 'plain text'] as const) {
    it.each(TABLE)(
      `HTTP %i, ${body} body -> submit %s, status read %s, media library read %s, patch %s`,
      (status, submit, statusRead, libraryRead, patch) => {
        const text = body === 'documented' ? documented(status) : body === 'empty' ? '' : 'upstream says no'
        expect(classOf(read('submit', status, text))).toBe(submit)
        expect(classOf(read('status', status, text))).toBe(statusRead)
        expect(classOf(read('lookup', status, text))).toBe(libraryRead)
        expect(classOf(read('entry', status, text))).toBe(libraryRead)
        expect(classOf(read('patch', status, text))).toBe(patch)
      },
    )
  }

  it('every 4xx is named: only 400, 409, 413 and 422 of a submit or a patch are about a file’s data', () => {
    const dataClasses = new Set<AnswerClass>(['batch-data', 'file-data', 'version-conflict'])
    for (let status = 400; status < 500; status++) {
      for (const endpoint of ['submit', 'status', 'lookup', 'entry', 'patch'] as const) {
        const cls = classOf(read(endpoint, status, documented(status)))
        const isData =
          [400, 409, 413, 422].includes(status) && (endpoint === 'submit' || endpoint === 'patch')
        expect(dataClasses.has(cls), `${endpoint} ${status} -> ${cls}`).toBe(isData)
      }
    }
  })

  it('a 402 holds every endpoint like the plan’s usage limit, with its own code', () => {
    for (const endpoint of ['submit', 'status', 'lookup', 'entry', 'patch'] as const)
      expect(read(endpoint, 402, documented(402))).toMatchObject({
        class: 'quota',
        code: 'API_PAYMENT_REQUIRED',
        retryable: true,
        message: `${endpoint} answered HTTP 402: Payment Required; message: what the API says about 402`,
      })
  })

  it('a refused read of the media library names the read scope', () => {
    expect(read('lookup', 403, documented(403))).toMatchObject({
      class: 'credentials',
      setting: CHECK_READ_SCOPE,
    })
    expect(read('entry', 401, '')).toMatchObject({ class: 'credentials', setting: CHECK_READ_SCOPE })
    expect(CHECK_READ_SCOPE).toContain('public-api:read')
    expect(read('patch', 403, '')).toMatchObject({ class: 'credentials', setting: CHECK_CREDENTIALS })
  })

  it.each([200, 201, 202, 204, 206, 299])(
    'HTTP %i: the documented body of each endpoint is accepted, another JSON shape or none is unreadable, a page is configuration',
    (status) => {
      expect(read('submit', status, '{"id":"J-1"}')).toEqual({ class: 'accepted', jobId: 'J-1' })
      expect(read('status', status, '{"finished":false,"state":"started","id":"J-1"}')).toEqual({
        class: 'accepted',
        jobStatus: { finished: false, state: 'started', startedAt: undefined },
      })
      for (const endpoint of ['submit', 'status'] as const) {
        expect(classOf(read(endpoint, status, documented(400)))).toBe('unreadable')
        expect(classOf(read(endpoint, status, ''))).toBe('unreadable')
        expect(classOf(read(endpoint, status, '[1,2]'))).toBe('unreadable')
        expect(classOf(read(endpoint, status, '<html><body>Sign in</body></html>'))).toBe('configuration')
      }
    },
  )

  it('a 429 with Retry-After is a rate limit to wait out on both endpoints; without, the quota on a submit', () => {
    expect(classOf(read('submit', 429, documented(429), { retryAfterMs: 1000 }))).toBe('retry')
    expect(classOf(read('status', 429, documented(429), { retryAfterMs: 1000 }))).toBe('retry')
    expect(read('submit', 429, documented(429))).toMatchObject({ class: 'quota', code: 'API_QUOTA_EXCEEDED' })
  })

  it.each([400, 409, 413, 422])('HTTP %i for a submit of one file is the file’s own data', (status) => {
    expect(classOf(read('submit', status, documented(status), { files: 1 }))).toBe('file-data')
  })

  it('names the settings to check for credentials and configuration, and nothing else', () => {
    expect(read('submit', 401, '')).toMatchObject({ setting: CHECK_CREDENTIALS, code: 'API_UNAUTHORIZED' })
    expect(read('status', 403, '')).toMatchObject({ setting: CHECK_CREDENTIALS, code: 'API_FORBIDDEN' })
    expect(read('submit', 404, documented(404))).toMatchObject({
      setting: CHECK_LOCATION,
      code: 'API_NOT_FOUND',
    })
    expect(read('submit', 410, documented(410))).toMatchObject({
      setting: CHECK_VERSION,
      code: 'API_VERSION_GONE',
    })
    expect(read('submit', 308, '', { location: 'https://ld.example/api' })).toMatchObject({
      setting: CHECK_LOCATION,
      message: 'submit answered HTTP 308: a redirect to https://ld.example/api, not followed',
    })
    expect(read('submit', 405, '')).toMatchObject({ message: 'submit answered HTTP 405: Method Not Allowed' })
    expect(read('submit', 503, '')).not.toHaveProperty('setting')
    expect(read('submit', 422, documented(422))).not.toHaveProperty('setting')
  })

  it('marks what may be asked again as retryable', () => {
    const retryable = (status: number, extra: Partial<RawAnswer> = {}) =>
      (read('submit', status, '', extra) as { retryable: boolean }).retryable
    expect([500, 503, 408, 429].map((s) => retryable(s))).toEqual([true, true, true, true])
    expect(retryable(200)).toBe(true) // unreadable
    expect([400, 401, 404, 308].map((s) => retryable(s))).toEqual([false, false, false, false])
  })
})

describe('classifyAnswer: the API’s message, whatever the body’s shape', () => {
  it.each([
    ['the documented body', documented(400), 'Bad Request; message: what the API says about 400'],
    [
      'error_details of JSON paths',
      JSON.stringify({
        status: 400,
        error: 'Bad Request',
        error_details: { 'files.2.mediaType': 'invalid' },
      }),
      'Bad Request; files.2.mediaType: invalid',
    ],
    ['only `error`', '{"error":"files[2].mediaType invalid"}', 'files[2].mediaType invalid'],
    [
      'only `message`',
      '{"message":"mediaType of the third file is invalid"}',
      'mediaType of the third file is invalid',
    ],
    ['a JSON string', '"bad mediaType"', 'bad mediaType'],
    ['plain text', 'bad mediaType\n(files[2])', 'bad mediaType (files[2])'],
    [
      'an HTML page',
      '<html><head><style>p{}</style></head><body><h1>400</h1> Bad file</body></html>',
      '400 Bad file',
    ],
  ])('%s', (_name, text, expected) => {
    expect(read('submit', 400, text, { files: 1 })).toMatchObject({
      class: 'file-data',
      message: `submit answered HTTP 400: ${expected}`,
    })
  })

  it('bounds the text to MAX_API_TEXT_CHARS characters', () => {
    const reading = read('submit', 400, JSON.stringify({ error: 'x'.repeat(5000) }))
    const message = (reading as { message: string }).message
    expect(message.length).toBeLessThanOrEqual('submit answered HTTP 400: '.length + MAX_API_TEXT_CHARS)
    expect(message.endsWith('…')).toBe(true)
  })

  it('an error body without words gives the status alone', () => {
    expect(read('submit', 400, '{"status":400}')).toMatchObject({ message: 'submit answered HTTP 400' })
  })
})

describe('classifyAnswer: status bodies', () => {
  const status = (body: unknown) => read('status', 200, JSON.stringify(body))

  it('tolerates null in the optional fields and unknown keys', () => {
    expect(
      status({ finished: false, state: 'started', id: 'j', startedAt: null, files: null, eta: 3 }),
    ).toEqual({
      class: 'accepted',
      jobStatus: { finished: false, state: 'started', startedAt: undefined },
    })
    expect(status({ finished: true, state: 'failed', id: null, files: null })).toEqual({
      class: 'accepted',
      jobStatus: { finished: true, state: 'failed' },
    })
    expect(
      status({
        finished: true,
        state: 'success',
        overview: { total: 1 },
        files: [
          { state: 'imported', externalId: 'e1', systemName: null, mediaId: 'm1', reason: null, extra: [1] },
          {
            state: null,
            status: 'skipped',
            externalId: 'e2',
            systemName: 'a',
            mediaId: 'm2',
            reason: 'already exists',
          },
        ],
      }),
    ).toEqual({
      class: 'accepted',
      jobStatus: {
        finished: true,
        state: 'success',
        files: [
          { externalId: 'e1', systemName: undefined, state: 'imported', mediaId: 'm1', reason: undefined },
          { externalId: 'e2', systemName: 'a', state: 'skipped', mediaId: 'm2', reason: 'already exists' },
        ],
      },
    })
  })

  it('`state: lost` is an unknown job, like a 404', () => {
    expect(status({ finished: false, state: 'lost', id: 'no import job found for id "x"' })).toEqual({
      class: 'job-unknown',
    })
  })

  it('a status that really cannot be read is unreadable, with its shape and no values', () => {
    const reading = status({ finished: 'yes', state: 'success', files: [{ externalId: 'secret-id' }] })
    expect(reading).toMatchObject({ class: 'unreadable', code: 'API_INVALID_RESPONSE' })
    const { shape, message } = reading as { shape: string; message: string }
    expect(shape).toBe('{finished: string, state: string, files: array(1) of {externalId: string}}')
    expect(`${shape} ${message}`).not.toContain('secret-id')
    expect(classOf(status({ finished: true, state: 'weird' }))).toBe('unreadable')
    expect(classOf(status({ finished: true, state: 'success', files: [{ state: 'imported' }] }))).toBe(
      'unreadable',
    )
  })
})

describe('bodyShape', () => {
  it('gives keys and types three levels deep, never values', () => {
    expect(bodyShape({ a: 'x', b: { c: 1, d: { e: { f: true } } }, f: [], g: null })).toBe(
      '{a: string, b: {c: number, d: {e: object}}, f: array(0), g: null}',
    )
    expect(bodyShape(undefined)).toBe('empty')
    expect(bodyShape(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`key${i}`, i]))).length).toBe(
      MAX_API_TEXT_CHARS,
    )
  })
})
