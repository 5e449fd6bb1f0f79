// ON_EXISTING=metadata end to end on the real broker, registry and the emulator (issue 24, item 2): a
// legacy export imported with a wrong metadata mapping, then replayed with the corrected mapping, updates
// the entries Livingdocs already holds (one PATCH per changed entry, none for unchanged ones, the bytes
// never replaced), and an editor who changes an entry while the bridge updates it wins: FAILED conflict.
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { FileImportResult } from '../../src/outcome/outcome-event.ts'
import { startTestBridge, type TestBridge } from '../support/bridge-harness.ts'
import { bridgeEnv, createTopics, scrapeMetric, type Topics, useE2eWorld } from '../support/e2e-world.ts'
import { reportFaultRun } from '../support/fault-run.ts'
import { READ_WRITE_SCOPES } from '../support/livingdocs-emulator/index.ts'
import { tempFile } from '../support/mapping-example.ts'
import { testProducer } from '../support/test-producer.ts'

/** The wrong mapping: the legacy `desc` is not mapped. The checksum goes to `sourceChecksum`. */
const WRONG = `externalId: id
url: link
fileName: name
metadata: '{"title": name, "caption": caption}'
checksum: sum
`
/** The corrected mapping: `desc` becomes the entry's description (absent where the event has none). */
const FIXED = `externalId: id
url: link
fileName: name
metadata: '{"title": name, "caption": caption, "description": desc}'
checksum: sum
`

