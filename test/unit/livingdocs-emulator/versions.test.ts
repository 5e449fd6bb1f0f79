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
  it('reports 2026-09, the newest released version (§11.5: release-2026-09 is current)', () => {
    expect(emu.apiVersion).toBe('2026-09')
  })

  it.each(['v1', 'beta', '2025-03', '2025-11', '2026-01', '2026-05', '2026-07', '2026-09'])(
    'serves %s',
    async (version) => {
      const res = await postTo(emu, version)
      expect(res.status).toBe(200)
      expect(res.body.id).toMatch(/^[a-z0-9]{7}$/)
    },
  )

  it.each(['2026-11', '2027-01', '2025-04', 'v2'])(
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

  it('apiVersions: serves an upcoming version when asked, and still reports 2026-09', async () => {
    const local = await startLivingdocsEmulator({ apiVersions: ['2026-09', '2026-11'] })
    onTestFinished(() => local.close())
    expect(local.apiVersion).toBe('2026-09')
    expect((await postTo(local, '2026-11')).status).toBe(200)
    // 2026-07 is now older than the oldest served date version
    expect((await postTo(local, '2026-07')).status).toBe(410)
  })

  it('tooOldVersions 404: an older date version is an unknown path instead', async () => {
    const local = await startLivingdocsEmulator({ tooOldVersions: 404 })
    onTestFinished(() => local.close())
    expect((await postTo(local, '2024-01')).status).toBe(404)
  })

  it('apiVersion must be served', async () => {
    await expect(startLivingdocsEmulator({ apiVersion: '2026-11' })).rejects.toThrow(/2026-11/)
  })
})

describe('deprecated versions (§11.5: v1 and beta since release-2026-09)', () => {
  const headersOf = async (target: RunningLivingdocsEmulator, version: string) =>
    (await postTo(target, version)).headers

  it('answers v1 and beta with an RFC 9745 Deprecation header by default, and current versions without', async () => {
    expect((await headersOf(emu, 'v1')).deprecation).toBe('@1788220800')
    expect((await headersOf(emu, 'beta')).deprecation).toBe('@1788220800')
    for (const version of ['2025-03', '2026-09']) {
      const headers = await headersOf(emu, version)
      expect([headers.deprecation, headers.warning, headers.sunset]).toEqual([
        undefined,
        undefined,
        undefined,
      ])
    }
  })

  it('variant deprecationHeader plays the Warning and Sunset readings; deprecatedVersions adds 2025-03', async () => {
    const local = await startLivingdocsEmulator({
      deprecatedVersions: ['v1', 'beta', '2025-03'],
      variants: { deprecationHeader: 'warning' },
    })
    onTestFinished(() => local.close())
    expect((await headersOf(local, 'v1')).warning).toBe(
      '299 - "LIDEP089-v1: API version v1 is deprecated and will be removed in release-2027-03"',
    )
    expect((await headersOf(local, '2025-03')).warning).toMatch(/^299 - ".*2025-03.*release-2027-05"$/)
    local.setVariants({ deprecationHeader: 'sunset' })
    expect((await headersOf(local, 'beta')).sunset).toBe('Mon, 01 Mar 2027 00:00:00 GMT')
  })
})
