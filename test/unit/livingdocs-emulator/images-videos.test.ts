// The image and video imports: payloads, MIME rules and status shapes ([I][V] §7).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { startLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry, startFileServer } from './helpers.ts'
import { gif, jpeg, mp4, pdf, png, svg } from './samples.ts'

let files: Awaited<ReturnType<typeof startFileServer>>
let emu: RunningLivingdocsEmulator
let images: ReturnType<typeof apiClient>
let videos: ReturnType<typeof apiClient>

beforeAll(async () => {
  files = await startFileServer()
  emu = await startLivingdocsEmulator()
  images = apiClient(emu, emu.apiVersion, 'images')
  videos = apiClient(emu, emu.apiVersion, 'videos')
})
afterEach(() => emu.reset())
afterAll(async () => {
  await emu.close()
  await files.close()
})

type Item = Record<string, unknown> & { externalId: string }
const image = (id: string, url: string) => fileEntry(id, url, { mediaType: 'image' })
const finished = async (
  client: ReturnType<typeof apiClient>,
  key: 'images' | 'videos',
  entries: unknown[],
) => {
  const id = await client.start({ systemName: 'arc', [key]: entries })
  const done = await client.waitFinished(id)
  return { id, done, items: Object.fromEntries((done[key] as Item[]).map((i) => [i.externalId, i])) }
}

describe('image import [I]', () => {
  it('imports png, jpg, gif and svg, nesting the entry as image{…} in the documented key order', async () => {
    const { done, items } = await finished(images, 'images', [
      image('png', files.put('a.png', png(3, 2), 'image/png')),
      image('jpg', files.put('b.jpg', jpeg(12, 9), 'image/jpeg')),
      image('gif', files.put('c.gif', gif(5, 7), 'image/gif')),
      image('svg', files.put('d.svg', svg(40, 30), 'image/svg+xml')),
    ])
    expect(done).toMatchObject({ finished: true, state: 'success' })
    expect(done).not.toHaveProperty('files')
    const png1 = items.png as Item
    expect(Object.keys(png1)).toEqual(['state', 'externalId', 'systemName', 'image'])
    const entry = emu.getMedia('arc', 'png')
    expect(png1).toEqual({
      state: 'imported',
      externalId: 'png',
      systemName: 'arc',
      image: {
        mediaId: entry?.id,
        originalUrl: entry?.originalUrl,
        url: `${entry?.originalUrl}?auto=format`,
        width: 3,
        height: 2,
        mimeType: 'image/png',
        imageService: 'imgix',
      },
    })
    expect(Object.keys(png1.image as object)).toEqual([
      'mediaId',
      'originalUrl',
      'url',
      'width',
      'height',
      'mimeType',
      'imageService',
    ])
    expect(entry?.originalUrl).toMatch(
      /^https:\/\/livingdocs-images\.emulator\.invalid\/\d{4}\/\d{2}\/\d{2}\/.+\.png$/,
    )
    expect(items.jpg?.image).toMatchObject({ width: 12, height: 9, mimeType: 'image/jpeg' })
    expect(items.gif?.image).toMatchObject({ width: 5, height: 7, mimeType: 'image/gif' })
    expect(items.svg?.image).toMatchObject({ width: 40, height: 30, mimeType: 'image/svg+xml' })
    expect(entry).toMatchObject({ kind: 'image', mediaType: 'image' })
  })

  it('skips a repeated pair with the existing image{…}; a failed item has reason and no image', async () => {
    const url = files.put('e.png', png(4, 4), 'image/png')
    const first = (await finished(images, 'images', [image('e', url)])).items.e as Item
    const { items } = await finished(images, 'images', [
      image('e', url),
      image('x', files.urlOf('missing.png')),
    ])
    expect(items.e).toEqual({
      state: 'skipped',
      reason: 'already exists',
      externalId: 'e',
      systemName: 'arc',
      image: first.image,
    })
    expect(items.x).toEqual({
      state: 'failed',
      reason: 'Could not upload image: HTTP 404',
      externalId: 'x',
      systemName: 'arc',
    })
  })

  it('refuses a PDF, and a mediaType that is not a mediaImage', async () => {
    const { items } = await finished(images, 'images', [
      image('pdf', files.put('p.pdf', pdf())),
      fileEntry('typed', files.put('t.png', png(1, 1), 'image/png'), { mediaType: 'file' }),
    ])
    expect(items.pdf).toMatchObject({
      state: 'failed',
      reason: 'Could not upload image: mime type application/pdf is not allowed',
    })
    expect(items.typed).toMatchObject({
      state: 'failed',
      reason: 'Invalid mediaType: "file" is not a mediaImage',
    })
  })

  it('renders per-item key and success value variants as the file import does', async () => {
    const { id } = await finished(images, 'images', [image('v', files.put('v.png', png(1, 1), 'image/png'))])
    emu.setVariants({ perFileStateKey: 'status', perFileSuccessValue: 'success' })
    const [item] = (await images.status(id)).body.images as Item[]
    expect(item).toMatchObject({ status: 'success', image: { width: 1 } })
    expect(item).not.toHaveProperty('state')
  })
})

