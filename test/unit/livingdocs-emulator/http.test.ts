// Auth, request validation and the body limit of the emulator ([F] §1, [I][V] §7, §3, §5, §6, §10).
// Versions: versions.test.ts.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { RunningLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { startLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry } from './helpers.ts'

let emu: RunningLivingdocsEmulator
let api: ReturnType<typeof apiClient>
const valid = { systemName: 'archive', files: [fileEntry('a', 'http://127.0.0.1:1/a.pdf')] }

beforeAll(async () => {
  emu = await startLivingdocsEmulator({
    tokens: { writer: ['public-api:write'], reader: ['public-api:read'] },
    maxFilesPerRequest: 3,
    bodyLimitBytes: 64 * 1024,
  })
  api = apiClient(emu)
})
afterAll(() => emu.close())

describe('authentication [GS] §3, §6', () => {
  it('answers 401 without a token, on both endpoints', async () => {
    const post = await api.post(valid, { token: null })
    expect(post.status).toBe(401)
    expect(post.body).toMatchObject({ status: 401, error: 'Unauthorized' })
    expect(typeof (post.body.error_details as Record<string, unknown>).access_token).toBe('string')
    const status = await api.status('x', { token: null })
    expect(status.status).toBe(401)
  })

  it('answers 401 for an unknown token', async () => {
    const res = await api.post(valid, { token: 'nope' })
    expect(res.status).toBe(401)
    expect(res.body).toEqual({
      status: 401,
      error: 'Unauthorized',
      error_details: { access_token: 'The access token is invalid.' },
    })
  })

  it('answers 403 for a token without public-api:write, on both endpoints', async () => {
    const forbidden = {
      status: 403,
      error: 'Forbidden',
      error_details: { access_token: 'The request requires higher privileges' },
    }
    expect(await api.post(valid, { token: 'reader' })).toMatchObject({ status: 403, body: forbidden })
    expect(await api.status('x', { token: 'reader' })).toMatchObject({ status: 403, body: forbidden })
  })

  it('reports the first configured token', () => {
    expect(emu.token).toBe('writer')
  })
})

describe('POST validation [F] §1.1, §6', () => {
  const badRequest = async (body: unknown) => {
    const res = await api.post(body)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ status: 400, error: 'Bad Request' })
    return res.body.error_details as Record<string, string>
  }

  it('reports a missing systemName by JSON path', async () => {
    expect(await badRequest({ files: valid.files })).toEqual({
      systemName: 'Missing required property: systemName',
    })
  })

  it('rejects an empty systemName', async () => {
    expect(Object.keys(await badRequest({ ...valid, systemName: '' }))).toEqual(['systemName'])
  })

  it('rejects an empty or missing files array', async () => {
    expect(await badRequest({ systemName: 'a', files: [] })).toEqual({
      files: 'Must contain at least 1 item',
    })
    expect(await badRequest({ systemName: 'a' })).toEqual({ files: 'Missing required property: files' })
  })

  it('rejects a bad or non-http url at files.N.url', async () => {
    const details = await badRequest({
      systemName: 'a',
      files: [
        fileEntry('a', 'http://ok.example/a'),
        fileEntry('b', 'not a url'),
        fileEntry('c', 'ftp://x/y'),
      ],
    })
    expect(details).toEqual({
      'files.1.url': 'Must be an http or https uri',
      'files.2.url': 'Must be an http or https uri',
    })
  })

  it('reports missing per-file fields and a non-object metadata', async () => {
    const details = await badRequest({ systemName: 'a', files: [{ url: 'http://x/a', metadata: 'no' }] })
    expect(details).toEqual({
      'files.0.id': 'Missing required property: id',
      'files.0.fileName': 'Missing required property: fileName',
      'files.0.metadata': 'Expected object, got string',
    })
  })

  it('rejects a bad webhook uri', async () => {
    expect(await badRequest({ ...valid, webhook: 'mailto:x@y' })).toEqual({
      webhook: 'Must be an http or https uri',
    })
  })

  it('accepts a context of exactly 8192 bytes and rejects 8193 bytes (UTF-8)', async () => {
    // {"k":"…"} has 8 bytes of overhead; 'é' is 2 bytes in UTF-8
    const ok = { k: 'é'.repeat(4092) }
    expect(Buffer.byteLength(JSON.stringify(ok))).toBe(8192)
    expect((await api.post({ ...valid, context: ok })).status).toBe(200)
    const tooBig = { k: `${'é'.repeat(4092)}x` }
    expect(await badRequest({ ...valid, context: tooBig })).toEqual({ context: 'Must be at most 8192 bytes' })
  })

  it('rejects more files than maxFilesPerRequest with 400 at files', async () => {
    const files = ['a', 'b', 'c', 'd'].map((id) => fileEntry(id, 'http://x/a'))
    expect(await badRequest({ systemName: 'a', files })).toEqual({ files: 'Must contain at most 3 items' })
  })

  it('answers 400 for invalid JSON and a non-object body', async () => {
    expect(Object.keys(await badRequest('{"systemName":'))).toEqual(['body'])
    expect(Object.keys(await badRequest([1, 2]))).toEqual(['body'])
  })

  it('answers 413 for a body over the option bodyLimitBytes (64 KiB here)', async () => {
    const res = await api.post({ ...valid, padding: 'x'.repeat(70 * 1024) })
    expect(res.status).toBe(413)
    expect(res.body).toMatchObject({ status: 413, error: 'Payload Too Large' })
  })

  it('answers 400 for a status request without id', async () => {
    const res = await api.get(`${api.base}/status`)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      status: 400,
      error: 'Bad Request',
      error_details: { id: 'Missing required property: id' },
    })
  })
})

