// Variants where the docs disagree ([F] §1.2, [PR1209], [GIT], [D] §7, §9).
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { RunningLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { createLivingdocsEmulator, startLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry, startFileServer } from './helpers.ts'
import { pdf } from './samples.ts'

let files: Awaited<ReturnType<typeof startFileServer>>
let emu: RunningLivingdocsEmulator
let api: ReturnType<typeof apiClient>
let jobId: string

beforeAll(async () => {
  files = await startFileServer()
  emu = await startLivingdocsEmulator()
  api = apiClient(emu)
  const url = files.put('v.pdf', pdf('variant'))
  await api.waitFinished(await api.start({ systemName: 'arc', files: [fileEntry('first', url)] }))
  // one imported, one skipped, one failed
  jobId = await api.start({
    systemName: 'arc',
    files: [fileEntry('new', url), fileEntry('first', url), fileEntry('bad', files.urlOf('missing'))],
  })
  await api.waitFinished(jobId)
})
afterAll(async () => {
  await emu.close()
  await files.close()
})

const filesOf = async () => (await api.status(jobId)).body.files as Record<string, unknown>[]

describe('per-file value and key', () => {
  it('defaults to state: imported [PR1209][GIT]', async () => {
    expect(emu.getVariants()).toEqual({
      perFileSuccessValue: 'imported',
      perFileStateKey: 'state',
      unknownJob: 'lost',
      reimport: 'skip',
      mediaTypeRequired: 'openapi',
      undetectedMimeType: 'content-type',
      webhookContext: 'echo',
      webhookContentType: 'application/json; charset=utf-8',
      deprecationHeader: 'deprecation',
      lookupMiss: 'empty',
      legacyListShape: 'object',
    })
    const [created, skipped, failed] = await filesOf()
    expect(created?.state).toBe('imported')
    expect(skipped?.state).toBe('skipped')
    expect(failed?.state).toBe('failed')
  })

  it('answers per-file success when switched at run time (also for finished jobs)', async () => {
    emu.setVariants({ perFileSuccessValue: 'success' })
    onTestFinished(() => emu.setVariants({ perFileSuccessValue: 'imported' }))
    const [created, skipped, failed] = await filesOf()
    expect(created).toMatchObject({ state: 'success', mediaId: expect.any(String) })
    expect(skipped?.state).toBe('skipped')
    expect(failed?.state).toBe('failed')
  })

  it('uses the key status when switched', async () => {
    emu.setVariants({ perFileStateKey: 'status' })
    onTestFinished(() => emu.setVariants({ perFileStateKey: 'state' }))
    const all = await filesOf()
    expect(all.map((f) => f.status)).toEqual(['imported', 'skipped', 'failed'])
    for (const f of all) expect(f).not.toHaveProperty('state')
    // the job-level key stays `state`
    expect((await api.status(jobId)).body.state).toBe('success')
  })

  it('takes variants at construction', async () => {
    const local = await startLivingdocsEmulator({
      variants: { perFileStateKey: 'status', perFileSuccessValue: 'success' },
    })
    onTestFinished(() => local.close())
    const localApi = apiClient(local)
    const done = await localApi.waitFinished(
      await localApi.start({ systemName: 'arc', files: [fileEntry('c', files.put('c.pdf', pdf('c')))] }),
    )
    expect((done.files as Record<string, unknown>[])[0]).toMatchObject({ status: 'success' })
  })

  it('rejects unknown variant names and values', () => {
    expect(() => emu.setVariants({ perFileStateKey: 'nope' as 'state' })).toThrow(/perFileStateKey/)
    expect(() => emu.setVariants({ bogus: 'x' } as never)).toThrow(/unknown variant/)
    expect(() => createLivingdocsEmulator({ variants: { unknownJob: 'gone' as '404' } })).toThrow(
      /unknownJob/,
    )
  })
})

describe('mediaTypeRequired [F][I][V]', () => {
  it("'openapi' lets files omit mediaType (default file); 'always' requires it as the prose does", async () => {
    const entry = fileEntry('m', files.urlOf('v.pdf'))
    expect((await api.post({ systemName: 'arc', files: [entry] })).status).toBe(200)
    emu.setVariants({ mediaTypeRequired: 'always' })
    onTestFinished(() => emu.setVariants({ mediaTypeRequired: 'openapi' }))
    const res = await api.post({ systemName: 'arc', files: [entry] })
    expect(res.status).toBe(400)
    expect(res.body.error_details).toEqual({ 'files.0.mediaType': 'Missing required property: mediaType' })
    const videos = apiClient(emu, emu.apiVersion, 'videos')
    const video = await videos.post({ systemName: 'arc', videos: [entry] })
    expect(video.body.error_details).toEqual({ 'videos.0.mediaType': 'Missing required property: mediaType' })
  })
})

describe('unknown job id [D] §7, §9', () => {
  it('answers 200 state lost by default', async () => {
    const res = await api.status('nosuch')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ finished: false, state: 'lost', id: 'no import job found for id "nosuch"' })
  })

  it('answers 404 with the error body when switched', async () => {
    emu.setVariants({ unknownJob: '404' })
    onTestFinished(() => emu.setVariants({ unknownJob: 'lost' }))
    const res = await api.status('nosuch')
    expect(res.status).toBe(404)
    expect(res.body).toEqual({
      status: 404,
      error: 'Not Found',
      error_details: { message: 'no import job found for id "nosuch"' },
    })
    // a known job is unaffected
    expect((await api.status(jobId)).status).toBe(200)
  })
})
