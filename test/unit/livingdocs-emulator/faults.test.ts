// Switchable faults ([F][OA] §5 for 429, [GS] §6 for error bodies, §9 for the rest).
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { RunningLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { startLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry, startFileServer, startWebhookReceiver, waitFor } from './helpers.ts'
import { pdf } from './samples.ts'

let files: Awaited<ReturnType<typeof startFileServer>>
let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>
let emu: RunningLivingdocsEmulator
let api: ReturnType<typeof apiClient>
let url: string

beforeAll(async () => {
  files = await startFileServer()
  hooks = await startWebhookReceiver()
  url = files.put('f.pdf', pdf('fault'))
  emu = await startLivingdocsEmulator()
  api = apiClient(emu)
})
afterEach(async () => {
  await emu.reset()
  hooks.received.length = 0
})
afterAll(async () => {
  await emu.close()
  await files.close()
  await hooks.close()
})

const batch = (n = 1, extra: Record<string, unknown> = {}) => ({
  systemName: 'arc',
  files: Array.from({ length: n }, (_, i) => fileEntry(`f${i}`, url)),
  ...extra,
})

describe('rateLimit429', () => {
  it('answers the next N requests with the documented 429 body, then recovers', async () => {
    emu.setFaults({ rateLimit429: { count: 2, retryAfterSeconds: 3 } })
    const first = await api.post(batch())
    expect(first.status).toBe(429)
    expect(first.body).toEqual({
      status: 429,
      error: 'Usage Limit Exceeded',
      error_details: { message: expect.any(String) },
    })
    expect(first.headers['retry-after']).toBe('3')
    expect((await api.status('x')).status).toBe(429)
    expect((await api.post(batch())).status).toBe(200)
    expect(emu.getFaults().rateLimit429?.count).toBe(0)
    expect(emu.stats().requests['POST /import/files']).toEqual({ 429: 1, 200: 1 })
  })

  it('can be limited to one endpoint and answer with a probability', async () => {
    const local = await startLivingdocsEmulator({
      random: () => 0.3,
      faults: { rateLimit429: { probability: 0.5, endpoints: ['status'], message: 'slow down' } },
    })
    onTestFinished(() => local.close())
    const localApi = apiClient(local)
    expect((await localApi.post(batch())).status).toBe(200)
    const res = await localApi.status('x')
    expect(res.status).toBe(429)
    expect(res.body.error_details).toEqual({ message: 'slow down' })
    local.setFaults({ rateLimit429: { probability: 0.2 } })
    expect((await localApi.status('x')).status).toBe(200)
  })
})

describe('faults on the image and video imports', () => {
  it('kinds limits a request fault to some imports', async () => {
    emu.setFaults({ serverError5xx: { count: 1, kinds: ['image'] } })
    expect((await api.status('x')).status).toBe(200)
    expect((await apiClient(emu, emu.apiVersion, 'images').status('x')).status).toBe(503)
    expect(emu.getFaults().serverError5xx?.count).toBe(0)
  })

  it('fileFailureRate and failJobs apply to every import, with its own phrase', async () => {
    emu.setFaults({ fileFailureRate: 1 })
    const videos = apiClient(emu, emu.apiVersion, 'videos')
    const done = await videos.waitFinished(
      await videos.start({ systemName: 'arc', videos: [fileEntry('v', url)] }),
    )
    expect(done.videos).toEqual([
      {
        state: 'failed',
        reason: 'Could not upload video: emulated failure',
        systemName: 'arc',
        externalId: 'v',
      },
    ])
    emu.setFaults({ fileFailureRate: 0, failJobs: true })
    const images = apiClient(emu, emu.apiVersion, 'images')
    const id = await images.start({
      systemName: 'arc',
      images: [fileEntry('i', url, { mediaType: 'image' })],
    })
    expect(await images.waitFinished(id)).toEqual({ finished: true, state: 'failed', id })
  })

  it('rejectFiles names the offending entry under the batch key', async () => {
    emu.setFaults({ rejectFiles: { externalIds: ['bad'] } })
    const images = apiClient(emu, emu.apiVersion, 'images')
    const res = await images.post({
      systemName: 'arc',
      images: [fileEntry('ok', url, { mediaType: 'image' }), fileEntry('bad', url, { mediaType: 'image' })],
    })
    expect(res.status).toBe(422)
    expect(res.body.error_details).toEqual({ 'images.1.id': 'Rejected by an emulated validation rule' })
  })
})

describe('serverError5xx', () => {
  it('cycles through the given statuses for the next N requests, with Retry-After', async () => {
    emu.setFaults({ serverError5xx: { count: 3, status: [500, 502, 503], retryAfterSeconds: 1 } })
    const answers = [await api.post(batch()), await api.post(batch()), await api.status('x')]
    expect(answers.map((a) => a.status)).toEqual([500, 502, 503])
    expect(answers[0]?.body).toEqual({
      status: 500,
      error: 'Internal Server Error',
      error_details: { message: 'Emulated server error.' },
    })
    expect(answers[2]?.body).toMatchObject({ status: 503, error: 'Service Unavailable' })
    expect(answers.every((a) => a.headers['retry-after'] === '1')).toBe(true)
    expect((await api.post(batch())).status).toBe(200)
    expect(emu.stats().jobsCreated).toBe(1)
  })
})

describe('job faults', () => {
  it('stuckJobs: the job stays started and sends no webhook', async () => {
    emu.setFaults({ stuckJobs: true })
    const id = await api.start(batch(1, { webhook: hooks.url }))
    emu.setFaults({ stuckJobs: false })
    // a later job finishes; the stuck one is still started
    const later = await api.start(batch(1, { webhook: hooks.url }))
    await api.waitFinished(later)
    await waitFor(() => hooks.received.length === 1, { what: 'webhook of the later job' })
    const res = await api.status(id)
    expect(res.body).toMatchObject({ finished: false, state: 'started', id })
    expect(emu.getJob(id)?.fault).toBe('stuck')
    expect(hooks.received[0]?.body).toMatchObject({ id: later })
    expect(emu.getMedia('arc', 'f0')).toBeDefined()
  })

  it('failJobs: the job ends failed without files; the webhook says failed', async () => {
    emu.setFaults({ failJobs: true })
    const id = await api.start(batch(2, { webhook: hooks.url, context: { c: 1 } }))
    const done = await api.waitFinished(id)
    expect(done).toEqual({ finished: true, state: 'failed', id })
    await waitFor(() => hooks.received.length === 1, { what: 'webhook' })
    expect(hooks.received[0]?.body).toEqual({
      id,
      source: 'livingdocs-file-import',
      state: 'failed',
      overview: { total: 2, details: { imported: 0, skipped: 0, failed: 2 } },
      context: { c: 1 },
    })
    expect(emu.getMedia('arc', 'f0')).toBeUndefined()
  })

  it('fileFailureRate: files fail with the documented reason', async () => {
    emu.setFaults({ fileFailureRate: 1 })
    const done = await api.waitFinished(await api.start(batch(2)))
    expect(done.state).toBe('success')
    for (const f of done.files as { state: string; reason: string }[]) {
      expect(f).toMatchObject({ state: 'failed', reason: 'Could not upload file: emulated failure' })
    }
  })
})

describe('webhook faults', () => {
  it('dropWebhooks: no webhook is sent', async () => {
    emu.setFaults({ dropWebhooks: true })
    const id = await api.start(batch(1, { webhook: hooks.url }))
    await api.waitFinished(id)
    await waitFor(() => emu.stats().webhooksDropped === 1, { what: 'drop count' })
    expect(emu.stats().webhooksSent).toBe(0)
    expect(hooks.received).toHaveLength(0)
  })

  it('duplicateWebhooks: the same body arrives twice', async () => {
    emu.setFaults({ duplicateWebhooks: true })
    const id = await api.start(batch(1, { webhook: hooks.url }))
    await waitFor(() => hooks.received.length === 2, { what: 'two webhooks' })
    expect(hooks.received[0]?.body).toEqual(hooks.received[1]?.body)
    expect(hooks.received[0]?.body).toMatchObject({ id })
    expect(emu.stats().webhooksSent).toBe(2)
  })
})

describe('latencyMs', () => {
  it('delays every response', async () => {
    // A delay far above any local round trip, so that the check without it cannot flake under load
    emu.setFaults({ latencyMs: 1000 })
    const started = performance.now()
    const res = await api.status('x')
    expect(res.status).toBe(200)
    expect(performance.now() - started).toBeGreaterThanOrEqual(990)
    emu.setFaults({ latencyMs: 0 })
    const fast = performance.now()
    await api.status('x')
    expect(performance.now() - fast).toBeLessThan(990)
  })
})

describe('quota', () => {
  it('answers 429 Usage Limit Exceeded once the files per day are used up', async () => {
    emu.setFaults({ quota: { filesPerDay: 3 } })
    expect((await api.post(batch(2))).status).toBe(200)
    const over = await api.post(batch(2))
    expect(over.status).toBe(429)
    expect(over.body).toMatchObject({ status: 429, error: 'Usage Limit Exceeded' })
    // the docs' example message, line breaks and indentation included [F][OA] §5
    expect((over.body.error_details as { message: string }).message).toBe(
      'Your plan does not allow you to upload more than 3 per day.\n      You already uploaded 2 in the last 24 hours and are trying to upload 2 more.\n      Please try again later.',
    )
    expect((await api.post(batch(1))).status).toBe(200)
    expect((await api.post(batch(1))).status).toBe(429)
    expect(emu.stats().jobsCreated).toBe(2)
  })

  it('counts the entries of all three imports against one quota', async () => {
    emu.setFaults({ quota: { filesPerDay: 2 } })
    expect((await api.post(batch(1))).status).toBe(200)
    const videos = apiClient(emu, emu.apiVersion, 'videos')
    expect((await videos.post({ systemName: 'arc', videos: [fileEntry('v', url)] })).status).toBe(200)
    const third = await videos.post({ systemName: 'arc', videos: [fileEntry('w', url)] })
    expect(third.status).toBe(429)
    expect(emu.stats().requests['POST /import/videos']).toEqual({ 200: 1, 429: 1 })
  })
})

describe('answers other than the documented ones (issue 12)', () => {
  /** A raw request: status, headers and the body as text. */
  const raw = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await request(`${emu.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${emu.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
  }
  const importPath = () => `/api/${emu.apiVersion}/import/files`

  it('acceptStatus: an accepted import answers 202 {"id"}', async () => {
    emu.setFaults({ acceptStatus: 202 })
    const res = await api.post(batch())
    expect(res.status).toBe(202)
    expect(res.body).toEqual({ id: expect.stringMatching(/^[a-z0-9]{7}$/) })
    expect(emu.stats().jobsCreated).toBe(1)
  })

  it('redirect: http→https by default, or a trailing slash, with no body; count limits it', async () => {
    emu.setFaults({ redirect: { count: 1 } })
    const res = await raw('POST', importPath(), batch())
    expect(res.status).toBe(308)
    expect(res.headers.location).toBe(`https://${new URL(emu.url).host}${importPath()}`)
    expect(res.text).toBe('')
    expect((await api.post(batch())).status).toBe(200)
    emu.setFaults({ redirect: { status: 301, location: 'trailing-slash', endpoints: ['status'] } })
    const status = await raw('GET', `${importPath()}/status?id=x`)
    expect(status.status).toBe(301)
    expect(status.headers.location).toBe(`${importPath()}/status/?id=x`)
    expect((await api.post(batch())).status).toBe(200)
  })

  it('answerWith: any status with the documented body, none, text or a JSON value of our choosing', async () => {
    emu.setFaults({ answerWith: { status: 415, count: 1 } })
    expect(await raw('POST', importPath(), batch())).toMatchObject({
      status: 415,
      text: JSON.stringify({
        status: 415,
        error: 'Unsupported Media Type',
        error_details: { message: 'Emulated answer.' },
      }),
    })
    emu.setFaults({ answerWith: { status: 405, body: 'none', count: 1 } })
    expect(await raw('POST', importPath(), batch())).toMatchObject({ status: 405, text: '' })
    emu.setFaults({ answerWith: { status: 406, body: 'text', count: 1 } })
    expect(await raw('POST', importPath(), batch())).toMatchObject({
      status: 406,
      text: 'Not Acceptable (emulated)',
    })
    emu.setFaults({ answerWith: { status: 200, body: { weird: true }, count: 1, endpoints: ['status'] } })
    expect(await raw('GET', `${importPath()}/status?id=x`)).toMatchObject({
      status: 200,
      text: '{"weird":true}',
    })
  })

  it('retryAfter: any Retry-After value as it is, e.g. an HTTP-date', async () => {
    emu.setFaults({ rateLimit429: { count: 1, retryAfter: 'Tue, 01 Jan 2030 00:00:00 GMT' } })
    const res = await api.post(batch())
    expect(res.status).toBe(429)
    expect(res.headers['retry-after']).toBe('Tue, 01 Jan 2030 00:00:00 GMT')
  })

  it('rejectFiles.shape: the API’s message in other body shapes', async () => {
    const local = await api.post(batch(3))
    expect(local.status).toBe(200)
    for (const [shape, text] of [
      ['error', '{"error":"files[1].id Rejected by an emulated validation rule"}'],
      ['message', '{"message":"files[1].id Rejected by an emulated validation rule"}'],
      ['text', 'files[1].id Rejected by an emulated validation rule'],
    ] as const) {
      emu.setFaults({ rejectFiles: { externalIds: ['f1'], status: 400, shape } })
      expect(await raw('POST', importPath(), batch(3))).toMatchObject({ status: 400, text })
    }
  })

  it('jobVisibilityDelayMs: a young job is unknown (404 or lost per the variant), then known', async () => {
    emu.setFaults({ jobVisibilityDelayMs: 300 })
    emu.setVariants({ unknownJob: '404' })
    const id = await api.start(batch())
    expect((await api.status(id)).status).toBe(404)
    await waitFor(async () => (await api.status(id)).status === 200, { what: 'the job known' })
  })

  it('lostJobs: the next jobs run and import, but their status is never known', async () => {
    emu.setFaults({ lostJobs: { count: 1 } })
    const lost = await api.start(batch(1, { webhook: hooks.url }))
    await waitFor(() => hooks.received.length === 1, { what: 'the lost job’s webhook' })
    expect((await api.status(lost)).body).toMatchObject({ finished: false, state: 'lost' })
    expect(emu.getMedia('arc', 'f0')).toBeDefined()
    // The next job is known; its file is skipped, the first job having imported it
    const done = await api.waitFinished(await api.start(batch(1)))
    expect(done.files).toEqual([
      expect.objectContaining({
        state: 'skipped',
        reason: 'already exists',
        mediaId: emu.getMedia('arc', 'f0')?.id,
      }),
    ])
  })

  it('nullOptionalFields: null in startedAt, files, systemName, mediaId and reason, plus an unknown key', async () => {
    emu.setFaults({ nullOptionalFields: true, failJobs: false })
    const id = await api.start(batch(1))
    const done = await api.waitFinished(id)
    expect(done).toMatchObject({
      finished: true,
      state: 'success',
      finishedAt: null,
      overview: { emulated: true },
    })
    expect(done.files).toEqual([
      {
        state: 'imported',
        mediaId: expect.any(String),
        reason: null,
        systemName: null,
        externalId: 'f0',
        note: null,
      },
    ])
    emu.setFaults({ stuckJobs: true })
    const stuck = await api.start(batch(1))
    expect((await api.status(stuck)).body).toMatchObject({ finished: false, startedAt: null, files: null })
  })

  it('omitResults and foreignResults: a finished status that does not match its job', async () => {
    emu.setFaults({ omitResults: { count: 1, reads: 1 }, foreignResults: true })
    const id = await api.start(batch(2))
    await waitFor(() => emu.getJob(id)?.finished, { what: 'the job to finish' })
    const first = (await api.status(id)).body.files as Array<{ externalId: string }>
    const second = (await api.status(id)).body.files as Array<{ externalId: string }>
    expect(first.map((f) => f.externalId)).toEqual(['f0', `not-in-job-${id}`])
    expect(second.map((f) => f.externalId)).toEqual(['f0', 'f1', `not-in-job-${id}`])
  })
})

describe('setTokens', () => {
  it('revokes a token (401) and rotates it to a new one; reset() restores the first', async () => {
    emu.setTokens({ 'rotated-token': ['public-api:write'] })
    expect((await api.post(batch())).status).toBe(401)
    expect((await api.post(batch(), { token: 'rotated-token' })).status).toBe(200)
    await emu.reset()
    expect((await api.post(batch())).status).toBe(200)
  })
})
