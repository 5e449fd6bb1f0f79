// The import API client against a scripted node:http server: requests, status normalisation, retries, errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AnswerClass, ApiError } from '../../../src/errors.ts'
import {
  createImportClient,
  type ImportClient,
  type ImportClientOptions,
} from '../../../src/import/import-client.ts'
import type { ImportRequest } from '../../../src/import/import-request.ts'
import { createLogger } from '../../../src/logging.ts'
import { createMetrics, type Metrics } from '../../../src/metrics.ts'
import type { BridgeTracing } from '../../../src/telemetry/bridge-tracing.ts'
import { parseTraceparent } from '../../../src/telemetry/trace-context.ts'
import { LogLines } from '../../support/log-lines.ts'
import {
  json,
  type Reply,
  rejection,
  type ScriptedServer,
  startServer,
} from '../../support/scripted-server.ts'
import { recordSpans } from '../../support/span-recorder.ts'

const TOKEN = 'tok-123'
const API_VERSION = '2026-07'

const request: ImportRequest = {
  kind: 'file',
  systemName: 'archive',
  files: [
    {
      id: 'ext-1',
      url: 'https://files.example/a.pdf',
      fileName: 'a.pdf',
      mediaType: 'file',
      metadata: { title: 'Ä' },
    },
  ],
  webhook: 'https://bridge.example/webhook',
  context: { batchId: 'b1' },
}

let server: ScriptedServer
let metrics: Metrics
let clients: ImportClient[]

function client(options: Partial<ImportClientOptions> = {}, tracing?: BridgeTracing): ImportClient {
  const c = createImportClient(
    {
      baseUrl: server.base,
      apiVersion: API_VERSION,
      accessToken: TOKEN,
      requestTimeoutMs: 2000,
      maxRetries: 3,
      minBackoffMs: 5,
      maxBackoffMs: 20,
      ...options,
    },
    { metrics, tracing },
  )
  clients.push(c)
  return c
}

beforeEach(async () => {
  server = await startServer()
  metrics = createMetrics()
  clients = []
})
afterEach(async () => {
  for (const c of clients) await c.close()
  await server.close()
})

