// The emulated media library ([ML] §11.1, §11.2): look-ups in each version's shape, reads by id, PATCH
// with setMetadataProperty and version (the documented 400/404/409 bodies), scopes, the editor switch,
// and jobs that import their files but keep reporting `started`.
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { RunningLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { startLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'
import { apiClient, fileEntry, startFileServer, waitFor } from './helpers.ts'
import { pdf } from './samples.ts'

const WRITE = 'public-api:write'
const READ = 'public-api:read'

let files: Awaited<ReturnType<typeof startFileServer>>
let emu: RunningLivingdocsEmulator
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  files = await startFileServer()
  emu = await startLivingdocsEmulator({ tokens: { both: [WRITE, READ], write: [WRITE], read: [READ] } })
  api = apiClient(emu)
})
afterEach(() => emu.reset())
afterAll(async () => {
  await emu.close()
  await files.close()
})

/** Imports one PDF as `id` of system `arc` and returns its mediaId. */
async function imported(id: string, metadata: Record<string, unknown> = { title: `Title ${id}` }) {
  const done = await api.waitFinished(
    await api.start({
      systemName: 'arc',
      files: [fileEntry(id, files.put(`${id}.pdf`, pdf(id)), { metadata })],
    }),
  )
  return ((done.files as { mediaId: string }[])[0] as { mediaId: string }).mediaId
}

const lookupUrl = (version: string, query: string) => `${emu.url}/api/${version}/mediaLibrary?${query}`