describe('video import [V]', () => {
  it('imports a video/* file as {state, systemName, externalId, video{mediaId, originalUrl, mimeType}}', async () => {
    const { items } = await finished(videos, 'videos', [
      fileEntry('mp4', files.put('a.bin', mp4(), 'application/octet-stream')),
    ])
    const entry = emu.getMedia('arc', 'mp4')
    expect(Object.keys(items.mp4 as object)).toEqual(['state', 'systemName', 'externalId', 'video'])
    expect(items.mp4).toEqual({
      state: 'imported',
      systemName: 'arc',
      externalId: 'mp4',
      video: { mediaId: entry?.id, originalUrl: entry?.originalUrl, mimeType: 'video/mp4' },
    })
    // mediaType omitted: the handle `video`
    expect(entry).toMatchObject({ kind: 'video', mediaType: 'video', mimeType: 'video/mp4' })
    expect(entry?.originalUrl).toMatch(/^https:\/\/livingdocs-videos\.emulator\.invalid\/.+\.mp4$/)
  })

  it('refuses a PNG, and skips a repeated pair with the existing video{…}', async () => {
    const url = files.put('v.mp4', mp4(1), 'video/mp4')
    const first = (await finished(videos, 'videos', [fileEntry('v', url)])).items.v as Item
    const { items } = await finished(videos, 'videos', [
      fileEntry('v', url),
      fileEntry('png', files.put('p.mp4', png(1, 1), 'video/mp4')),
    ])
    expect(items.v).toEqual({
      state: 'skipped',
      reason: 'already exists',
      systemName: 'arc',
      externalId: 'v',
      video: first.video,
    })
    expect(items.png).toEqual({
      state: 'failed',
      reason: 'Could not upload video: mime type image/png is not allowed',
      systemName: 'arc',
      externalId: 'png',
    })
  })
})

describe('jobs across the imports', () => {
  it('shares one id space; a job is unknown on the status endpoint of another import', async () => {
    const { id } = await finished(videos, 'videos', [fileEntry('v', files.put('w.mp4', mp4(), 'video/mp4'))])
    const viaFiles = await apiClient(emu).status(id)
    expect(viaFiles.body).toEqual({
      finished: false,
      state: 'lost',
      id: `no import job found for id "${id}"`,
    })
    expect(emu.getJob(id)).toMatchObject({ kind: 'video', state: 'success' })
  })

  it('shares one media library: a pair in use by a file is skipped by the image import', async () => {
    const files1 = apiClient(emu)
    const fileJob = await files1.waitFinished(
      await files1.start({ systemName: 'arc', files: [fileEntry('same', files.put('s.pdf', pdf()))] }),
    )
    const mediaId = (fileJob.files as Item[])[0]?.mediaId
    const { items } = await finished(images, 'images', [
      image('same', files.put('s.png', png(1, 1), 'image/png')),
    ])
    expect(items.same).toMatchObject({ state: 'skipped', image: { mediaId, mimeType: 'application/pdf' } })
  })
})
