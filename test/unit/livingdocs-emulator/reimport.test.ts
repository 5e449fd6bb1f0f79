// Re-imports of a systemName/externalId pair: skipped by default (§10), updated under `reimport: 'update'`.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { startLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry, startFileServer } from './helpers.ts'
import { pdf } from './samples.ts'

let files: Awaited<ReturnType<typeof startFileServer>>
let emu: RunningLivingdocsEmulator
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  files = await startFileServer()
  emu = await startLivingdocsEmulator()
  api = apiClient(emu)
})
afterEach(() => emu.reset())
afterAll(async () => {
  await emu.close()
  await files.close()
})

type Item = { state: string; mediaId?: string; reason?: string }
const importOne = async (entry: ReturnType<typeof fileEntry>, systemName = 'arc') =>
  ((await api.waitFinished(await api.start({ systemName, files: [entry] }))).files as Item[])[0] as Item

describe("reimport: 'skip' (default; server notes v254.0.37, docs PR #902, §10)", () => {
  it('skips a repeated pair with the existing mediaId, whatever the bytes, fileName or metadata', async () => {
    const url = files.put('re.pdf', pdf('v1'))
    const first = await importOne(fileEntry('r', url))
    expect(first).toMatchObject({ state: 'imported', mediaId: expect.any(String) })

    files.put('re.pdf', pdf('v2, changed'))
    const changed = await importOne(
      fileEntry('r', url, { fileName: 'Renamed', metadata: { title: 'New title' } }),
    )
    expect(changed).toEqual({
      state: 'skipped',
      reason: 'already exists',
      systemName: 'arc',
      externalId: 'r',
      mediaId: first.mediaId,
    })
    // nothing was updated
    expect(emu.getMedia('arc', 'r')).toMatchObject({
      id: first.mediaId,
      version: 1,
      fileName: 'File r',
      size: pdf('v1').length,
      metadata: { title: 'Title r' },
    })
  })

  it('does not fetch the URL of a pair in use again: a dead URL is still skipped', async () => {
    const first = await importOne(fileEntry('d', files.put('d.pdf', pdf('d'))))
    const again = await importOne(fileEntry('d', files.urlOf('gone.pdf')))
    expect(again).toMatchObject({ state: 'skipped', mediaId: first.mediaId })
  })

  it('keys the media library by systemName and externalId', async () => {
    const url = files.put('shared.pdf', pdf('same'))
    const one = await importOne(fileEntry('x', url), 'one')
    const two = await importOne(fileEntry('x', url), 'two')
    expect([one.state, two.state]).toEqual(['imported', 'imported'])
    expect(one.mediaId).not.toBe(two.mediaId)
  })

  it('processes duplicate ids within one batch in order: later ones are skipped', async () => {
    const done = await api.waitFinished(
      await api.start({
        systemName: 'arc',
        files: [fileEntry('d', files.put('a.pdf', pdf('a'))), fileEntry('d', files.put('b.pdf', pdf('b')))],
      }),
    )
    const [one, two] = done.files as Item[]
    expect(one?.state).toBe('imported')
    expect(two).toMatchObject({ state: 'skipped', reason: 'already exists', mediaId: one?.mediaId })
  })
})

describe("reimport: 'update' (the files page's 'create and update' prose)", () => {
  it('imports new bytes under the same mediaId with version + 1, skips the same bytes', async () => {
    emu.setVariants({ reimport: 'update' })
    const url = files.put('up.pdf', pdf('v1'))
    const first = await importOne(fileEntry('u', url))
    expect(await importOne(fileEntry('u', url))).toMatchObject({ state: 'skipped', mediaId: first.mediaId })

    files.put('up.pdf', pdf('version two'))
    const updated = await importOne(fileEntry('u', url, { fileName: 'Renamed' }))
    expect(updated).toEqual({ state: 'imported', mediaId: first.mediaId, systemName: 'arc', externalId: 'u' })
    expect(emu.getMedia('arc', 'u')).toMatchObject({
      id: first.mediaId,
      version: 2,
      fileName: 'Renamed',
      size: pdf('version two').length,
    })
  })

  it('is reset to skip by reset()', async () => {
    emu.setVariants({ reimport: 'update' })
    await emu.reset()
    expect(emu.getVariants().reimport).toBe('skip')
  })
})
