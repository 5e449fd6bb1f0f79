// Against a Livingdocs that behaves as the docs say (issue 13): images and videos through their own
// imports, entries too large for any request, re-imports, webhooks of any body, upload restrictions.
import { describe, expect, it } from 'vitest'
import {
  createScenario,
  fetchCommitted,
  metricValue,
  produceRecords,
  sampleExport,
  startEmulator,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import type { ExportRecord } from '../support/sample-export.ts'

describe('against a Livingdocs that behaves as documented', () => {
  const { world } = useE2eWorld({ images: 6, pdfs: 4, videos: 3 })

  it('sends images, videos and other files to their own imports and publishes each result with its kind', async () => {
    // Given a Livingdocs with the default project config (file, image and video media types)
    const emulator = await startEmulator(world, { token: 'kinds-token' })
    const { topics, results, start } = await createScenario(world, 'kinds', emulator)
    const bridge = await start()
    const { records } = sampleExport(world, 'kinds', { broken: 0, repeats: 0 })

    // When an export of PNGs, PDFs and MP4s (all with the default handle `file`) is produced
    await produceRecords(world, topics.input, records)
    await results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')

    // Then every file is imported, through the import of its kind, and its result says which
    const byId = new Map(results.records.map((r) => [r.value.externalId, r.value]))
    const expectedKind = (name: string) =>
      name.endsWith('.png') ? 'IMAGE' : name.endsWith('.mp4') ? 'VIDEO' : 'FILE'
    for (const file of world.files) {
      const result = byId.get(`kinds-${file.name}`)
      expect(result?.state, file.name).toBe('SUCCESS')
      expect(result?.kind, file.name).toBe(expectedKind(file.name))
      const media = emulator.getMedia('legacy-archive', `kinds-${file.name}`)
      expect(media?.id).toBe(result?.mediaId)
      expect(media?.kind).toBe(expectedKind(file.name).toLowerCase())
      expect(media?.mimeType).toBe(file.contentType)
    }
    // And each import got only its own kind (images sent with the handle `image`, videos with none)
    const jobs = emulator.listJobs()
    for (const job of jobs) {
      const kinds = new Set(job.files.map((f) => expectedKind(f.url)))
      expect([...kinds]).toEqual([job.kind.toUpperCase()])
      if (job.kind === 'image') expect(job.files.every((f) => f.mediaType === 'image')).toBe(true)
    }
    const stats = emulator.stats()
    expect(stats.requestTotals['POST /import/images']).toBeGreaterThan(0)
    expect(stats.requestTotals['POST /import/videos']).toBeGreaterThan(0)
    expect(stats.requestTotals['POST /import/files']).toBeGreaterThan(0)
    const metrics = await (await fetch(bridge.metricsUrl)).text()
    expect(metricValue(metrics, 'bridge_files_total{kind="image",state="SUCCESS"}')).toBe(6)
    expect(metricValue(metrics, 'bridge_files_total{kind="video",state="SUCCESS"}')).toBe(3)
    expect(metricValue(metrics, 'bridge_files_total{kind="file",state="SUCCESS"}')).toBe(4)
  })

  it('gives a file entry too large for any request a FAILED result naming BATCH_MAX_BYTES, sending nothing for it', async () => {
    // Given a bridge whose requests carry at most 3,072 bytes of entries
    const emulator = await startEmulator(world, { token: 'size-token' })
    const { topics, results, start } = await createScenario(world, 'size', emulator)
    await start({ BATCH_MAX_BYTES: '4096' })
    const [pdf] = sampleExport(world, 'size', { broken: 0, repeats: 0 }).records.filter((r) =>
      r.url.endsWith('.pdf'),
    )
    const normal = pdf as ExportRecord
    const huge: ExportRecord = {
      ...normal,
      externalId: 'size-huge',
      metadata: { title: 'huge', description: 'x'.repeat(5000) },
    }

    // When the huge event and a normal one are produced
    await produceRecords(world, topics.input, [huge, normal])
    await results.waitFor((r) => r.length >= 2, 60_000, 'both results')

    // Then the huge one is FAILED with the limit named and no job, the other imported
    const byId = new Map(results.records.map((r) => [r.value.externalId, r.value]))
    expect(byId.get('size-huge')).toMatchObject({ state: 'FAILED', importJobId: null, mediaId: null })
    expect(byId.get('size-huge')?.reason).toMatch(/\d+ bytes.*at most 3072 bytes.*BATCH_MAX_BYTES=4096/)
    expect(byId.get(normal.externalId)?.state).toBe('SUCCESS')
    // And Livingdocs never saw the huge entry; both offsets are committed
    expect(emulator.listJobs().flatMap((j) => j.files.map((f) => f.id))).not.toContain('size-huge')
    await waitUntil(
      async () =>
        [...(await fetchCommitted(world.kafka, topics.group, topics.input)).values()].reduce(
          (a, b) => a + b,
          0,
        ) === 2,
      30_000,
      'both offsets committed',
    )
  })

  it('reports a re-import with new bytes as SKIPPED with the existing mediaId, and counts it', async () => {
    // Given an imported PDF
    const emulator = await startEmulator(world, { token: 'reimport-token' })
    const { topics, results, start } = await createScenario(world, 'reimport', emulator)
    const bridge = await start()
    const pdfs = sampleExport(world, 'reimport', { broken: 0, repeats: 0 }).records.filter((r) =>
      r.url.endsWith('.pdf'),
    )
    const first = pdfs[0] as ExportRecord
    await produceRecords(world, topics.input, [first])
    await results.waitFor((r) => r.length >= 1, 60_000, 'the first result')

    // When the same systemName/externalId comes again with another file's bytes and new metadata
    const changed = { ...first, url: (pdfs[1] as ExportRecord).url, metadata: { title: 'A new title' } }
    await produceRecords(world, topics.input, [changed])
    await results.waitFor((r) => r.length >= 2, 60_000, 'the second result')

    // Then it is SKIPPED, reason already exists, with the first mediaId; Livingdocs kept the old bytes
    const [one, two] = results.records.map((r) => r.value)
    expect(one?.state).toBe('SUCCESS')
    expect(two).toMatchObject({ state: 'SKIPPED', reason: 'already exists', mediaId: one?.mediaId })
    expect(emulator.getMedia('legacy-archive', first.externalId)?.url).toBe(first.url)
    const metrics = await (await fetch(bridge.metricsUrl)).text()
    expect(metricValue(metrics, 'bridge_reimports_skipped_total{kind="file"}')).toBe(1)
  })

  it.each([
    ['without context', { webhookContext: 'omit' as const }],
    ['as text/plain', { webhookContentType: 'text/plain' }],
    ['without a content type', { webhookContentType: null }],
  ])('finishes jobs through webhooks sent %s (the URL authenticates them)', async (_name, variants) => {
    // Given a Livingdocs whose webhooks differ from the documented body, and a bridge that polls only
    // every minute
    const emulator = await startEmulator(world, { token: 'webhook-token', variants })
    const { topics, results, start } = await createScenario(world, 'webhook-body', emulator)
    const bridge = await start({ STATUS_POLL_INTERVAL_MS: '60000' })
    const records = sampleExport(world, 'webhook-body', { broken: 0, repeats: 0 }).records.slice(0, 5)

    // When records are produced
    await produceRecords(world, topics.input, records)

    // Then their results come through the webhooks, long before any poll
    await results.waitFor((r) => r.length >= records.length, 20_000, 'results through webhooks')
    const metrics = await (await fetch(bridge.metricsUrl)).text()
    expect(metricValue(metrics, 'bridge_webhooks_received_total{outcome="accepted"}')).toBeGreaterThan(0)
    expect(metricValue(metrics, 'bridge_webhooks_received_total{outcome="unauthorized"}')).toBe(0)
    expect(emulator.stats().webhookDeliveries.every((d) => d.url.includes('?sig='))).toBe(true)
  })

  it("passes the server's reason for a file its upload restrictions refuse through unchanged", async () => {
    // Given a server that allows only PDFs through the file import, and a bridge that sends everything
    // to the file import
    const emulator = await startEmulator(world, {
      token: 'restrict-token',
      allowedMimeTypes: ['application/pdf'],
    })
    const { topics, results, start } = await createScenario(world, 'restrict', emulator)
    await start({ MEDIA_KIND_DETECTION: 'false' })
    const records = sampleExport(world, 'restrict', { broken: 0, repeats: 0 }).records
    const mp4 = records.find((r) => r.url.endsWith('.mp4')) as ExportRecord
    const pdf = records.find((r) => r.url.endsWith('.pdf')) as ExportRecord

    // When an MP4 and a PDF are produced
    await produceRecords(world, topics.input, [mp4, pdf])
    await results.waitFor((r) => r.length >= 2, 60_000, 'both results')

    // Then the MP4 is FAILED with exactly the reason the server gave, the PDF imported
    const byId = new Map(results.records.map((r) => [r.value.externalId, r.value]))
    const serverReason = emulator
      .listJobs()
      .flatMap((j) => j.results ?? [])
      .find((r) => r.externalId === mp4.externalId)?.reason
    expect(serverReason).toMatch(/^Could not upload file: .*video\/mp4/)
    expect(byId.get(mp4.externalId)).toMatchObject({ state: 'FAILED', reason: serverReason, kind: 'FILE' })
    expect(byId.get(pdf.externalId)?.state).toBe('SUCCESS')
  })
})