describe('images and videos POST validation [I][V] §7', () => {
  it('reads the batch under images, and requires mediaType there as the OpenAPI does', async () => {
    const images = apiClient(emu, emu.apiVersion, 'images')
    const res = await images.post({ systemName: 'a', images: [fileEntry('i', 'http://x/i.png')] })
    expect(res.status).toBe(400)
    expect(res.body.error_details).toEqual({ 'images.0.mediaType': 'Missing required property: mediaType' })
    const withType = { systemName: 'a', images: [fileEntry('i', 'http://x/i.png', { mediaType: 'image' })] }
    expect((await images.post(withType)).status).toBe(200)
    // a files key on the image import is an unknown key: the images array is missing
    const wrongKey = await images.post({ systemName: 'a', files: withType.images })
    expect(wrongKey.body.error_details).toEqual({ images: 'Missing required property: images' })
  })

  it('refuses a data URL for an image [I]', async () => {
    const images = apiClient(emu, emu.apiVersion, 'images')
    const dataUrl = 'data:image/png;base64,iVBORw0KGgo='
    const res = await images.post({
      systemName: 'a',
      images: [fileEntry('i', dataUrl, { mediaType: 'image' })],
    })
    expect(res.status).toBe(400)
    expect(res.body.error_details).toEqual({ 'images.0.url': 'Must be an http or https uri' })
  })

  it('takes videos without mediaType [V] and limits every batch to maxFilesPerRequest', async () => {
    const videos = apiClient(emu, emu.apiVersion, 'videos')
    expect((await videos.post({ systemName: 'a', videos: [fileEntry('v', 'http://x/v.mp4')] })).status).toBe(
      200,
    )
    const four = ['a', 'b', 'c', 'd'].map((id) => fileEntry(id, 'http://x/v.mp4'))
    const res = await videos.post({ systemName: 'a', videos: four })
    expect(res.body.error_details).toEqual({ videos: 'Must contain at most 3 items' })
  })
})

describe('the default body limit: 500 kB = 512,000 bytes (§10)', () => {
  /** A valid files POST body of exactly `bytes` bytes (an unknown key pads it; unknown keys are ignored). */
  const bodyOf = (bytes: number) => {
    const empty = JSON.stringify({ ...valid, padding: '' })
    const text = JSON.stringify({ ...valid, padding: 'x'.repeat(bytes - Buffer.byteLength(empty)) })
    expect(Buffer.byteLength(text)).toBe(bytes)
    return text
  }

  it('accepts 512,000 bytes and answers 413 with the generic error body for 512,001', async () => {
    const local = await startLivingdocsEmulator()
    onTestFinished(() => local.close())
    const client = apiClient(local)
    expect((await client.post(bodyOf(512_000))).status).toBe(200)
    const over = await client.post(bodyOf(512_001))
    expect(over.status).toBe(413)
    expect(over.body).toEqual({
      status: 413,
      error: 'Payload Too Large',
      error_details: { message: 'Request body is too large' },
    })
    expect(local.stats().requests['POST /import/files']).toEqual({ 200: 1, 413: 1 })
  })
})

describe('counters', () => {
  const count = (s: ReturnType<typeof emu.stats>, label: string, status: number) =>
    s.requests[label]?.[status] ?? 0

  it('counts requests per endpoint and status', async () => {
    const before = emu.stats()
    await api.post(valid, { token: null })
    await api.status('nope')
    const after = emu.stats()
    expect(count(after, 'POST /import/files', 401)).toBe(count(before, 'POST /import/files', 401) + 1)
    expect(count(after, 'GET /import/files/status', 200)).toBe(
      count(before, 'GET /import/files/status', 200) + 1,
    )
  })

  it('labels the image and video endpoints on their own', async () => {
    const before = emu.stats()
    await apiClient(emu, emu.apiVersion, 'images').status('nope')
    await apiClient(emu, emu.apiVersion, 'videos').post({}, { token: null })
    const after = emu.stats()
    expect(count(after, 'GET /import/images/status', 200)).toBe(
      count(before, 'GET /import/images/status', 200) + 1,
    )
    expect(count(after, 'POST /import/videos', 401)).toBe(count(before, 'POST /import/videos', 401) + 1)
  })
})