describe('submit', () => {
  it('POSTs the JSON request to /api/<version>/import/files with the bearer token and returns the id', async () => {
    // Given an API that accepts the job
    server.script(json(200, { id: 'job-1' }))
    // When submitting
    const id = await client().submit(request)
    // Then the id comes back and the request is as documented
    expect(id).toBe('job-1')
    expect(server.received).toHaveLength(1)
    const [r] = server.received
    expect(r?.method).toBe('POST')
    expect(r?.url).toBe(`/api/${API_VERSION}/import/files`)
    expect(r?.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(r?.headers['content-type']).toMatch(/^application\/json/)
    const { kind: _kind, ...body } = request
    expect(JSON.parse(r?.body ?? '')).toEqual(body)
  })

  it('sends entries serialised by the decoder as they are, beside object entries', async () => {
    // Given a request whose first entry is already JSON (the decoder's entryJson) and an API that accepts it
    server.script(json(200, { id: 'job-1' }))
    const second = {
      id: 'ext-2',
      url: 'https://files.example/b.pdf',
      fileName: 'b',
      mediaType: 'file',
      metadata: {},
    }
    const mixed: ImportRequest = { ...request, files: [JSON.stringify(request.files[0]), second] }
    // When submitting
    await client().submit(mixed)
    // Then the body is the JSON of the all-object request: one files[] array, no entry as a nested string
    const { kind: _kind, ...body } = request
    expect(JSON.parse(server.received[0]?.body ?? '')).toEqual({ ...body, files: [...request.files, second] })
  })

  it('keeps a path prefix of the base URL', async () => {
    server.script(json(200, { id: 'job-1' }))
    await client({ baseUrl: `${server.base}/ld/` }).submit(request)
    expect(server.received[0]?.url).toBe(`/ld/api/${API_VERSION}/import/files`)
  })

  it('accepts a numeric id and 201', async () => {
    server.script(json(201, { id: 42 }))
    expect(await client().submit(request)).toBe('42')
  })

  it('accepts any 2xx with a job id: 202 {"id":"J-1"} is an accepted job, one request', async () => {
    server.script(json(202, { id: 'J-1' }))
    expect(await client().submit(request)).toBe('J-1')
    expect(server.received).toHaveLength(1)
    const text = await metrics.registry.getSingleMetricAsString('bridge_api_answers_total')
    expect(text).toContain('bridge_api_answers_total{endpoint="submit",class="accepted"} 1')
  })

  it('a 200 without an id -> API_INVALID_RESPONSE', async () => {
    server.script(json(200, { ok: true }))
    expect((await rejection(client().submit(request))).code).toBe('API_INVALID_RESPONSE')
  })

  it('counts bridge_api_requests_total{endpoint="submit",status="200"}', async () => {
    server.script(json(200, { id: 'job-1' }))
    const c = client()
    await c.submit(request)
    await c.submit(request)
    const text = await metrics.registry.getSingleMetricAsString('bridge_api_requests_total')
    expect(text).toContain('bridge_api_requests_total{endpoint="submit",status="200"} 2')
  })
})

describe('status normalisation', () => {
  async function statusFor(body: unknown, httpStatus = 200) {
    server.script(json(httpStatus, body))
    return client().status('job-1')
  }

  it('GETs /api/<version>/import/files/status?id=<id> with the bearer token', async () => {
    server.script(json(200, { finished: false, state: 'started', id: 'a b' }))
    await client().status('a b')
    const [r] = server.received
    expect(r?.method).toBe('GET')
    expect(r?.url).toBe(`/api/${API_VERSION}/import/files/status?id=a%20b`)
    expect(r?.headers.authorization).toBe(`Bearer ${TOKEN}`)
  })

  it('a running job with a non-ISO startedAt -> started, startedAt passed through', async () => {
    expect(
      await statusFor({ finished: false, state: 'started', id: 'job-1', startedAt: '2026-07-01 10:00:00' }),
    ).toEqual({
      finished: false,
      state: 'started',
      startedAt: '2026-07-01 10:00:00',
    })
  })

  it('per-file key `state` with value `imported` -> imported', async () => {
    const s = await statusFor({
      finished: true,
      state: 'success',
      files: [{ state: 'imported', externalId: 'e1', systemName: 'archive', mediaId: 'm1' }],
    })
    expect(s).toEqual({
      finished: true,
      state: 'success',
      files: [
        { externalId: 'e1', systemName: 'archive', state: 'imported', mediaId: 'm1', reason: undefined },
      ],
    })
  })

  it('per-file key `status` with value `success` (older shape) -> imported', async () => {
    const s = await statusFor({
      finished: true,
      state: 'success',
      files: [{ status: 'success', externalId: 'e1', mediaId: 'm1' }],
    })
    expect(s).toMatchObject({
      state: 'success',
      files: [{ externalId: 'e1', state: 'imported', mediaId: 'm1' }],
    })
  })

  it('per-file `status: imported` and `state: success` -> imported, case-insensitive', async () => {
    const s = await statusFor({
      finished: true,
      state: 'success',
      files: [
        { status: 'imported', externalId: 'e1', mediaId: 'm1' },
        { state: 'SUCCESS', externalId: 'e2', mediaId: 'm2' },
      ],
    })
    expect(s.state === 'success' && s.files.map((f) => f.state)).toEqual(['imported', 'imported'])
  })

  it('skipped keeps the mediaId and reason', async () => {
    const s = await statusFor({
      finished: true,
      state: 'success',
      files: [{ state: 'skipped', externalId: 'e1', mediaId: 'm-old', reason: 'already exists' }],
    })
    expect(s).toMatchObject({
      files: [{ externalId: 'e1', state: 'skipped', mediaId: 'm-old', reason: 'already exists' }],
    })
  })

  it('failed keeps the reason, a null mediaId becomes undefined', async () => {
    const s = await statusFor({
      finished: true,
      state: 'success',
      files: [
        { state: 'failed', externalId: 'e1', mediaId: null, reason: 'Could not upload file: HTTP 404' },
      ],
    })
    expect(s).toEqual({
      finished: true,
      state: 'success',
      files: [
        {
          externalId: 'e1',
          systemName: undefined,
          state: 'failed',
          mediaId: undefined,
          reason: 'Could not upload file: HTTP 404',
        },
      ],
    })
  })

  it('an unknown per-file state -> failed with a reason naming it', async () => {
    const s = await statusFor({
      finished: true,
      state: 'success',
      files: [{ state: 'weird', externalId: 7 }],
    })
    expect(s).toMatchObject({
      files: [{ externalId: '7', state: 'failed', reason: 'unknown per-file state "weird"' }],
    })
  })

  it('a job-level failure with no files -> {state: failed}', async () => {
    expect(await statusFor({ finished: true, state: 'failed', id: 'job-1' })).toEqual({
      finished: true,
      state: 'failed',
    })
  })

  it('a job-level failure with an empty files array -> {state: failed}', async () => {
    expect(await statusFor({ finished: true, state: 'failed', id: 'job-1', files: [] })).toEqual({
      finished: true,
      state: 'failed',
    })
  })

  it('HTTP 200 {finished:false, state:lost} -> lost', async () => {
    expect(await statusFor({ finished: false, state: 'lost', id: 'job-1' })).toEqual({
      finished: true,
      state: 'lost',
    })
  })

  it('HTTP 404 -> lost, without retries', async () => {
    expect(await statusFor({ status: 404, error: 'Not Found' }, 404)).toEqual({
      finished: true,
      state: 'lost',
    })
    expect(server.received).toHaveLength(1)
  })

  it('a body of an unknown shape -> retryable API_INVALID_RESPONSE', async () => {
    server.script(json(200, { hello: 'world' }))
    const err = await rejection(client().status('job-1'))
    expect(err.code).toBe('API_INVALID_RESPONSE')
    expect(err.retryable).toBe(true)
  })

  it('a non-JSON 200 body (a page, not the API) -> configuration, naming the base URL', async () => {
    server.script((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<html>proxy</html>')
    })
    const err = await rejection(client().status('job-1'))
    expect(err).toMatchObject({ code: 'API_UNEXPECTED_ANSWER', answerClass: 'configuration' })
    expect(err.setting).toContain('LIVINGDOCS_BASE_URL')
  })

  it('counts bridge_api_requests_total{endpoint="status",status="404"}', async () => {
    await statusFor({}, 404)
    const text = await metrics.registry.getSingleMetricAsString('bridge_api_requests_total')
    expect(text).toContain('bridge_api_requests_total{endpoint="status",status="404"} 1')
  })
})

describe('images and videos imports ([I] [V] §7)', () => {
  it.each([
    ['image', 'images'],
    ['video', 'videos'],
  ] as const)('a %s batch goes to /import/%s with its entries under that key', async (kind, key) => {
    server.script(json(200, { id: 'job-1' }))
    await client().submit({ ...request, kind })
    const [r] = server.received
    expect(r?.url).toBe(`/api/${API_VERSION}/import/${key}`)
    const body = JSON.parse(r?.body ?? '') as Record<string, unknown>
    expect(body[key]).toEqual(request.files)
    expect(body).not.toHaveProperty('files')
    expect(body).not.toHaveProperty('kind')
  })

  it("reads an image job's status at /import/images/status and takes each mediaId from its nested image", async () => {
    // Given the documented image status: mediaId inside image{}, per-file value success, a failed item
    server.script(
      json(200, {
        finished: true,
        state: 'success',
        id: 'job-1',
        images: [
          {
            state: 'success',
            externalId: 'a',
            systemName: 's',
            image: { mediaId: 'm-a', width: 10, height: 5 },
          },
          {
            state: 'skipped',
            reason: 'already exists',
            externalId: 'b',
            systemName: 's',
            image: { mediaId: 'm-b' },
          },
          { state: 'failed', reason: 'Could not upload image', externalId: 'c', systemName: 's' },
        ],
      }),
    )
    const status = await client().status('job-1', 'image')
    expect(server.received[0]?.url).toBe(`/api/${API_VERSION}/import/images/status?id=job-1`)
    expect(status).toEqual({
      finished: true,
      state: 'success',
      files: [
        { externalId: 'a', systemName: 's', state: 'imported', mediaId: 'm-a', reason: undefined },
        { externalId: 'b', systemName: 's', state: 'skipped', mediaId: 'm-b', reason: 'already exists' },
        {
          externalId: 'c',
          systemName: 's',
          state: 'failed',
          mediaId: undefined,
          reason: 'Could not upload image',
        },
      ],
    })
  })

  it("reads a video job's nested video{mediaId}", async () => {
    server.script(
      json(200, {
        finished: true,
        state: 'success',
        id: 'job-1',
        videos: [
          {
            state: 'imported',
            externalId: 'v',
            systemName: 's',
            video: { mediaId: 'm-v', mimeType: 'video/mp4' },
          },
        ],
      }),
    )
    const status = await client().status('job-1', 'video')
    expect(server.received[0]?.url).toBe(`/api/${API_VERSION}/import/videos/status?id=job-1`)
    expect(status).toMatchObject({
      state: 'success',
      files: [{ externalId: 'v', state: 'imported', mediaId: 'm-v' }],
    })
  })
})

describe('retries', () => {
  it('503 twice then 200 succeeds after 3 requests', async () => {
    // Given an API that fails twice with 503
    server.script(json(503, { error: 'busy' }), json(503, { error: 'busy' }), json(200, { id: 'job-3' }))
    // When submitting
    const id = await client({ maxRetries: 3 }).submit(request)
    // Then the third attempt succeeds, with the same body each time
    expect(id).toBe('job-3')
    expect(server.received).toHaveLength(3)
    expect(new Set(server.received.map((r) => r.body)).size).toBe(1)
    // and the final status is counted once
    const text = await metrics.registry.getSingleMetricAsString('bridge_api_requests_total')
    expect(text).toContain('bridge_api_requests_total{endpoint="submit",status="200"} 1')
  })

  it('gives up after maxRetries: 500 every time -> retryable API_SERVER_ERROR after 1 + maxRetries requests', async () => {
    server.script(json(500, { error: 'Internal' }))
    const err = await rejection(client({ maxRetries: 2 }).submit(request))
    expect(err.code).toBe('API_SERVER_ERROR')
    expect(err.retryable).toBe(true)
    expect(err.message).toContain('HTTP 500')
    expect(server.received).toHaveLength(3)
  })

  it('retries status reads too', async () => {
    server.script(json(502, {}), json(200, { finished: true, state: 'failed' }))
    expect(await client().status('job-1')).toEqual({ finished: true, state: 'failed' })
    expect(server.received).toHaveLength(2)
  })

  it('honours Retry-After: 1 on a 429', async () => {
    // Given a 429 asking to wait one second, then success
    server.script(
      json(429, { error: 'Too Many Requests' }, { 'retry-after': '1' }),
      json(200, { id: 'job-1' }),
    )
    // When submitting with a tiny backoff (Retry-After must win over it; the cap is the default 30 s)
    const id = await client({ maxRetries: 1, minBackoffMs: 5, maxBackoffMs: 30_000 }).submit(request)
    // Then the retry waited about a second
    expect(id).toBe('job-1')
    expect(server.received).toHaveLength(2)
    const gap = (server.received[1]?.at ?? 0) - (server.received[0]?.at ?? 0)
    expect(gap).toBeGreaterThanOrEqual(900)
  })

  it('counts every attempt in bridge_api_attempts_total and only the final answer in bridge_api_requests_total', async () => {
    // Given an API that answers 503, 429, then 200
    server.script(json(503, {}), json(429, {}, { 'retry-after': '0' }), json(200, { id: 'job-9' }))
    // When submitting
    expect(await client({ maxRetries: 3 }).submit(request)).toBe('job-9')
    // Then three attempts are counted by status, one final request
    const attempts = await metrics.registry.getSingleMetricAsString('bridge_api_attempts_total')
    expect(attempts).toContain('bridge_api_attempts_total{endpoint="submit",status="503"} 1')
    expect(attempts).toContain('bridge_api_attempts_total{endpoint="submit",status="429"} 1')
    expect(attempts).toContain('bridge_api_attempts_total{endpoint="submit",status="200"} 1')
    const requests = await metrics.registry.getSingleMetricAsString('bridge_api_requests_total')
    expect(requests).toContain('bridge_api_requests_total{endpoint="submit",status="200"} 1')
    expect(requests).not.toContain('status="503"')
  })

  it('counts attempts that got no answer as status 0, per endpoint', async () => {
    // Given an API that drops the connection twice, then answers a status read
    server.script(
      (_r, res) => res.socket?.destroy(),
      (_r, res) => res.socket?.destroy(),
      json(200, { finished: true, state: 'failed' }),
    )
    // When reading a status
    await client({ maxRetries: 3 }).status('job-1')
    // Then two attempts without an answer and one 200 are counted for the status endpoint
    const attempts = await metrics.registry.getSingleMetricAsString('bridge_api_attempts_total')
    expect(attempts).toContain('bridge_api_attempts_total{endpoint="status",status="0"} 2')
    expect(attempts).toContain('bridge_api_attempts_total{endpoint="status",status="200"} 1')
  })

  it('honours Retry-After as an HTTP-date on a 503', async () => {
    // Given a 503 asking to come back at a date about two seconds ahead (HTTP-dates have whole seconds)
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000)
    server.script(
      json(503, { error: 'Service Unavailable' }, { 'retry-after': at.toUTCString() }),
      json(200, { id: 'job-2' }),
    )
    // When submitting with a tiny backoff
    const id = await client({ maxRetries: 1, minBackoffMs: 5, maxBackoffMs: 30_000 }).submit(request)
    // Then the retry did not come before the date (a lower bound, which only a bug can break)
    expect(id).toBe('job-2')
    expect(server.received[1]?.at ?? 0).toBeGreaterThanOrEqual(at.getTime() - 50)
  })

  it('a Retry-After longer than maxBackoffMs ends the retries and hands it to the caller', async () => {
    // Given a 429 asking for 120 s while the client waits at most 30 s
    server.script(
      json(429, { error: 'Usage Limit Exceeded' }, { 'retry-after': '120' }),
      json(200, { id: 'x' }),
    )
    // When submitting with retries left
    const err = await rejection(client({ maxRetries: 3, maxBackoffMs: 30_000 }).submit(request))
    // Then one request only, and a retryable error that carries the Retry-After in ms
    expect(server.received).toHaveLength(1)
    expect(err.code).toBe('API_RATE_LIMITED')
    expect(err.retryable).toBe(true)
    expect(err).toMatchObject({ endpoint: 'submit', status: 429, retryAfterMs: 120_000 })
  })

  it('429 without Retry-After after the retries -> retryable API_QUOTA_EXCEEDED (submit), API_RATE_LIMITED (status)', async () => {
    server.script(json(429, { error: 'Usage Limit Exceeded' }))
    const c = client({ maxRetries: 0 })
    const err = await rejection(c.submit(request))
    expect(err).toMatchObject({ code: 'API_QUOTA_EXCEEDED', answerClass: 'quota', retryable: true })
    expect(server.received).toHaveLength(1)
    expect(await rejection(c.status('j'))).toMatchObject({ code: 'API_RATE_LIMITED', answerClass: 'retry' })
  })
})

