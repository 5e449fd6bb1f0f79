// The webhook and operations apps over real sockets on 127.0.0.1, and the listen()/close() wrapper.

import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { Writable } from 'node:stream'
import { request } from 'undici'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createOpsApp, createWebhookApp, WEBHOOK_BODY_LIMIT_BYTES } from '../../../src/http/http-app.ts'
import { type HttpServer, KEEP_ALIVE_TIMEOUT_MS, listen } from '../../../src/http/http-server.ts'
import { signBatchId, signedWebhookUrl, verifyBatchSignature } from '../../../src/import/webhook-signature.ts'
import { createLogger } from '../../../src/logging.ts'
import { createMetrics, type Metrics } from '../../../src/metrics.ts'
import { WEBHOOK_PATH } from '../../../src/model/webhook.ts'
import { silentLogger } from '../../support/log-lines.ts'

/** How the app describes a webhook request to the tracker (for its span): its route, no trace headers. */
const ON_BATCH_URL = { route: `${WEBHOOK_PATH}/:batchId`, traceHeaders: {} }
const ON_PLAIN_URL = { route: WEBHOOK_PATH, traceHeaders: {} }

const logger = silentLogger
const servers: HttpServer[] = []
const SECRET = 'unit-webhook-secret-5e1f0a'

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

async function webhookServer(
  known: (jobId: string | undefined, notice: { batchId: string }) => boolean = (id) => id === 'job1',
  options: { secret?: string | undefined; logLines?: string[] } = { secret: SECRET },
) {
  const metrics = createMetrics()
  const onJobWebhook = vi.fn(known)
  const lines = options.logLines
  const appLogger =
    lines === undefined
      ? logger
      : createLogger({
          level: 'debug',
          destination: new Writable({
            write(chunk, _enc, done) {
              lines.push(String(chunk))
              done()
            },
          }),
        })
  const server = await listen(
    createWebhookApp({
      logger: appLogger,
      metrics,
      webhookSecret: options.secret,
      verifySignature: verifyBatchSignature,
      onJobWebhook,
    }),
    { host: '127.0.0.1', port: 0 },
  )
  servers.push(server)
  return { metrics, onJobWebhook, server, base: `http://127.0.0.1:${server.port}` }
}

async function opsServer(readiness: () => string[] = () => [], liveness: () => string[] = () => []) {
  const metrics = createMetrics()
  const server = await listen(createOpsApp({ metrics, logger, readiness, liveness }), {
    host: '127.0.0.1',
    port: 0,
  })
  servers.push(server)
  return { metrics, server, base: `http://127.0.0.1:${server.port}` }
}

async function post(url: string, body: string, contentType = 'application/json') {
  const res = await request(url, { method: 'POST', headers: { 'content-type': contentType }, body })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text }
}

async function get(url: string) {
  const res = await request(url)
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text }
}

async function webhookCount(metrics: Metrics, outcome: string): Promise<number | undefined> {
  return (await metrics.webhooksReceived.get()).values.find((v) => v.labels.outcome === outcome)?.value
}

const WEBHOOK_BODY = {
  id: 'job1',
  state: 'success',
  overview: { total: 2, imported: 1, skipped: 1, failed: 0 },
  context: { source: 'file-import-bridge', batchId: 'b-1', signature: signBatchId(SECRET, 'b-1') },
}

/** The webhook URL the bridge hands Livingdocs for batch `batchId` (see signedWebhookUrl). */
const batchUrl = (base: string, batchId: string, secret = SECRET) =>
  signedWebhookUrl(base + WEBHOOK_PATH, batchId, secret)

