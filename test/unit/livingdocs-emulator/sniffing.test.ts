// MIME types detected from the bytes (server v237.2.35) and the upload restrictions (§10).
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type {
  LivingdocsEmulatorOptions,
  RunningLivingdocsEmulator,
} from '../../support/livingdocs-emulator/index.ts'
import { startLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry, startFileServer } from './helpers.ts'
import { gif, pdf, png, svg } from './samples.ts'

let files: Awaited<ReturnType<typeof startFileServer>>
let emu: RunningLivingdocsEmulator

beforeAll(async () => {
  files = await startFileServer()
  emu = await startLivingdocsEmulator()
})
afterEach(() => emu.reset())
afterAll(async () => {
  await emu.close()
  await files.close()
})

type Item = { state: string; reason?: string }
/** Imports entries through `kind` and returns the per-item results by externalId. */
const run = async (
  target: RunningLivingdocsEmulator,
  kind: 'files' | 'images',
  entries: ReturnType<typeof fileEntry>[],
) => {
  const client = apiClient(target, target.apiVersion, kind)
  const done = await client.waitFinished(await client.start({ systemName: 'arc', [kind]: entries }))
  const items = done[kind] as (Item & { externalId: string })[]
  return Object.fromEntries(items.map((i) => [i.externalId, i]))
}
const withEmulator = async (options: LivingdocsEmulatorOptions) => {
  const local = await startLivingdocsEmulator(options)
  onTestFinished(() => local.close())
  return local
}

describe('MIME type from the bytes, not the Content-Type', () => {
  it('stores a PNG served as application/octet-stream as image/png, a PDF served as image/png as application/pdf', async () => {
    const results = await run(emu, 'files', [
      fileEntry('png', files.put('a.bin', png(2, 2), 'application/octet-stream')),
      fileEntry('pdf', files.put('b.png', pdf(), 'image/png')),
    ])
    expect(results.png?.state).toBe('imported')
    expect(results.pdf?.state).toBe('imported')
    expect(emu.getMedia('arc', 'png')?.mimeType).toBe('image/png')
    expect(emu.getMedia('arc', 'pdf')?.mimeType).toBe('application/pdf')
  })

  it('refuses a PDF served as image/png on the image import', async () => {
    const image = fileEntry('fake', files.put('fake.png', pdf(), 'image/png'), { mediaType: 'image' })
    const results = await run(emu, 'images', [image])
    expect(results.fake).toMatchObject({
      state: 'failed',
      reason: 'Could not upload image: mime type application/pdf is not allowed',
    })
    expect(emu.getMedia('arc', 'fake')).toBeUndefined()
  })

  it('recognises SVG, which is XML text, served as text/plain', async () => {
    const results = await run(emu, 'images', [
      fileEntry('svg', files.put('s.txt', svg(40, 30), 'text/plain'), { mediaType: 'image' }),
    ])
    expect(results.svg?.state).toBe('imported')
    expect(emu.getMedia('arc', 'svg')).toMatchObject({ mimeType: 'image/svg+xml', width: 40, height: 30 })
  })

  it("takes the Content-Type for bytes no signature matches, or application/octet-stream under 'octet-stream'", async () => {
    const csv = files.put('t.csv', 'a,b\n1,2\n', 'text/csv')
    await run(emu, 'files', [fileEntry('csv', csv)])
    expect(emu.getMedia('arc', 'csv')?.mimeType).toBe('text/csv')
    emu.setVariants({ undetectedMimeType: 'octet-stream' })
    await run(emu, 'files', [fileEntry('csv2', csv)])
    expect(emu.getMedia('arc', 'csv2')?.mimeType).toBe('application/octet-stream')
  })
})

describe('upload restrictions (files.uploadRestrictions, §10)', () => {
  it('allows every type by default', async () => {
    const results = await run(emu, 'files', [fileEntry('gif', files.put('g.gif', gif(1, 1), null))])
    expect(results.gif?.state).toBe('imported')
  })

  it('allowedMimeTypes: fails other detected types with the documented phrase first', async () => {
    const local = await withEmulator({ allowedMimeTypes: ['application/pdf', 'text/*'] })
    const results = await run(local, 'files', [
      fileEntry('pdf', files.put('ok.pdf', pdf())),
      fileEntry('gif', files.put('g.pdf', gif(1, 1), 'application/pdf')),
      fileEntry('txt', files.put('t.txt', 'plain words', 'text/plain')),
    ])
    expect(results.pdf?.state).toBe('imported')
    expect(results.gif).toEqual({
      state: 'failed',
      reason: 'Could not upload file: mime type image/gif is not allowed',
      systemName: 'arc',
      externalId: 'gif',
    })
    expect(results.txt?.state).toBe('imported')
  })

  it('maxFileSize: a download over it fails, one of exactly that size is imported', async () => {
    const local = await withEmulator({ maxFileSize: 100 })
    const results = await run(local, 'files', [
      fileEntry('fits', files.put('100.bin', Buffer.alloc(100, 1), 'application/octet-stream')),
      fileEntry('big', files.put('101.bin', Buffer.alloc(101, 1), 'application/octet-stream')),
    ])
    expect(results.fits?.state).toBe('imported')
    expect(results.big).toMatchObject({
      state: 'failed',
      reason: 'Could not upload file: file size exceeds the maximum of 100 bytes',
    })
  })

  it('maxFileSize applies to images too; allowedMimeTypes does not', async () => {
    const local = await withEmulator({ maxFileSize: 200, allowedMimeTypes: ['application/pdf'] })
    const results = await run(local, 'images', [
      fileEntry('small', files.put('s.gif', gif(3, 3), 'image/gif'), { mediaType: 'image' }),
      fileEntry('large', files.put('l.gif', Buffer.concat([gif(3, 3), Buffer.alloc(300)])), {
        mediaType: 'image',
      }),
    ])
    expect(results.small?.state).toBe('imported')
    expect(results.large?.reason).toBe('Could not upload image: file size exceeds the maximum of 200 bytes')
  })
})

describe('the documented upload limits of each import (§11.6, by default)', () => {
  it('images 15mb, webp and gif 10MB, files and videos 100mb', async () => {
    const over15mb = 15_728_640 + 1
    const over10MB = 10_485_760 + 1
    const images = await run(emu, 'images', [
      fileEntry(
        'png',
        files.put('big.png', Buffer.concat([png(2, 2), Buffer.alloc(over15mb)]), 'image/png'),
        {
          mediaType: 'image',
        },
      ),
      fileEntry(
        'gif',
        files.put('big.gif', Buffer.concat([gif(2, 2), Buffer.alloc(over10MB)]), 'image/gif'),
        {
          mediaType: 'image',
        },
      ),
      fileEntry('gif10', files.put('ok.gif', Buffer.concat([gif(2, 2), Buffer.alloc(1000)]), 'image/gif'), {
        mediaType: 'image',
      }),
    ])
    expect(images.png?.reason).toBe('Could not upload image: file size exceeds the maximum of 15728640 bytes')
    expect(images.gif?.reason).toBe('Could not upload image: file size exceeds the maximum of 10485760 bytes')
    expect(images.gif10?.state).toBe('imported')
    // the same 15 MB as a file is within its 100mb
    const asFile = await run(emu, 'files', [
      fileEntry(
        'pdf',
        files.put('big.pdf', Buffer.concat([pdf(), Buffer.alloc(over15mb)]), 'application/pdf'),
      ),
    ])
    expect(asFile.pdf?.state).toBe('imported')
  })
})