describe('errors', () => {
  it('401 -> API_UNAUTHORIZED, not retried', async () => {
    server.script(json(401, { status: 401, error: 'Unauthorized' }))
    const err = await rejection(client().submit(request))
    expect(err.code).toBe('API_UNAUTHORIZED')
    expect(err.retryable).toBe(false)
    expect(err).toMatchObject({ endpoint: 'submit', status: 401, retryAfterMs: undefined })
    expect(server.received).toHaveLength(1)
    expect(err.message).not.toContain(TOKEN)
  })

  it('403 -> API_FORBIDDEN, not retried', async () => {
    server.script(json(403, { status: 403, error: 'Forbidden' }))
    const err = await rejection(client().submit(request))
    expect(err.code).toBe('API_FORBIDDEN')
    expect(server.received).toHaveLength(1)
  })

  it('counts 401 and 403 answers in bridge_api_auth_failures_total', async () => {
    server.script(json(401, {}), json(403, {}), json(200, { id: 'j' }))
    const c = client()
    await rejection(c.submit(request))
    await rejection(c.status('j'))
    await c.submit(request)
    expect(await metrics.registry.getSingleMetricAsString('bridge_api_auth_failures_total')).toMatch(
      /^bridge_api_auth_failures_total 2$/m,
    )
  })

  it('400 -> API_BAD_REQUEST with the error and error_details in the message', async () => {
    const details = { 'files[0].url': 'must be a URL' }
    server.script(json(400, { status: 400, error: 'Bad Request', error_details: details }))
    const err = await rejection(client().submit(request))
    expect(err.code).toBe('API_BAD_REQUEST')
    expect(err.answerClass).toBe('file-data')
    expect(err.retryable).toBe(false)
    expect(err.message).toBe('submit answered HTTP 400: Bad Request; files[0].url: must be a URL')
    expect(server.received).toHaveLength(1)
  })

  it('400 with a plain text body keeps the text', async () => {
    server.script((_r, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' })
      res.end('nope')
    })
    const err = await rejection(client().submit(request))
    expect(err.code).toBe('API_BAD_REQUEST')
    expect(err.message).toBe('submit answered HTTP 400: nope')
  })

  it('400 {"error": "files[2].mediaType invalid"} (no error_details) keeps the API’s message', async () => {
    server.script(json(400, { error: 'files[2].mediaType invalid' }))
    const err = await rejection(client().submit(request))
    expect(err.message).toBe('submit answered HTTP 400: files[2].mediaType invalid')
  })

  it('410 -> API_VERSION_GONE', async () => {
    server.script(json(410, { status: 410, error: 'Gone' }))
    expect((await rejection(client().submit(request))).code).toBe('API_VERSION_GONE')
  })

  it('status 401 -> API_UNAUTHORIZED (only 404 means lost)', async () => {
    server.script(json(401, { error: 'Unauthorized' }))
    expect((await rejection(client().status('job-1'))).code).toBe('API_UNAUTHORIZED')
  })

  it('network error (server closed) -> retryable API_NETWORK_ERROR, counted as status 0', async () => {
    // Given no server listening any more
    await server.close()
    // When submitting
    const err = await rejection(client({ maxRetries: 1 }).submit(request))
    // Then a retryable network error
    expect(err.code).toBe('API_NETWORK_ERROR')
    expect(err.retryable).toBe(true)
    expect(err.message).toMatch(/^submit request failed: /)
    const text = await metrics.registry.getSingleMetricAsString('bridge_api_requests_total')
    expect(text).toContain('bridge_api_requests_total{endpoint="submit",status="0"} 1')
  })

  it('a connection reset mid-response -> API_NETWORK_ERROR after retrying', async () => {
    server.script((_r, res) => res.socket?.destroy())
    const err = await rejection(client({ maxRetries: 2 }).status('job-1'))
    expect(err.code).toBe('API_NETWORK_ERROR')
    expect(server.received).toHaveLength(3)
  })
})