describe("webhook app: a batch's own signed URL", () => {
  it.each([
    [
      'the documented JSON body',
      JSON.stringify({ id: 'job1', state: 'success', overview: {} }),
      'application/json',
      'job1',
    ],
    [
      'JSON without context',
      JSON.stringify({ id: 'job1', state: 'success' }),
      'application/json; charset=utf-8',
      'job1',
    ],
    [
      'JSON of another shape',
      JSON.stringify({ jobs: [{ id: 'x' }], ok: true }),
      'application/json',
      undefined,
    ],
    ['form-encoded text', 'id=job1&state=success', 'application/x-www-form-urlencoded', undefined],
    ['binary', '\u0000\u00ff\u0001', 'application/octet-stream', undefined],
    ['an empty body', '', 'text/plain', undefined],
  ])(
    'accepts %s and hands on the batch (and the job id the body named)',
    async (_name, body, contentType, jobId) => {
      // Given a webhook app that knows every job
      const { base, onJobWebhook, metrics } = await webhookServer(() => true)

      // When Livingdocs posts to the URL the bridge handed it for batch b-7
      const res = await post(batchUrl(base, 'b-7'), body, contentType)

      // Then it is accepted for b-7, whatever the body
      expect(res.status).toBe(202)
      expect(onJobWebhook).toHaveBeenCalledWith(jobId, { batchId: 'b-7', received: ON_BATCH_URL })
      expect(await webhookCount(metrics, 'accepted')).toBe(1)
    },
  )

  it('accepts a body of 1 MB (a job reporting each of many files)', async () => {
    const { base, onJobWebhook } = await webhookServer(() => true)
    const files = Array.from({ length: 9000 }, (_, i) => ({
      externalId: `legacy-${i}`,
      state: 'imported',
      mediaId: `m${i}`,
    }))
    const body = JSON.stringify({ id: 'job1', state: 'success', files, pad: 'x'.repeat(500_000) })
    expect(Buffer.byteLength(body)).toBeGreaterThan(1_000_000)
    const res = await post(batchUrl(base, 'b-1'), body)
    expect(res.status).toBe(202)
    expect(onJobWebhook).toHaveBeenCalledWith('job1', { batchId: 'b-1', received: ON_BATCH_URL })
  })

  it.each([
    ['no signature', (base: string) => `${base}${WEBHOOK_PATH}/b-1`],
    ['an empty signature', (base: string) => `${base}${WEBHOOK_PATH}/b-1?sig=`],
    [
      "another batch's signature",
      (base: string) => `${base}${WEBHOOK_PATH}/b-1?sig=${signBatchId(SECRET, 'b-2')}`,
    ],
    ['another secret', (base: string) => batchUrl(base, 'b-1', 'some-other-secret-0000')],
    [
      'a repeated sig parameter',
      (base: string) => `${batchUrl(base, 'b-1')}&sig=${signBatchId(SECRET, 'b-1')}`,
    ],
  ])('refuses a webhook with %s: 401, counted unauthorized, not handed on', async (_name, url) => {
    const { base, onJobWebhook, metrics } = await webhookServer(() => true)
    const res = await post(url(base), JSON.stringify({ id: 'job1' }))
    expect(res.status).toBe(401)
    expect(onJobWebhook).not.toHaveBeenCalled()
    expect(await webhookCount(metrics, 'unauthorized')).toBe(1)
  })

  it('refuses every signed URL when no secret is configured', async () => {
    const { base, onJobWebhook } = await webhookServer(() => true, { secret: undefined })
    const res = await post(batchUrl(base, 'b-1'), '{}')
    expect(res.status).toBe(401)
    expect(onJobWebhook).not.toHaveBeenCalled()
  })

  it('keeps idle connections open longer than a load balancer does (Keep-Alive: timeout=65)', async () => {
    const { base } = await webhookServer(() => true)
    const res = await post(batchUrl(base, 'b-1'), '{}')
    expect(res.status).toBe(202)
    expect(res.headers['keep-alive']).toBe(`timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`)
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000)
  })
})

