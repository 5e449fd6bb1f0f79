// The import API client against a scripted node:http server: requests, status normalisation, retries, errors.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../../src/errors.ts'
import {
  classifyStatus,
  createImportClient,
  type ImportClient,
  type ImportClientOptions,
} from '../../../src/import/import-client.ts'
import type { ImportRequest } from '../../../src/import/import-request.ts'
import { createMetrics, type Metrics } from '../../../src/metrics.ts'

const TOKEN = 'tok-123'
const API_VERSION = '2026-07'

interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  at: number
}

type Reply = (req: Received, res: ServerResponse) => void

/** A server answering each request with the next scripted reply (the last one repeats). */
interface ScriptedServer {
  base: string
  received: Received[]
  script(...replies: Reply[]): void
  close(): Promise<void>
}

async function startServer(): Promise<ScriptedServer> {
  let replies: Reply[] = [json(500, { error: 'no script' })]
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      }
      const reply = replies[Math.min(received.length, replies.length - 1)] as Reply
      received.push(r)
      reply(r, res)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    received,
    script(...next) {
      replies = next
    },
    async close() {
      server.closeAllConnections()
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(body === undefined ? '' : JSON.stringify(body))
  }
}

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

function client(options: Partial<ImportClientOptions> = {}): ImportClient {
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
    { metrics },
  )
  clients.push(c)
  return c
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError)
    return err as ApiError
  }
  throw new Error('expected a rejection')
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

  it('a non-JSON 200 body -> API_INVALID_RESPONSE', async () => {
    server.script((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<html>proxy</html>')
    })
    expect((await rejection(client().status('job-1'))).code).toBe('API_INVALID_RESPONSE')
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
    server.script(json(503, {}), json(429, {}), json(200, { id: 'job-9' }))
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

  it('429 after the retries -> retryable API_RATE_LIMITED', async () => {
    server.script(json(429, { error: 'Too Many Requests' }))
    const err = await rejection(client({ maxRetries: 0 }).submit(request))
    expect(err.code).toBe('API_RATE_LIMITED')
    expect(err.retryable).toBe(true)
    expect(server.received).toHaveLength(1)
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
    expect(err.retryable).toBe(false)
    expect(err.message).toContain('HTTP 400')
    expect(err.message).toContain('Bad Request')
    expect(err.message).toContain(JSON.stringify(details))
    expect(server.received).toHaveLength(1)
  })

  it('400 with a non-JSON body still names the status', async () => {
    server.script((_r, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' })
      res.end('nope')
    })
    const err = await rejection(client().submit(request))
    expect(err.code).toBe('API_BAD_REQUEST')
    expect(err.message).toBe('submit answered HTTP 400')
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

  it('does not limit without rateLimitPerSecond', async () => {
    server.script(json(200, { finished: true, state: 'failed' }))
    const c = client()
    await Promise.all(['a', 'b', 'c'].map((id) => c.status(id)))
    expect(server.received).toHaveLength(3)
  })
})

describe('classifyStatus', () => {
  it.each([
    [400, 'API_BAD_REQUEST', false],
    [401, 'API_UNAUTHORIZED', false],
    [403, 'API_FORBIDDEN', false],
    [408, 'API_NETWORK_ERROR', true],
    [410, 'API_VERSION_GONE', false],
    [413, 'API_BAD_REQUEST', false],
    [422, 'API_BAD_REQUEST', false],
    [429, 'API_RATE_LIMITED', true],
    [500, 'API_SERVER_ERROR', true],
    [502, 'API_SERVER_ERROR', true],
    [503, 'API_SERVER_ERROR', true],
    [504, 'API_SERVER_ERROR', true],
  ] as const)('%i -> %s (retryable %s)', (status, code, retryable) => {
    expect(classifyStatus(status)).toEqual({ code, retryable })
  })
})
