// API versions: only released ones are served, newer ones are unknown paths, removed ones are gone ([VER] §4, §10).
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { RunningLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { startLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry } from './helpers.ts'

let emu: RunningLivingdocsEmulator
const valid = { systemName: 'archive', files: [fileEntry('a', 'http://127.0.0.1:1/a.pdf')] }
const postTo = (target: RunningLivingdocsEmulator, version: string, kind: 'files' | 'images' = 'files') =>
  apiClient(target, version, kind).post(
    kind === 'files' ? valid : { systemName: 'a', images: [{ ...valid.files[0], mediaType: 'image' }] },
  )

beforeAll(async () => {
  emu = await startLivingdocsEmulator()
})
afterAll(() => emu.close())

describe('by default', () => {
  it('reports 2026-07, the newest released version', () => {
    expect(emu.apiVersion).toBe('2026-07')
  })

  it.each(['v1', 'beta', '2025-03', '2025-11', '2026-01', '2026-05', '2026-07'])(
    'serves %s',
    async (version) => {
      const res = await postTo(emu, version)
      expect(res.status).toBe(200)
      expect(res.body.id).toMatch(/^[a-z0-9]{7}$/)
    },
  )

  it.each(['2026-09', '2026-11', '2027-01', '2025-04', 'v2'])(
    'answers %s, a version that was never released, with the generic 404 of an unknown path',
    async (version) => {
      const res = await postTo(emu, version)
      expect(res.status).toBe(404)
      expect(res.body).toEqual({
        status: 404,
        error: 'Not Found',
        error_details: { url: `/api/${version}/import/files` },
      })
    },
  )

  it('answers 410 Gone for a date version older than the oldest served one, on every import', async () => {
    for (const kind of ['files', 'images'] as const) {
      const res = await postTo(emu, '2024-01', kind)
      expect(res.status).toBe(410)
      expect(res.body).toEqual({
        status: 410,
        error: 'Gone',
        error_details: { message: 'API version 2024-01 has been removed.' },
      })
    }
  })
})

describe('options', () => {
  it('removedVersions: a served version answers 410', async () => {
    const local = await startLivingdocsEmulator({ removedVersions: ['2025-03'] })
    onTestFinished(() => local.close())
    expect((await postTo(local, '2025-03')).status).toBe(410)
    expect((await postTo(local, '2025-05')).status).toBe(200)
  })

  it('apiVersions: serves an upcoming version when asked, and still reports 2026-07', async () => {
    const local = await startLivingdocsEmulator({ apiVersions: ['2026-07', '2026-09'] })
    onTestFinished(() => local.close())
    expect(local.apiVersion).toBe('2026-07')
    expect((await postTo(local, '2026-09')).status).toBe(200)
    // 2026-05 is now older than the oldest served date version
    expect((await postTo(local, '2026-05')).status).toBe(410)
  })

  it('tooOldVersions 404: an older date version is an unknown path instead', async () => {
    const local = await startLivingdocsEmulator({ tooOldVersions: 404 })
    onTestFinished(() => local.close())
    expect((await postTo(local, '2024-01')).status).toBe(404)
  })

  it('apiVersion must be served', async () => {
    await expect(startLivingdocsEmulator({ apiVersion: '2026-09' })).rejects.toThrow(/2026-09/)
  })
})