describe('webhook app', () => {
  it('answers 202 for a known job and hands its id on', async () => {
    // Given a webhook app that knows job1
    const { base, onJobWebhook, metrics } = await webhookServer()

    // When Livingdocs posts the job's webhook
    const res = await post(base + WEBHOOK_PATH, JSON.stringify(WEBHOOK_BODY))

    // Then it is accepted, the tracker is told, and it is counted as accepted
    expect(res.status).toBe(202)
    expect(JSON.parse(res.text)).toEqual({ accepted: true })
    expect(onJobWebhook).toHaveBeenCalledTimes(1)
    expect(onJobWebhook).toHaveBeenCalledWith('job1', { batchId: 'b-1', received: ON_PLAIN_URL })
    expect(await webhookCount(metrics, 'accepted')).toBe(1)
    expect(await webhookCount(metrics, 'invalid')).toBe(0)
  })

  it('answers 200 {ignored} for an unknown job', async () => {
    // Given a webhook app that knows only job1
    const { base, onJobWebhook, metrics } = await webhookServer()

    // When a webhook of another job arrives
    const res = await post(base + WEBHOOK_PATH, JSON.stringify({ ...WEBHOOK_BODY, id: 'job-elsewhere' }))

    // Then it is acknowledged but ignored, and counted as unknown
    expect(res.status).toBe(200)
    expect(JSON.parse(res.text)).toEqual({ ignored: 'unknown job id' })
    expect(onJobWebhook).toHaveBeenCalledWith('job-elsewhere', { batchId: 'b-1', received: ON_PLAIN_URL })
    expect(await webhookCount(metrics, 'unknown_job')).toBe(1)
    expect(await webhookCount(metrics, 'accepted')).toBe(0)
  })

  it('accepts a numeric id as a string', async () => {
    // Given a webhook app that knows job 42
    const { base, onJobWebhook } = await webhookServer((id) => id === '42')

    // When the id comes as a JSON number
    const res = await post(base + WEBHOOK_PATH, JSON.stringify({ ...WEBHOOK_BODY, id: 42 }))

    // Then the tracker gets the string '42'
    expect(res.status).toBe(202)
    expect(onJobWebhook).toHaveBeenCalledWith('42', { batchId: 'b-1', received: ON_PLAIN_URL })
  })

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', ''])(
    'reads a JSON body whatever its content type (%j): the docs do not name one',
    async (contentType) => {
      // Given a webhook app that knows job1
      const { base, onJobWebhook } = await webhookServer()

      // When a valid webhook body comes with another content type (or none)
      const res = await post(base + WEBHOOK_PATH, JSON.stringify(WEBHOOK_BODY), contentType)

      // Then it is accepted and handed on
      expect(res.status).toBe(202)
      expect(onJobWebhook).toHaveBeenCalledWith('job1', { batchId: 'b-1', received: ON_PLAIN_URL })
    },
  )

  it('accepts application/json with a charset, as Livingdocs sends it', async () => {
    const { base, onJobWebhook } = await webhookServer()
    const res = await post(
      base + WEBHOOK_PATH,
      JSON.stringify(WEBHOOK_BODY),
      'application/json; charset=utf-8',
    )
    expect(res.status).toBe(202)
    expect(onJobWebhook).toHaveBeenCalledTimes(1)
  })

  const { signature: _signature, ...unsignedContext } = WEBHOOK_BODY.context
  it.each([
    ['without context', { id: 'job1', state: 'success' }],
    ['without a signature', { ...WEBHOOK_BODY, context: unsignedContext }],
    ['with an empty signature', { ...WEBHOOK_BODY, context: { ...unsignedContext, signature: '' } }],
    [
      'signed with another secret',
      { ...WEBHOOK_BODY, context: { ...unsignedContext, signature: signBatchId(`${SECRET}x`, 'b-1') } },
    ],
    [
      'whose signature belongs to another batch',
      { ...WEBHOOK_BODY, context: { ...unsignedContext, signature: signBatchId(SECRET, 'b-2') } },
    ],
    [
      'with a truncated signature',
      {
        ...WEBHOOK_BODY,
        context: { ...WEBHOOK_BODY.context, signature: WEBHOOK_BODY.context.signature.slice(2) },
      },
    ],
    [
      'with a non-hex signature of the right length',
      { ...WEBHOOK_BODY, context: { ...unsignedContext, signature: 'z'.repeat(64) } },
    ],
    ['with a numeric signature', { ...WEBHOOK_BODY, context: { ...unsignedContext, signature: 12 } }],
    ['with context as a string', { ...WEBHOOK_BODY, context: 'b-1' }],
  ])('answers 401 for a webhook %s, counted unauthorized and not handed on', async (_name, body) => {
    // Given a webhook app with a secret
    const { base, onJobWebhook, metrics } = await webhookServer()

    // When a webhook without a valid signature arrives
    const res = await post(base + WEBHOOK_PATH, JSON.stringify(body))

    // Then it is refused, the tracker never hears of it, and it is counted unauthorized
    expect(res.status).toBe(401)
    expect(JSON.parse(res.text)).toEqual({ error: 'webhook signature missing or wrong' })
    expect(onJobWebhook).not.toHaveBeenCalled()
    expect(await webhookCount(metrics, 'unauthorized')).toBe(1)
    expect(await webhookCount(metrics, 'accepted')).toBe(0)
  })

  it('accepts an upper-case hex signature (the same bytes)', async () => {
    const { base, onJobWebhook } = await webhookServer()
    const body = {
      ...WEBHOOK_BODY,
      context: { ...WEBHOOK_BODY.context, signature: WEBHOOK_BODY.context.signature.toUpperCase() },
    }
    expect((await post(base + WEBHOOK_PATH, JSON.stringify(body))).status).toBe(202)
    expect(onJobWebhook).toHaveBeenCalledTimes(1)
  })

  it('refuses every webhook when no secret is configured (no webhook was asked for)', async () => {
    // Given a webhook app without a secret
    const { base, onJobWebhook, metrics } = await webhookServer(undefined, { secret: undefined })

    // When a webhook signed with some key arrives
    const res = await post(base + WEBHOOK_PATH, JSON.stringify(WEBHOOK_BODY))

    // Then it is refused
    expect(res.status).toBe(401)
    expect(onJobWebhook).not.toHaveBeenCalled()
    expect(await webhookCount(metrics, 'unauthorized')).toBe(1)
  })

  it('warns about refused webhooks at most once a minute (the rest at debug)', async () => {
    // Given a webhook app logging at debug
    const lines: string[] = []
    const { base } = await webhookServer(undefined, { secret: SECRET, logLines: lines })

    // When three forged webhooks arrive at once
    const forged = JSON.stringify({ ...WEBHOOK_BODY, context: unsignedContext })
    for (let i = 0; i < 3; i++) expect((await post(base + WEBHOOK_PATH, forged)).status).toBe(401)

    // Then one warning (level 40) and two debug lines (level 20) were written
    const refusals = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.msg.includes('refused'))
    expect(refusals.map((l) => l.level)).toEqual([40, 20, 20])
  })

  it('never logs the secret or the signature, even at debug level', async () => {
    // Given a webhook app logging at debug
    const lines: string[] = []
    const { base } = await webhookServer(undefined, { secret: SECRET, logLines: lines })

    // When a valid and a forged webhook arrive
    await post(base + WEBHOOK_PATH, JSON.stringify(WEBHOOK_BODY))
    const forged = {
      ...WEBHOOK_BODY,
      context: { ...unsignedContext, signature: signBatchId('guess', 'b-1') },
    }
    await post(base + WEBHOOK_PATH, JSON.stringify(forged))

    // Then something was logged, but neither the secret nor a signature
    const text = lines.join('')
    expect(text).toContain('webhook refused')
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain(WEBHOOK_BODY.context.signature)
    expect(text).not.toContain(forged.context.signature)
  })

  it.each([
    ['without id', { state: 'success' }],
    ['with an empty id', { id: '' }],
    ['with an object id', { id: { nested: 'x' } }],
    ['with an id over 200 characters', { id: 'x'.repeat(201) }],
    ['that is an array', [{ id: 'job1' }]],
  ])('answers 400 for a body %s and counts it invalid', async (_name, body) => {
    // Given a webhook app
    const { base, onJobWebhook, metrics } = await webhookServer()

    // When such a body is posted
    const res = await post(base + WEBHOOK_PATH, JSON.stringify(body))

    // Then it is refused, not handed on, and counted invalid
    expect(res.status).toBe(400)
    expect(JSON.parse(res.text)).toEqual({ error: 'webhook body needs a job id' })
    expect(onJobWebhook).not.toHaveBeenCalled()
    expect(await webhookCount(metrics, 'invalid')).toBe(1)
  })

  it('answers 400 for malformed JSON without a stack trace and counts it invalid', async () => {
    // Given a webhook app
    const { base, onJobWebhook, metrics } = await webhookServer()

    // When a truncated JSON body is posted
    const res = await post(base + WEBHOOK_PATH, '{"id": "job1", "state":')

    // Then it is a 400 with a short JSON error and no stack trace
    expect(res.status).toBe(400)
    expect(res.headers['content-type']).toMatch(/application\/json/)
    const body = JSON.parse(res.text) as Record<string, unknown>
    expect(Object.keys(body)).toEqual(['error'])
    expect(res.text).not.toMatch(/\bat\s|node_modules|SyntaxError|\.js:\d+|\.ts:\d+/)
    expect(onJobWebhook).not.toHaveBeenCalled()
    expect(await webhookCount(metrics, 'invalid')).toBe(1)
  })

  it('serves the webhook on its exact path only: a trailing slash or other case is 404, not parsed', async () => {
    // Given a webhook app
    const { base, onJobWebhook, metrics } = await webhookServer()

    // When a body is posted to the webhook path with a trailing slash, or in upper case
    const slash = await post(`${base + WEBHOOK_PATH}/`, '{"id":')
    const upper = await post(base + WEBHOOK_PATH.toUpperCase(), JSON.stringify(WEBHOOK_BODY))

    // Then both are unknown paths, never handed on nor counted as webhooks
    expect(slash.status).toBe(404)
    expect(upper.status).toBe(404)
    expect(onJobWebhook).not.toHaveBeenCalled()
    expect(await webhookCount(metrics, 'invalid')).toBe(0)
  })

  it('answers 413 for a body over WEBHOOK_BODY_LIMIT_BYTES and counts it invalid', async () => {
    // Given a webhook app
    const { base, onJobWebhook, metrics } = await webhookServer()
    const body = JSON.stringify({ ...WEBHOOK_BODY, pad: 'x'.repeat(WEBHOOK_BODY_LIMIT_BYTES) })
    expect(Buffer.byteLength(body)).toBeGreaterThan(WEBHOOK_BODY_LIMIT_BYTES)

    // When the body is too large
    const res = await post(base + WEBHOOK_PATH, body)

    // Then it is refused with 413, not handed on, and counted invalid
    expect(res.status).toBe(413)
    expect(res.text).not.toMatch(/\bat\s|node_modules/)
    expect(onJobWebhook).not.toHaveBeenCalled()
    expect(await webhookCount(metrics, 'invalid')).toBe(1)
  })

  it('accepts a body just under the limit', async () => {
    // Given a body of almost WEBHOOK_BODY_LIMIT_BYTES
    const { base, onJobWebhook } = await webhookServer()
    const skeleton = JSON.stringify({ ...WEBHOOK_BODY, pad: '' })
    const body = JSON.stringify({
      ...WEBHOOK_BODY,
      pad: 'x'.repeat(WEBHOOK_BODY_LIMIT_BYTES - Buffer.byteLength(skeleton)),
    })
    expect(Buffer.byteLength(body)).toBe(WEBHOOK_BODY_LIMIT_BYTES)

    // When it is posted
    const res = await post(base + WEBHOOK_PATH, body)

    // Then it is accepted
    expect(res.status).toBe(202)
    expect(onJobWebhook).toHaveBeenCalledWith('job1', { batchId: 'b-1', received: ON_PLAIN_URL })
  })

  it('answers 500 without details when the handler throws', async () => {
    // Given a tracker callback that throws
    const { base } = await webhookServer(() => {
      throw new Error('tracker exploded at /secret/path.ts:12')
    })

    // When a webhook arrives
    const res = await post(base + WEBHOOK_PATH, JSON.stringify(WEBHOOK_BODY))

    // Then the answer is a bare 500
    expect(res.status).toBe(500)
    expect(JSON.parse(res.text)).toEqual({ error: 'internal error' })
  })

  it('sets helmet security headers', async () => {
    const { base } = await webhookServer()
    const res = await post(base + WEBHOOK_PATH, JSON.stringify(WEBHOOK_BODY))
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['content-security-policy']).toBeDefined()
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN')
  })

  it('answers 404 JSON for an unknown path and for GET on the webhook path', async () => {
    // Given a webhook app
    const { base, metrics } = await webhookServer()

    // When unknown routes are requested
    const unknown = await get(`${base}/nope`)
    const getWebhook = await get(base + WEBHOOK_PATH)

    // Then both are JSON 404s and no webhook is counted
    for (const res of [unknown, getWebhook]) {
      expect(res.status).toBe(404)
      expect(res.headers['content-type']).toMatch(/application\/json/)
      expect(JSON.parse(res.text)).toEqual({ error: 'not found' })
    }
    expect(await webhookCount(metrics, 'invalid')).toBe(0)
  })

  it('sends no x-powered-by header', async () => {
    // Given a webhook app
    const { base } = await webhookServer()

    // When any request is answered
    const ok = await post(base + WEBHOOK_PATH, JSON.stringify(WEBHOOK_BODY))
    const notFound = await get(`${base}/nope`)

    // Then no x-powered-by header is sent
    expect(ok.headers['x-powered-by']).toBeUndefined()
    expect(notFound.headers['x-powered-by']).toBeUndefined()
  })
})

