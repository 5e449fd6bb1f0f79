// The media library calls of the Livingdocs client (look-up, read, patch) against a scripted node:http
// server, the readers of their answers in each version's shape, and the deprecation notices of answers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { readDeprecation } from '../../../src/import/deprecation.ts'
import { createImportClient, type ImportClient } from '../../../src/import/import-client.ts'
import { readEntries, readEntry } from '../../../src/import/library-entry.ts'
import { createLogger } from '../../../src/logging.ts'
import { createMetrics, type Metrics } from '../../../src/metrics.ts'
import { metricValue } from '../../support/e2e-world.ts'
import { LogLines } from '../../support/log-lines.ts'
import { json, rejection, type ScriptedServer, startServer } from '../../support/scripted-server.ts'

let server: ScriptedServer
let metrics: Metrics
let logs: LogLines
let client: ImportClient

beforeEach(async () => {
  server = await startServer()
  metrics = createMetrics()
  logs = new LogLines()
  client = createImportClient(
    {
      baseUrl: `${server.base}/prefix`,
      apiVersion: 'v1',
      accessToken: 'tok',
      requestTimeoutMs: 2000,
      maxRetries: 2,
      minBackoffMs: 5,
      maxBackoffMs: 20,
    },
    { metrics, logger: createLogger({ level: 'debug', destination: logs.writable() }) },
  )
})
afterEach(async () => {
  await client.close()
  await server.close()
})

const ENTRY = { id: 'm1', version: 3, metadata: { title: 'A' }, systemName: 'archive', externalId: 'e1' }

describe('readEntries / readEntry: each version’s shape ([ML] §4, §11.2)', () => {
  it.each([
    ['{results} from 2026-01', { results: [ENTRY] }],
    ['{mediaLibraryEntries} up to 2025-11', { mediaLibraryEntries: [ENTRY] }],
    ['a bare array (the changelog)', [ENTRY]],
  ])('reads %s', (_name, body) => {
    expect(readEntries(body)).toEqual([
      { id: 'm1', version: 3, metadata: { title: 'A' }, systemName: 'archive', externalId: 'e1' },
    ])
  })

  it('reads an empty answer as none, and an unknown shape as unreadable (undefined)', () => {
    expect(readEntries({ results: [] })).toEqual([])
    expect(readEntries({ entries: [ENTRY] })).toBeUndefined()
    expect(readEntries({ results: [{ version: 1 }] })).toBeUndefined()
  })

  it('reads a version given as a string ("1", the PATCH prose) as a number; requires one on a read by id', () => {
    expect(readEntry({ ...ENTRY, version: '7' })?.version).toBe(7)
    expect(readEntry({ id: 'm1', metadata: {} })).toBeUndefined()
    expect(readEntry({ id: 'm1', version: 1, metadata: null })).toMatchObject({ metadata: {} })
  })
})