describe('GET /mediaLibrary?systemName=&externalId= ([ML] §11.2)', () => {
  it('answers {results} from 2026-01 and {mediaLibraryEntries} before, with systemName and externalId', async () => {
    const mediaId = await imported('a')
    const recent = await api.get(lookupUrl('2026-09', 'systemName=arc&externalId=a'), { token: 'both' })
    expect(recent.status).toBe(200)
    expect(recent.body).toEqual({
      results: [
        {
          id: mediaId,
          version: 1,
          mediaType: 'file',
          systemName: 'arc',
          externalId: 'a',
          asset: {
            url: expect.stringMatching(/\.invalid\//),
            mimeType: 'application/pdf',
            size: pdf('a').length,
          },
          metadata: { title: 'Title a' },
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
      ],
    })
    for (const version of ['2025-11', 'v1']) {
      const old = await api.get(lookupUrl(version, 'systemName=arc&externalId=a'), { token: 'both' })
      expect(old.body.mediaLibraryEntries).toEqual(recent.body.results)
    }
  })

  it('accepts externalIds (the OpenAPI name) and ids; an ids answer carries no pair', async () => {
    const mediaId = await imported('b')
    const byPlural = await api.get(lookupUrl('2026-09', 'systemName=arc&externalIds=b'), { token: 'read' })
    expect((byPlural.body.results as unknown[]).length).toBe(1)
    const byIds = await api.get(lookupUrl('2026-09', `ids=${mediaId},nope`), { token: 'read' })
    expect(byIds.body.results).toEqual([expect.not.objectContaining({ externalId: 'b' })])
  })

  it('answers nothing matched with an empty list; variants lookupMiss 404 and legacyListShape array', async () => {
    const miss = await api.get(lookupUrl('2026-09', 'systemName=arc&externalId=none'), { token: 'read' })
    expect([miss.status, miss.body]).toEqual([200, { results: [] }])
    emu.setVariants({ lookupMiss: '404', legacyListShape: 'array' })
    const missed = await api.get(lookupUrl('2026-09', 'systemName=arc&externalId=none'), { token: 'read' })
    expect(missed.status).toBe(404)
    await imported('c')
    const old = await api.get(lookupUrl('2025-11', 'systemName=arc&externalId=c'), { token: 'read' })
    expect(Array.isArray(old.body)).toBe(true)
  })

  it('needs public-api:read: a write-only token gets the documented 403, no token 401', async () => {
    const forbidden = await api.get(lookupUrl('2026-09', 'systemName=arc&externalId=a'), { token: 'write' })
    expect(forbidden).toMatchObject({
      status: 403,
      body: {
        status: 403,
        error: 'Forbidden',
        error_details: { access_token: 'The request requires higher privileges' },
      },
    })
    expect((await api.get(lookupUrl('2026-09', 'externalId=a'), { token: null })).status).toBe(401)
  })
})

describe('GET and PATCH /mediaLibrary/{id} ([ML] §11.1)', () => {
  it('reads the entry itself, and a PATCH with its version sets and removes properties in one request', async () => {
    const mediaId = await imported('p', { title: 'Old', caption: 'Gone soon' })
    const read = await api.get(`${api.library}/${mediaId}`, { token: 'both' })
    expect(read.body).toMatchObject({
      id: mediaId,
      version: 1,
      metadata: { title: 'Old', caption: 'Gone soon' },
    })
    expect(read.body).not.toHaveProperty('externalId')
    const patched = await api.patch(
      `${api.library}/${mediaId}`,
      {
        version: 1,
        patches: [
          { operation: 'setMetadataProperty', propertyName: 'title', value: 'New' },
          { operation: 'setMetadataProperty', propertyName: 'caption', value: null },
        ],
      },
      { token: 'write' },
    )
    expect(patched).toMatchObject({ status: 200, body: { status: 200 } })
    expect(emu.getMedia('arc', 'p')).toMatchObject({ version: 2, metadata: { title: 'New' } })
    expect(emu.getMedia('arc', 'p')?.metadata).not.toHaveProperty('caption')
    expect(emu.stats().mediaPatches).toEqual([expect.objectContaining({ mediaId, version: 1, status: 200 })])
  })

  it('answers the documented 409 for a stale version, 404 for an unknown id, 400 for an unknown operation', async () => {
    const mediaId = await imported('q')
    const stale = await api.patch(
      `${api.library}/${mediaId}`,
      { version: 36, patches: [{ operation: 'setMetadataProperty', propertyName: 'title', value: 'x' }] },
      { token: 'write' },
    )
    expect(stale).toMatchObject({
      status: 409,
      body: {
        status: 409,
        error: 'Conflict',
        error_details: { name: 'Conflict', message: 'Version: Expected 1 to be equal to 36' },
      },
    })
    const unknown = await api.patch(`${api.library}/yLBGtTjWN4ba`, { patches: [] }, { token: 'write' })
    expect(unknown.body).toEqual({
      status: 404,
      error: 'Not Found',
      error_details: { name: 'NotFound', message: "MediaLibrary Entry does not exist (id: 'yLBGtTjWN4ba')" },
    })
    const bad = await api.patch(
      `${api.library}/${mediaId}`,
      { patches: [{ operation: 'notExistingOperation' }] },
      { token: 'write' },
    )
    expect(bad.body).toEqual({
      status: 400,
      error: 'Bad Request',
      error_details: { 'patches.0.operation': 'No enum match for: "notExistingOperation"' },
    })
    expect(emu.getMedia('arc', 'q')?.version).toBe(1)
  })

  it('refuses metadata the mediaType does not allow with 400; a PATCH needs public-api:write', async () => {
    const local = await startLivingdocsEmulator({
      tokens: { both: [WRITE, READ], read: [READ] },
      mediaTypes: [{ handle: 'file', type: 'mediaFile', metadata: [{ handle: 'year', type: 'li-integer' }] }],
    })
    onTestFinished(() => local.close())
    const client = apiClient({ ...local, token: 'both' })
    const done = await client.waitFinished(
      await client.start({
        systemName: 'arc',
        files: [fileEntry('y', files.put('y.pdf', pdf('y')), { metadata: {} })],
      }),
    )
    const mediaId = (done.files as { mediaId: string }[])[0]?.mediaId
    const url = `${client.library}/${mediaId}`
    const patches = [{ operation: 'setMetadataProperty', propertyName: 'year', value: 'soon' }]
    expect((await client.patch(url, { version: 1, patches }, { token: 'read' })).status).toBe(403)
    const refused = await client.patch(url, { version: 1, patches })
    expect(refused).toMatchObject({
      status: 400,
      body: { error_details: { 'metadata.year': "The value of '/year' must be integer" } },
    })
  })

  it('editorChanges: an editor changes the entry right after each read, so the PATCH with that version gets 409', async () => {
    const mediaId = await imported('e')
    emu.setFaults({ editorChanges: { count: 1 } })
    const first = await api.get(`${api.library}/${mediaId}`, { token: 'both' })
    const patch = {
      version: first.body.version,
      patches: [{ operation: 'setMetadataProperty', propertyName: 'title', value: 'Mine' }],
    }
    expect((await api.patch(`${api.library}/${mediaId}`, patch, { token: 'both' })).status).toBe(409)
    expect(emu.getMedia('arc', 'e')).toMatchObject({
      version: 2,
      metadata: { description: 'changed by an editor' },
    })
    // the count is spent: read again, and the PATCH with the new version is applied
    const again = await api.get(`${api.library}/${mediaId}`, { token: 'both' })
    expect(
      (
        await api.patch(
          `${api.library}/${mediaId}`,
          { ...patch, version: again.body.version },
          { token: 'both' },
        )
      ).status,
    ).toBe(200)
  })
})

describe('fault jobsStayStarted and request faults for a time', () => {
  it('a job imports its files into the media library but keeps reporting started, with no webhook', async () => {
    emu.setFaults({ jobsStayStarted: true })
    const jobId = await api.start({
      systemName: 'arc',
      files: [fileEntry('s', files.put('s.pdf', pdf('s')))],
    })
    await waitFor(() => emu.getMedia('arc', 's'), { what: 'the entry' })
    const status = await api.status(jobId)
    expect(status.body).toMatchObject({ finished: false, state: 'started' })
    expect(emu.getJob(jobId)).toMatchObject({ fault: 'stays-started', finished: false })
    expect(emu.stats().webhooksSent).toBe(0)
  })

  it('forMs: status reads answered 403 only for that long', async () => {
    let now = 1_000_000
    const local = await startLivingdocsEmulator({ now: () => new Date(now) })
    onTestFinished(() => local.close())
    local.setFaults({ answerWith: { status: 403, endpoints: ['status'], forMs: 30_000 } })
    const client = apiClient(local)
    expect((await client.status('x')).status).toBe(403)
    now += 30_000
    expect((await client.status('x')).status).toBe(403)
    now += 1
    expect((await client.status('x')).status).toBe(200)
    // and the submits were never refused
    expect(
      (await client.post({ systemName: 'a', files: [fileEntry('f', files.put('f.pdf', pdf('f')))] })).status,
    ).toBe(200)
  })
})