describe('ops app', () => {
  it('/healthz answers 200', async () => {
    // Given an ops app
    const { base } = await opsServer()

    // When /healthz is read
    const res = await get(`${base}/healthz`)

    // Then it is 200 ok
    expect(res.status).toBe(200)
    expect(JSON.parse(res.text)).toEqual({ status: 'ok' })
  })

  it('/healthz answers 503 with the problems once a component stopped for good', async () => {
    // Given a bridge whose consumer crashed for good
    const { base } = await opsServer(
      () => [],
      () => ['consumer stopped for good'],
    )

    // When /healthz is read, then liveness fails and says why
    const res = await get(`${base}/healthz`)
    expect(res.status).toBe(503)
    expect(JSON.parse(res.text)).toEqual({ status: 'failing', problems: ['consumer stopped for good'] })
  })

  it('/readyz answers 200 when readiness reports no problems', async () => {
    // Given a ready bridge
    const { base } = await opsServer(() => [])

    // When /readyz is read
    const res = await get(`${base}/readyz`)

    // Then it is ready
    expect(res.status).toBe(200)
    expect(JSON.parse(res.text)).toEqual({ ready: true, problems: [] })
  })

  it('/readyz answers 503 with the problems otherwise', async () => {
    // Given a bridge with two problems
    const problems = ['consumer has not joined its group', 'import API: HTTP 401']
    const { base } = await opsServer(() => problems)

    // When /readyz is read
    const res = await get(`${base}/readyz`)

    // Then it is not ready and names the problems
    expect(res.status).toBe(503)
    expect(JSON.parse(res.text)).toEqual({ ready: false, problems })
  })

  it('/readyz asks readiness on every request', async () => {
    // Given readiness that changes
    let problems = ['shutting down']
    const { base } = await opsServer(() => problems)
    expect((await get(`${base}/readyz`)).status).toBe(503)

    // When the problem is gone
    problems = []

    // Then the next answer is 200
    expect((await get(`${base}/readyz`)).status).toBe(200)
  })

  it('/metrics answers Prometheus text with the bridge metrics', async () => {
    // Given an ops app whose consumed counter was incremented
    const { base, metrics } = await opsServer()
    metrics.eventsConsumed.inc(3)

    // When /metrics is scraped
    const res = await get(`${base}/metrics`)

    // Then it is Prometheus text with the counter's value
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.text).toContain('# TYPE bridge_events_consumed_total counter')
    expect(res.text).toMatch(/^bridge_events_consumed_total 3$/m)
    expect(res.text).toContain('bridge_webhooks_received_total{outcome="invalid"} 0')
  })

  it('answers 404 JSON for unknown paths and sends no x-powered-by header', async () => {
    // Given an ops app
    const { base } = await opsServer()

    // When an unknown path and /healthz are read
    const res = await get(`${base}/nope`)
    const health = await get(`${base}/healthz`)

    // Then the unknown path is a JSON 404 and neither answer has x-powered-by
    expect(res.status).toBe(404)
    expect(JSON.parse(res.text)).toEqual({ error: 'not found' })
    expect(res.headers['x-powered-by']).toBeUndefined()
    expect(health.headers['x-powered-by']).toBeUndefined()
  })
})

