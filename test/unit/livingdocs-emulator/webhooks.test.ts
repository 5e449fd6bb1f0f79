// Webhook body variants: source per import, context echoed or not, content type ([F] §2, §9, §10, [DPA]).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { startLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry, startFileServer, startWebhookReceiver, waitFor } from './helpers.ts'
import { mp4, pdf, png } from './samples.ts'

let files: Awaited<ReturnType<typeof startFileServer>>
let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>
let emu: RunningLivingdocsEmulator

beforeAll(async () => {
  files = await startFileServer()
  hooks = await startWebhookReceiver()
  emu = await startLivingdocsEmulator()
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

const context = { batch: 'b-7' }
/** Starts a one-entry job of `kind` with a webhook and context; resolves with the job id once the webhook arrived. */
const jobWithWebhook = async (kind: 'files' | 'images' | 'videos' = 'files') => {
  const entry =
    kind === 'files'
      ? fileEntry('f', files.put('f.pdf', pdf()))
      : kind === 'images'
        ? fileEntry('i', files.put('i.png', png(1, 1), 'image/png'), { mediaType: 'image' })
        : fileEntry('v', files.put('v.mp4', mp4(), 'video/mp4'))
  const id = await apiClient(emu, emu.apiVersion, kind).start({
    systemName: 'arc',
    webhook: hooks.url,
    context,
    [kind]: [entry],
  })
  await waitFor(() => hooks.received.length === 1, { what: 'webhook' })
  return id
}

describe('defaults', () => {
  it('sends JSON with charset, the context under context, source livingdocs-file-import', async () => {
    const id = await jobWithWebhook()
    const [hook] = hooks.received
    expect(hook?.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(hook?.body).toEqual({
      id,
      source: 'livingdocs-file-import',
      state: 'success',
      overview: { total: 1, details: { imported: 1, skipped: 0, failed: 0 } },
      context,
    })
  })

  it.each([
    ['images', 'livingdocs-image-import'],
    ['videos', 'livingdocs-video-import'],
  ] as const)('names the %s import as source %s [DPA]', async (kind, source) => {
    const id = await jobWithWebhook(kind)
    expect(hooks.received[0]?.body).toMatchObject({ id, source, state: 'success', context })
  })
})

describe('variants', () => {
  it("webhookContext 'omit': no context key although the request sent one", async () => {
    emu.setVariants({ webhookContext: 'omit' })
    const id = await jobWithWebhook()
    expect(hooks.received[0]?.body).toMatchObject({ id, state: 'success' })
    expect(hooks.received[0]?.body).not.toHaveProperty('context')
  })

  it('webhookContentType: another type, the same JSON text', async () => {
    emu.setVariants({ webhookContentType: 'text/plain' })
    const id = await jobWithWebhook()
    expect(hooks.received[0]?.headers['content-type']).toBe('text/plain')
    expect(JSON.parse(hooks.received[0]?.text ?? '')).toMatchObject({ id, context })
    expect(emu.stats().webhookDeliveries[0]?.contentType).toBe('text/plain')
  })

  it('webhookContentType null: no content-type header at all', async () => {
    emu.setVariants({ webhookContentType: null })
    const id = await jobWithWebhook()
    expect(hooks.received[0]?.headers).not.toHaveProperty('content-type')
    expect(hooks.received[0]?.body).toMatchObject({ id })
    expect(emu.stats().webhookDeliveries[0]).not.toHaveProperty('contentType')
  })

  it('rejects an empty content type', () => {
    expect(() => emu.setVariants({ webhookContentType: ' ' })).toThrow(/webhookContentType/)
  })
})