describe('rate limit', () => {
  it('starts at most rateLimitPerSecond requests in any second', async () => {
    // Given a limit of 2 requests per second
    server.script(json(200, { finished: true, state: 'failed' }))
    const c = client({ rateLimitPerSecond: 2 })
    // When 5 status reads are asked for at once
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => c.status(id)))
    // Then all are answered, and the 3rd and 5th started at least a second after the 1st and 3rd
    // (lower bounds: a slow machine only makes the gaps longer)
    expect(server.received).toHaveLength(5)
    const at = server.received.map((r) => r.at)
    expect((at[2] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(950)
    expect((at[4] ?? 0) - (at[2] ?? 0)).toBeGreaterThanOrEqual(950)
  })

  it('starts a submit waiting for the window before status reads that waited longer', async () => {
    // Given a limit of 1 request per second, one status read started and two more waiting
    server.script((r, res) =>
      json(200, r.method === 'POST' ? { id: 'J-1' } : { finished: true, state: 'failed' })(r, res),
    )
    const c = client({ rateLimitPerSecond: 1 })
    const reads = ['a', 'b', 'c'].map((id) => c.status(id))
    // When a submit is asked for after them
    const submit = c.submit(request)
    await Promise.all([...reads, submit])
    // Then it is the second request: a submit gives Livingdocs its next job, a read only reports one
    expect(server.received.map((r) => r.method)).toEqual(['GET', 'POST', 'GET', 'GET'])
  })

  it('does not limit without rateLimitPerSecond', async () => {
    server.script(json(200, { finished: true, state: 'failed' }))
    const c = client()
    await Promise.all(['a', 'b', 'c'].map((id) => c.status(id)))
    expect(server.received).toHaveLength(3)
  })
})

