// Job lifecycle, per-file processing and the webhook ([F] §1.1, §1.2, §2). Re-imports: reimport.test.ts;
// mediaTypes and metadata: media-types.test.ts; MIME types and restrictions: sniffing.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { RunningLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { startLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry, startFileServer, startWebhookReceiver, waitFor } from './helpers.ts'
import { pdf } from './samples.ts'

let files: Awaited<ReturnType<typeof startFileServer>>
let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>
let emu: RunningLivingdocsEmulator
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  files = await startFileServer()
  hooks = await startWebhookReceiver()
  emu = await startLivingdocsEmulator({ downloadTimeoutMs: 300 })
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

describe('job lifecycle [F] §1.2', () => {
  it('is started (with a YYYY-MM-DD HH:MM:SS startedAt), then success with per-file imported and failed', async () => {
    const emu = await startLivingdocsEmulator({ jobDurationMs: 150 })
    onTestFinished(() => emu.close())
    const api = apiClient(emu)
    const good = files.put('good.pdf', pdf('good'))
    const id = await api.start({
      systemName: 'archive',
      files: [fileEntry('f1', good), fileEntry('f2', files.urlOf('missing.pdf'))],
    })
    expect(id).toMatch(/^[a-z0-9]{7}$/)
    const running = await api.status(id)
    expect(running.status).toBe(200)
    expect(running.body).toEqual({
      finished: false,
      state: 'started',
      id,
      startedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
    })
    const done = await api.waitFinished(id)
    expect(done).toMatchObject({ finished: true, state: 'success', id })
    const [f1, f2] = done.files as Record<string, unknown>[]
    expect(f1).toEqual({
      state: 'imported',
      mediaId: expect.stringMatching(/^[A-Za-z0-9]{12}$/),
      systemName: 'archive',
      externalId: 'f1',
    })
    expect(f2).toEqual({
      state: 'failed',
      reason: 'Could not upload file: HTTP 404',
      systemName: 'archive',
      externalId: 'f2',
    })
    expect(f2).not.toHaveProperty('mediaId')
    const media = emu.getMedia('archive', 'f1')
    expect(media).toMatchObject({
      id: f1?.mediaId,
      version: 1,
      kind: 'file',
      size: pdf('good').length,
      mimeType: 'application/pdf',
      fileName: 'File f1',
    })
    expect(emu.getMedia('archive', 'f2')).toBeUndefined()
    expect(emu.getJob(id)).toMatchObject({ state: 'success', finished: true, systemName: 'archive' })
    expect(emu.stats()).toMatchObject({ jobsCreated: 1, jobsFinished: 1, filesProcessed: 2 })
  })

  it('fails a file whose download times out or whose host is unreachable', async () => {
    const id = await api.start({
      systemName: 'archive',
      files: [fileEntry('slow', `${files.base}/slow`), fileEntry('down', 'http://127.0.0.1:1/x')],
    })
    const done = await api.waitFinished(id)
    const [slow, down] = done.files as { state: string; reason: string }[]
    expect(slow).toMatchObject({ state: 'failed', reason: 'Could not upload file: timeout after 300 ms' })
    expect(down?.state).toBe('failed')
    expect(down?.reason).toMatch(/^Could not upload file: /)
  })
})

describe('webhook [F] §2, §9', () => {
  it('POSTs id, source, state, overview and the echoed context once the job is done', async () => {
    const url = files.put('hook.pdf', 'hook')
    const context = { batch: 'b-1', nested: { n: 1 } }
    const id = await api.start({
      systemName: 'arc',
      webhook: hooks.url,
      context,
      files: [fileEntry('h1', url), fileEntry('h2', files.urlOf('nope'))],
    })
    await waitFor(() => hooks.received.length === 1, { what: 'webhook' })
    expect(hooks.received[0]?.body).toEqual({
      id,
      source: 'livingdocs-file-import',
      state: 'success',
      overview: { total: 2, details: { imported: 1, skipped: 0, failed: 1 } },
      context,
    })
    expect(hooks.received[0]?.headers['content-type']).toBe('application/json; charset=utf-8')
    // the job is finished before the webhook is sent
    expect((await api.status(id)).body.finished).toBe(true)
    await waitFor(() => emu.stats().webhooksDelivered === 1, { what: 'delivery count' })
    expect(emu.getJob(id)?.webhooksDelivered).toBe(1)
  })

  it('omits context when none was sent and ignores delivery errors', async () => {
    hooks.state.status = 500
    try {
      const url = files.put('hook2.pdf', 'hook2')
      const id = await api.start({ systemName: 'arc', webhook: hooks.url, files: [fileEntry('h3', url)] })
      await waitFor(() => emu.stats().webhooksFailed === 1, { what: 'failed delivery' })
      expect(hooks.received).toHaveLength(1)
      expect(hooks.received[0]?.body).not.toHaveProperty('context')
      expect(emu.stats().webhookDeliveries[0]).toMatchObject({ jobId: id, status: 500 })
      expect((await api.waitFinished(id)).state).toBe('success')
    } finally {
      hooks.state.status = 204
    }
  })

  it('retries a failed delivery when webhookRetries is set', async () => {
    const local = await startLivingdocsEmulator({ webhookRetries: 2, webhookRetryDelayMs: 5 })
    hooks.state.status = 503
    try {
      const url = files.put('retry.pdf', 'retry')
      await apiClient(local).start({ systemName: 'arc', webhook: hooks.url, files: [fileEntry('r', url)] })
      await waitFor(() => local.stats().webhooksFailed === 3, { what: 'three failed attempts' })
      expect(local.stats().webhooksSent).toBe(3)
      expect(hooks.received).toHaveLength(3)
    } finally {
      hooks.state.status = 204
      await local.close()
    }
  })

  it('counts a webhook to an unreachable receiver as failed', async () => {
    await api.start({
      systemName: 'arc',
      webhook: 'http://127.0.0.1:1/hook',
      files: [fileEntry('u', files.put('u', 'u'))],
    })
    await waitFor(() => emu.stats().webhooksFailed === 1, { what: 'failed delivery' })
    expect(emu.stats().webhookDeliveries[0]?.error).toBeTruthy()
  })
})

describe('close and reset', () => {
  it('close() cancels a running job and resolves promptly', async () => {
    const local = await startLivingdocsEmulator({ jobDurationMs: 60_000 })
    const id = await apiClient(local).start({
      systemName: 'arc',
      files: [fileEntry('c', files.put('c', 'c'))],
    })
    const started = Date.now()
    await local.close()
    expect(Date.now() - started).toBeLessThan(2000)
    expect(local.getJob(id)).toMatchObject({ fault: 'cancelled', finished: true })
  })

  it('reset() clears jobs, media and counters', async () => {
    const id = await api.start({ systemName: 'arc', files: [fileEntry('z', files.put('z', 'z'))] })
    await api.waitFinished(id)
    expect(emu.getMedia('arc', 'z')).toBeDefined()
    await emu.reset()
    expect(emu.getJob(id)).toBeUndefined()
    expect(emu.getMedia('arc', 'z')).toBeUndefined()
    expect(emu.stats().jobsCreated).toBe(0)
  })
})
