// Additive emulator options for the benchmark: skipDownloads and rateLimitPerSecond.
import { describe, expect, it, onTestFinished } from 'vitest'
import { parseCliArgs } from '../../support/livingdocs-emulator/cli.ts'
import { startLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry } from './helpers.ts'

describe('skipDownloads', () => {
  it('imports without fetching the URL, and a repeat of the same URL is skipped', async () => {
    const emu = await startLivingdocsEmulator({ skipDownloads: true })
    onTestFinished(() => emu.close())
    const api = apiClient(emu)
    // Port 9 (discard) on loopback: a real download would fail with ECONNREFUSED.
    const url = 'http://127.0.0.1:9/never-fetched.pdf'
    const first = await api.waitFinished(await api.start({ systemName: 'arc', files: [fileEntry('a', url)] }))
    const files = first.files as Array<Record<string, unknown>>
    expect(files[0]).toMatchObject({ state: 'imported', externalId: 'a' })
    const again = await api.waitFinished(await api.start({ systemName: 'arc', files: [fileEntry('a', url)] }))
    expect((again.files as Array<Record<string, unknown>>)[0]).toMatchObject({
      state: 'skipped',
      mediaId: files[0]?.mediaId,
    })
  })

  it('is off by default: the same URL fails to download', async () => {
    const emu = await startLivingdocsEmulator()
    onTestFinished(() => emu.close())
    const api = apiClient(emu)
    const done = await api.waitFinished(
      await api.start({ systemName: 'arc', files: [fileEntry('a', 'http://127.0.0.1:9/x.pdf')] }),
    )
    expect((done.files as Array<Record<string, unknown>>)[0]).toMatchObject({ state: 'failed' })
  })
})

describe('rateLimitPerSecond', () => {
  it('answers requests over the limit within one second with 429 and Retry-After: 1', async () => {
    const emu = await startLivingdocsEmulator({ rateLimitPerSecond: 3 })
    onTestFinished(() => emu.close())
    const api = apiClient(emu)
    const answers = await Promise.all(Array.from({ length: 8 }, () => api.status('nope')))
    const limited = answers.filter((a) => a.status === 429)
    // 8 requests span at most two one-second windows: at most 6 get through.
    expect(limited.length).toBeGreaterThanOrEqual(2)
    expect(limited[0]?.headers['retry-after']).toBe('1')
    expect(limited[0]?.body).toMatchObject({ status: 429, error: 'Usage Limit Exceeded' })
  })

  it('is set from the CLI with --rate-limit-rps and --skip-downloads', () => {
    const parsed = parseCliArgs(['--rate-limit-rps', '12', '--skip-downloads'])
    if (parsed.help) throw new Error('unexpected help')
    expect(parsed.options).toMatchObject({ rateLimitPerSecond: 12, skipDownloads: true })
  })
})