describe('every status class over real HTTP, both endpoints', () => {
  // One answer per row, as the server sends it; the class the client gives it (see api-answer.test.ts for
  // the whole table). No retries here (maxRetries 0), so each row is one request.
  const rows: Array<[string, Reply, AnswerClass | 'lost', AnswerClass | 'lost']> = [
    [
      '202 with an id / a status',
      (r, res) =>
        json(202, r.method === 'POST' ? { id: 'J-1' } : { finished: false, state: 'started' })(r, res),
      'accepted',
      'accepted',
    ],
    ['204 without a body', (_r, res) => res.writeHead(204).end(), 'unreadable', 'unreadable'],
    ['301 to https', redirect(301, 'https://ld.example/api'), 'configuration', 'configuration'],
    ['302 elsewhere', redirect(302, '/elsewhere'), 'configuration', 'configuration'],
    [
      '307 with a trailing slash',
      redirect(307, '/api/2026-07/import/files/'),
      'configuration',
      'configuration',
    ],
    ['308 to https', redirect(308, 'https://ld.example/api'), 'configuration', 'configuration'],
    [
      '400, documented body',
      json(400, { status: 400, error: 'Bad Request', error_details: { files: 'x' } }),
      'file-data',
      'configuration',
    ],
    ['401', json(401, { status: 401, error: 'Unauthorized' }), 'credentials', 'credentials'],
    ['403', json(403, { status: 403, error: 'Forbidden' }), 'credentials', 'credentials'],
    [
      '404, documented body',
      json(404, { status: 404, error: 'Not Found', error_details: { url: '/x' } }),
      'configuration',
      'lost',
    ],
    ['405 without a body', (_r, res) => res.writeHead(405).end(), 'configuration', 'configuration'],
    ['406', json(406, { error: 'Not Acceptable' }), 'configuration', 'configuration'],
    ['410', json(410, { status: 410, error: 'Gone' }), 'configuration', 'configuration'],
    ['415', json(415, { error: 'Unsupported Media Type' }), 'configuration', 'configuration'],
    ['422', json(422, { status: 422, error: 'Unprocessable Entity' }), 'file-data', 'configuration'],
    ['429 without Retry-After', json(429, { status: 429, error: 'Usage Limit Exceeded' }), 'quota', 'retry'],
    ['429 with Retry-After', json(429, { status: 429 }, { 'retry-after': '1' }), 'retry', 'retry'],
    ['500', json(500, { status: 500 }), 'retry', 'retry'],
    ['501', json(501, { status: 501 }), 'configuration', 'configuration'],
    [
      '503 as text',
      (_r, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('busy'),
      'retry',
      'retry',
    ],
  ]
  it.each(rows)('%s -> submit %s, status read %s', async (_name, reply, submitClass, statusClass) => {
    server.script(reply)
    const c = client({ maxRetries: 0 })
    const classOf = async (call: Promise<unknown>) => {
      try {
        const value = await call
        return typeof value === 'object' && (value as { state?: string }).state === 'lost'
          ? 'lost'
          : 'accepted'
      } catch (err) {
        expect(err).toBeInstanceOf(ApiError)
        return (err as ApiError).answerClass
      }
    }
    expect(await classOf(c.submit(request))).toBe(submitClass)
    expect(await classOf(c.status('job-1'))).toBe(statusClass)
    // Nothing followed: one request per call
    expect(server.received).toHaveLength(2)
  })

  it('does not follow a redirect: the Location is named, the request not repeated there', async () => {
    server.script(redirect(308, '/other/api/2026-07/import/files'), json(200, { id: 'never' }))
    const err = await rejection(client().submit(request))
    expect(err.message).toBe(
      'submit answered HTTP 308: a redirect to /other/api/2026-07/import/files, not followed',
    )
    expect(server.received.map((r) => r.url)).toEqual([`/api/${API_VERSION}/import/files`])
  })

  it('counts each final answer by endpoint and class', async () => {
    server.script(json(503, {}), json(401, {}), json(200, { finished: true, state: 'failed' }))
    const c = client({ maxRetries: 0 })
    await rejection(c.submit(request))
    await rejection(c.status('a'))
    await c.status('b')
    const text = await metrics.registry.getSingleMetricAsString('bridge_api_answers_total')
    expect(text).toContain('bridge_api_answers_total{endpoint="submit",class="retry"} 1')
    expect(text).toContain('bridge_api_answers_total{endpoint="status",class="credentials"} 1')
    expect(text).toContain('bridge_api_answers_total{endpoint="status",class="accepted"} 1')
  })
})

describe('the access token file', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'token-file-'))
  })
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('rotated in place: a 401 reads it again and the new token is used at once, logged without its value', async () => {
    // Given a token file and an API that accepts only the token written there later
    const file = join(dir, 'token')
    writeFileSync(file, 'old-token-1111\n')
    server.script((r, res) =>
      r.headers.authorization === 'Bearer new-token-2222'
        ? json(200, { id: 'job-new' })(r, res)
        : json(401, { status: 401, error: 'Unauthorized', error_details: { access_token: 'expired' } })(
            r,
            res,
          ),
    )
    const logs = new LogLines()
    const c = createImportClient(
      {
        baseUrl: server.base,
        apiVersion: API_VERSION,
        accessToken: 'old-token-1111',
        accessTokenFile: file,
        requestTimeoutMs: 2000,
        maxRetries: 0,
      },
      { metrics, logger: createLogger({ level: 'info', destination: logs.writable() }) },
    )
    clients.push(c)

    // When the file is rewritten in place (a mounted Secret that changed) and a submit is made
    writeFileSync(file, 'new-token-2222\n')
    const id = await c.submit(request)

    // Then the 401 made the client read the file again and ask once more with the new token
    expect(id).toBe('job-new')
    expect(server.received.map((r) => r.headers.authorization)).toEqual([
      'Bearer old-token-1111',
      'Bearer new-token-2222',
    ])
    expect(
      logs.withMsg('import API refused the access token; the token file holds a new one, used from now on'),
    ).toHaveLength(1)
    expect(logs.text()).not.toMatch(/old-token-1111|new-token-2222/)

    // And the next request uses the new token straight away
    await c.submit(request)
    expect(server.received.at(-1)?.headers.authorization).toBe('Bearer new-token-2222')
  })

  it('is read at most every few seconds: a burst of 401s reads it once', async () => {
    const file = join(dir, 'token')
    writeFileSync(file, 'same-token')
    server.script(json(401, {}))
    const c = client({ accessToken: 'same-token', accessTokenFile: file, maxRetries: 0 })
    await rejection(c.submit(request))
    writeFileSync(file, 'newer-token')
    // Within the interval the file is not read again, so the 401 stands and nothing is retried
    await rejection(c.submit(request))
    expect(server.received.map((r) => r.headers.authorization)).toEqual([
      'Bearer same-token',
      'Bearer same-token',
    ])
  })

  it('a fixed token (no file) is never re-read: one request per 401', async () => {
    server.script(json(401, {}))
    await rejection(client({ maxRetries: 0 }).submit(request))
    expect(server.received).toHaveLength(1)
  })
})