describe('listen', () => {
  it('reports the bound port when listening on port 0', async () => {
    // Given / When an app listens on port 0
    const { server } = await opsServer()

    // Then a real port was bound and answers
    expect(server.port).toBeGreaterThan(0)
    expect((await get(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200)
  })

  it('rejects when the port is already in use', async () => {
    // Given a server on some port
    const { server } = await opsServer()
    const app = createOpsApp({ metrics: createMetrics(), logger, readiness: () => [] })

    // When another one tries the same port
    // Then listen rejects with EADDRINUSE
    await expect(listen(app, { host: '127.0.0.1', port: server.port })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    })
  })

  it('close() resolves with an idle keep-alive connection open, and closes it', async () => {
    // Given a server and a client connection kept alive after one request
    const metrics = createMetrics()
    const server = await listen(createOpsApp({ metrics, logger, readiness: () => [] }), {
      host: '127.0.0.1',
      port: 0,
    })
    const socket: Socket = connect(server.port, '127.0.0.1')
    await once(socket, 'connect')
    const socketClosed = once(socket, 'close')
    let received = ''
    const answered = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8')
        if (received.includes('{"status":"ok"}')) resolve()
      })
    })
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n')
    await answered
    expect(received).toMatch(/^HTTP\/1\.1 200/)
    expect(received.toLowerCase()).toContain('connection: keep-alive')
    expect(socket.destroyed).toBe(false)

    // When the server is closed
    await server.close()

    // Then close() resolved and the idle connection was closed by the server
    await socketClosed
    expect(socket.destroyed).toBe(true)

    // And the port no longer accepts connections
    const refused = connect(server.port, '127.0.0.1')
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException]
    expect(err.code).toBe('ECONNREFUSED')
  })
})