describe('media library calls', () => {
  it('lookup: GET …/mediaLibrary?systemName=&externalId= with the token, keeping only the entries of that pair', async () => {
    server.script(
      json(200, {
        results: [
          ENTRY,
          { ...ENTRY, id: 'm2', externalId: 'other' },
          { ...ENTRY, id: 'm3', systemName: 'x' },
        ],
      }),
    )
    const found = await client.lookup('archive', 'e 1/ä')
    expect(server.received[0]).toMatchObject({
      method: 'GET',
      url: '/prefix/api/v1/mediaLibrary?systemName=archive&externalId=e%201%2F%C3%A4',
    })
    expect(server.received[0]?.headers.authorization).toBe('Bearer tok')
    // none of them carries this externalId
    expect(found).toEqual([])
    server.script(json(200, { results: [ENTRY, { ...ENTRY, id: 'm2', externalId: 'other' }] }))
    expect((await client.lookup('archive', 'e1')).map((e) => e.id)).toEqual(['m1'])
  })

  it('lookup: a 404 is none; a 403 names the read scope', async () => {
    server.script(json(404, { status: 404, error: 'Not Found', error_details: { message: 'none' } }))
    expect(await client.lookup('archive', 'e1')).toEqual([])
    server.script(json(403, { status: 403, error: 'Forbidden', error_details: { access_token: 'higher' } }))
    const err = await rejection(client.lookup('archive', 'e1'))
    expect(err).toMatchObject({ answerClass: 'credentials', endpoint: 'lookup', status: 403 })
    expect(err.setting).toContain('public-api:read')
  })

  it('a check look-up refused 403 does not re-read the token file; a look-up that needs it does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fib-token-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'token')
    writeFileSync(file, 'old-token')
    const withFile = createImportClient(
      {
        baseUrl: server.base,
        apiVersion: 'v1',
        accessToken: 'old-token',
        accessTokenFile: file,
        requestTimeoutMs: 2000,
        maxRetries: 0,
      },
      { metrics },
    )
    onTestFinished(() => withFile.close())
    writeFileSync(file, 'new-token')
    server.script(json(403, { status: 403, error: 'Forbidden' }))
    await rejection(withFile.lookup('archive', 'e1', { check: true }))
    expect(server.received.map((r) => r.headers.authorization)).toEqual(['Bearer old-token'])
    // (the scripted server answers by the count of requests it has received: the second is a 403)
    const forbidden = json(403, { status: 403, error: 'Forbidden' })
    server.script(forbidden, forbidden, json(200, { results: [] }))
    expect(await withFile.lookup('archive', 'e1')).toEqual([])
    expect(server.received.map((r) => r.headers.authorization)).toEqual([
      'Bearer old-token',
      'Bearer old-token',
      'Bearer new-token',
    ])
  })

  it('readEntry: GET …/mediaLibrary/{id}; a 404 is entry-unknown', async () => {
    server.script(json(200, ENTRY))
    expect(await client.readEntry('m/1')).toMatchObject({ id: 'm1', version: 3 })
    expect(server.received[0]?.url).toBe('/prefix/api/v1/mediaLibrary/m%2F1')
    server.script(json(404, { status: 404, error: 'Not Found', error_details: { name: 'NotFound' } }))
    expect(await rejection(client.readEntry('m1'))).toMatchObject({ answerClass: 'entry-unknown' })
  })

  it('patchEntry: one PATCH with the version and every setMetadataProperty; 409 is a version conflict', async () => {
    server.script(json(200, { status: 200 }))
    const patches = [
      { operation: 'setMetadataProperty' as const, propertyName: 'title', value: 'B' },
      { operation: 'setMetadataProperty' as const, propertyName: 'caption', value: null },
    ]
    await client.patchEntry('m1', patches, 3)
    expect(server.received).toHaveLength(1)
    expect(server.received[0]).toMatchObject({ method: 'PATCH', url: '/prefix/api/v1/mediaLibrary/m1' })
    expect(JSON.parse(server.received[0]?.body ?? '')).toEqual({ version: 3, patches })
    server.script(
      json(409, {
        status: 409,
        error: 'Conflict',
        error_details: { name: 'Conflict', message: 'Version: Expected 36 to be equal to 1' },
      }),
    )
    const err = await rejection(client.patchEntry('m1', patches, 1))
    expect(err).toMatchObject({ answerClass: 'version-conflict', code: 'API_CONFLICT' })
    expect(err.message).toBe(
      'patch answered HTTP 409: Conflict; name: Conflict; message: Version: Expected 36 to be equal to 1',
    )
  })

  it('patchEntry: a 400 is the file’s data, with the API’s words; a 503 is retried', async () => {
    server.script(
      json(503, { status: 503, error: 'Service Unavailable' }),
      json(400, {
        status: 400,
        error: 'Bad Request',
        error_details: { 'patches.0.value': 'must be string' },
      }),
    )
    const err = await rejection(client.patchEntry('m1', [], 1))
    expect(server.received).toHaveLength(2)
    expect(err).toMatchObject({ answerClass: 'file-data' })
    expect(err.message).toBe('patch answered HTTP 400: Bad Request; patches.0.value: must be string')
  })

  it('counts each call under its own endpoint label, attempts and final answers', async () => {
    server.script(json(200, ENTRY))
    await client.readEntry('m1')
    server.script(json(200, { results: [] }))
    await client.lookup('archive', 'e1')
    server.script(json(200, {}))
    await client.patchEntry('m1', [], 3)
    const text = await metrics.registry.metrics()
    for (const endpoint of ['entry', 'lookup', 'patch']) {
      expect(metricValue(text, `bridge_api_attempts_total{endpoint="${endpoint}",status="200"}`)).toBe(1)
      expect(metricValue(text, `bridge_api_answers_total{endpoint="${endpoint}",class="accepted"}`)).toBe(1)
    }
  })
})

describe('deprecation notices (§11.5: "a deprecation warning header", name not given)', () => {
  it.each([
    ['Deprecation (RFC 9745, a structured Date)', { deprecation: '@1757894400' }, ['deprecation']],
    ['Deprecation: true (the drafts before RFC 9745)', { deprecation: 'true' }, ['deprecation']],
    ['Sunset (RFC 8594)', { sunset: 'Mon, 01 Mar 2027 00:00:00 GMT' }, ['sunset']],
    ['Warning 299 (RFC 7234 §5.5)', { warning: '299 - "LIDEP089-v1: v1 is deprecated"' }, ['warning']],
    ['a header named after it', { 'x-api-deprecation-warning': 'v1 will be removed' }, ['other']],
    [
      'several forms together',
      { deprecation: '@1757894400', sunset: 'Mon, 01 Mar 2027 00:00:00 GMT' },
      ['deprecation', 'sunset'],
    ],
  ])('reads %s', (_name, headers, forms) => {
    expect(readDeprecation(headers)?.forms).toEqual(forms)
  })

  it('reads the dates, and keeps a Link to the notice', () => {
    const notice = readDeprecation({
      deprecation: '@1757894400',
      sunset: 'Mon, 01 Mar 2027 00:00:00 GMT',
      link: '<https://docs.livingdocs.io/x>; rel="deprecation"; type="text/html"',
    })
    expect(notice?.deprecatedAt).toBe(1_757_894_400_000)
    expect(notice?.sunsetAt).toBe(Date.parse('2027-03-01T00:00:00Z'))
    expect(notice?.headers.link).toContain('rel="deprecation"')
  })

  it('is none for answers without one: no header, Deprecation: false, an unrelated Warning', () => {
    expect(readDeprecation({ 'content-type': 'application/json' })).toBeUndefined()
    expect(readDeprecation({ deprecation: '?0' })).toBeUndefined()
    expect(readDeprecation({ deprecation: 'false' })).toBeUndefined()
    expect(readDeprecation({ warning: '110 - "Response is Stale"' })).toBeUndefined()
  })

  it('the client counts every such answer and logs the first of the version once', async () => {
    server.script(json(200, { results: [] }, { deprecation: '@1757894400' }))
    for (let i = 0; i < 3; i++) await client.lookup('archive', 'e1')
    const text = await metrics.registry.metrics()
    expect(metricValue(text, 'bridge_api_deprecation_notices_total{version="v1"}')).toBe(3)
    const lines = logs.lines.filter((l) => /deprecated/.test(String(l.msg)))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 40, apiVersion: 'v1', forms: ['deprecation'] })
    expect(String(lines[0]?.msg)).toContain('LIVINGDOCS_API_VERSION')
  })
})