function redirect(status: number, location: string): Reply {
  return (_req, res) => {
    res.writeHead(status, { location })
    res.end()
  }
}

describe('traces', () => {
  const INPUT_TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

  it('without tracing, sends the caller’s trace headers as they are', async () => {
    server.script(json(200, { id: 'job-1' }))
    await client().submit(request, { headers: { traceparent: INPUT_TRACEPARENT, tracestate: 'legacy=1' } })
    expect(server.received[0]?.headers).toMatchObject({
      traceparent: INPUT_TRACEPARENT,
      tracestate: 'legacy=1',
    })
  })

  it('while tracing, each request and its retries is one client span of the job, whose context replaces the caller’s', async () => {
    // Given a client that makes spans, in a job's span, and an API that fails once
    const { tracing, named } = recordSpans()
    const job = tracing.startJob(
      { id: 'b', systemName: 's', kind: 'file', files: [], bytes: 0, closedBy: 'linger' },
      undefined,
      { resubmits: 0 },
    )
    server.script(json(503, { error: 'busy' }), json(200, { id: 'job-1' }))

    // When a batch with an input's trace headers is submitted
    await tracing.withSpan(job, () =>
      client({}, tracing).submit(request, {
        headers: { traceparent: INPUT_TRACEPARENT, tracestate: 'legacy=1' },
      }),
    )

    // Then both attempts carry the span's context, not the input's, and no tracestate of another trace
    const [post] = named(`POST /api/${API_VERSION}/import/files`)
    expect(post?.parentSpanContext?.spanId).toBe(job?.spanContext().spanId)
    expect(post?.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
    })
    expect(server.received).toHaveLength(2)
    for (const r of server.received) {
      expect(parseTraceparent(r.headers.traceparent as string)).toMatchObject({
        traceId: job?.spanContext().traceId,
        parentId: post?.spanContext().spanId,
      })
      expect(r.headers.tracestate).toBeUndefined()
      expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`)
    }
    // And the token is on no span
    expect(JSON.stringify(named(`POST /api/${API_VERSION}/import/files`)[0]?.attributes)).not.toContain(TOKEN)
  })

  it('a status read that got no answer ends its span with the error code', async () => {
    const { tracing, named } = recordSpans()
    await server.close()
    await rejection(client({ maxRetries: 0 }, tracing).status('j 1'))
    const [read] = named(`GET /api/${API_VERSION}/import/files/status`)
    expect(read?.attributes).toMatchObject({ 'error.type': 'API_NETWORK_ERROR' })
    expect(read?.attributes['url.full']).toContain('status?id=j%201')
  })
})