describe('ON_EXISTING=metadata: a corrected mapping updates what was imported', () => {
  const { world, emulator } = useE2eWorld(
    { images: 0, pdfs: 6 },
    { emulator: { token: 'rw-token', tokens: { 'rw-token': READ_WRITE_SCOPES } } },
  )
  const run = randomUUID().slice(0, 6)

  /** Legacy JSON events of files `0`…`n-1`: the first `withDesc` carry `desc`; checksums `sum-<i>`. */
  const legacy = (n: number, opts: { withDesc: number; desc?: string; sums?: Record<number, string> }) =>
    Array.from({ length: n }, (_, i) => ({
      id: `upd-${run}-${i}`,
      link: `${world.fileServer.url}/${world.files[i % world.files.length]?.name}`,
      name: `File ${i}`,
      caption: `Caption ${i}`,
      ...(i < opts.withDesc ? { desc: `${opts.desc ?? 'Description'} ${i}` } : {}),
      sum: opts.sums?.[i] ?? `sum-${i}`,
    }))

  async function produce(topics: Topics, events: object[]): Promise<void> {
    const producer = testProducer(world.kafka)
    await producer.connect()
    try {
      await producer.send({
        topic: topics.input,
        messages: events.map((e) => ({ partition: 0, key: null, value: JSON.stringify(e) })),
      })
    } finally {
      await producer.disconnect()
    }
  }

  async function bridgeWith(
    topics: Topics,
    mapping: string,
    env: Record<string, string> = {},
  ): Promise<TestBridge> {
    const bridge = await startTestBridge(
      bridgeEnv(world, emulator, topics, {
        MAPPING_FILE: tempFile('mapping.yaml', mapping),
        CHECKSUM_METADATA_PROPERTY: 'sourceChecksum',
        DEFAULT_SYSTEM_NAME: 'legacy',
        ...env,
      }),
    )
    world.defer(() => bridge.stop())
    return bridge
  }

  it('updates the changed entries with one PATCH each and none for the unchanged; an editor’s concurrent change gives conflict', async () => {
    const { topics, results } = await createTopics(world, 'existing', 1)
    const values = () => results.records.map((r) => r.value)

    // Given six files imported with the wrong mapping (no description)
    await produce(topics, legacy(6, { withDesc: 4 }))
    const first = await bridgeWith(topics, WRONG)
    await results.waitFor((r) => r.length >= 6, 60_000, 'six results of the first import')
    expect(values().map((v) => v.state)).toEqual(Array(6).fill('SUCCESS'))
    const mediaIds = new Map(values().map((v) => [v.externalId, v.mediaId]))
    await first.stop()

    // When the export is replayed with the corrected mapping and ON_EXISTING=metadata; file 5's bytes
    // changed in the legacy system since (another checksum)
    await produce(topics, legacy(6, { withDesc: 4, sums: { 5: 'sum-5-changed' } }))
    const fixed = await bridgeWith(topics, FIXED, { ON_EXISTING: 'metadata' })
    await results.waitFor((r) => r.length >= 12, 60_000, 'six results of the replay')

    // Then the four files with a description are updated (one PATCH each), the two without are not
    const replay = values().slice(6)
    const reasons = Object.fromEntries(
      replay.map((v) => [v.externalId.replace(`upd-${run}-`, ''), [v.state, v.reason]]),
    )
    expect(reasons).toEqual({
      0: ['SKIPPED', 'metadata updated'],
      1: ['SKIPPED', 'metadata updated'],
      2: ['SKIPPED', 'metadata updated'],
      3: ['SKIPPED', 'metadata updated'],
      4: ['SKIPPED', 'metadata unchanged'],
      5: ['SKIPPED', 'metadata unchanged; content changed, bytes not replaced'],
    })
    for (const v of replay) expect(v.mediaId).toBe(mediaIds.get(v.externalId))
    const patches = emulator.stats().mediaPatches
    expect(patches.map((p) => [p.mediaId, p.status]).sort()).toEqual(
      [0, 1, 2, 3].map((i) => [mediaIds.get(`upd-${run}-${i}`), 200]).sort(),
    )
    for (const p of patches)
      expect(p.patches).toEqual([
        {
          operation: 'setMetadataProperty',
          propertyName: 'description',
          value: expect.stringMatching(/^Description \d$/),
        },
      ])
    const stored = emulator.listMedia().filter((m) => m.externalId.startsWith(`upd-${run}-`))
    expect(stored.map((m) => [m.externalId.slice(-1), m.metadata.description, m.version]).sort()).toEqual([
      ['0', 'Description 0', 2],
      ['1', 'Description 1', 2],
      ['2', 'Description 2', 2],
      ['3', 'Description 3', 2],
      ['4', undefined, 1],
      ['5', undefined, 1],
    ])
    // the checksum stays the one of the bytes Livingdocs holds: never patched
    expect(stored.find((m) => m.externalId.endsWith('-5'))?.metadata.sourceChecksum).toBe('sum-5')
    expect(await scrapeMetric(fixed, 'bridge_existing_entries_total{outcome="updated"}')).toBe(4)
    expect(await scrapeMetric(fixed, 'bridge_existing_entries_total{outcome="unchanged"}')).toBe(2)
    expect(await scrapeMetric(fixed, 'bridge_existing_entries_content_changed_total')).toBe(1)
    const update = await reportFaultRun(world, 'on-existing-metadata', { topics, results }, 12, {
      patches: patches.length,
    })
    expect(update).toMatchObject({
      results: 12,
      duplicates: 0,
      dlq: 0,
      failedForUs: 0,
      SUCCESS: 6,
      SKIPPED: 6,
    })

    // When an editor changes two entries each time the bridge has read them, and their descriptions change
    const patchesBefore = patches.length
    emulator.setFaults({ editorChanges: {} })
    await produce(topics, legacy(2, { withDesc: 2, desc: 'Revised' }))
    await results.waitFor((r) => r.length >= 14, 60_000, 'two results under an editor')
    emulator.setFaults({ editorChanges: null })

    // Then both are FAILED conflict: every PATCH answered 409, the editor's description kept
    const conflicts = values().slice(12) as FileImportResult[]
    expect(conflicts.map((v) => [v.state, v.reason?.replace(/ \(.*$/, '')])).toEqual([
      ['FAILED', 'conflict: the entry changed in Livingdocs at each of 4 tries; not overwritten'],
      ['FAILED', 'conflict: the entry changed in Livingdocs at each of 4 tries; not overwritten'],
    ])
    const tried = emulator.stats().mediaPatches.slice(patchesBefore)
    expect(tried.map((p) => p.status)).toEqual(Array(8).fill(409))
    expect(emulator.getMedia('legacy', `upd-${run}-0`)?.metadata.description).toBe('changed by an editor')
    expect(await scrapeMetric(fixed, 'bridge_existing_entries_total{outcome="conflict"}')).toBe(2)
    const conflict = await reportFaultRun(world, 'on-existing-conflict', { topics, results }, 14, {
      conflictPatches: tried.length,
    })
    expect(conflict).toMatchObject({ results: 14, FAILED: 2, failedForUs: 2 })
  })
})
