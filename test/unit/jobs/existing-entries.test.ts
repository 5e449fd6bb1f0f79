// The step between a concluded job and its results: a timed-out job's files looked up, and under
// ON_EXISTING=metadata an existing entry's metadata updated with one PATCH per changed entry; against a
// scripted media library (the calls' HTTP is media-library.test.ts's).
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { ApiError } from '../../../src/errors.ts'
import type { LibraryEntry, SetMetadataProperty } from '../../../src/import/library-entry.ts'
import { ApiGate } from '../../../src/jobs/api-gate.ts'
import { MAX_UPDATE_ATTEMPTS, type MediaLibraryPort } from '../../../src/jobs/entry-checks.ts'
import { ExistingEntries, type ExistingEntriesOptions } from '../../../src/jobs/existing-entries.ts'
import { createLogger } from '../../../src/logging.ts'
import { createMetrics, type Metrics } from '../../../src/metrics.ts'
import { ALREADY_EXISTS, type ConcludedJob } from '../../../src/model/outcomes.ts'
import { testBatch } from '../../support/fake-import-client.ts'
import { LogLines } from '../../support/log-lines.ts'
import { registryMetric } from '../../support/metric-value.ts'
import { pendingFile } from '../../support/pending-file.ts'

/** The error the client raises for an answer of `answerClass`. */
const apiError = (
  answerClass: ApiError['answerClass'],
  status: number,
  message = `answered HTTP ${status}`,
) => new ApiError('API_BAD_REQUEST', message, { endpoint: 'entry', status, answerClass })

/** A media library in memory: entries by mediaId, each call recorded; `fail` scripts failures. */
function fakeLibrary(
  entries: Record<string, { version: number; metadata: Record<string, unknown>; pair?: [string, string] }>,
) {
  const calls: string[] = []
  const patches: Array<{ mediaId: string; version: number; patches: readonly SetMetadataProperty[] }> = []
  const fail: { read?: () => unknown; patch?: () => unknown; lookup?: () => unknown } = {}
  /** Reads of each entry after which an editor changes it (its version goes up). */
  const editorAfterRead: Record<string, number> = {}
  let inFlight = 0
  let mostInFlight = 0
  const track = async <T>(work: () => T): Promise<T> => {
    inFlight++
    mostInFlight = Math.max(mostInFlight, inFlight)
    try {
      await new Promise((r) => setImmediate(r))
      return work()
    } finally {
      inFlight--
    }
  }
  const port: MediaLibraryPort = {
    lookup: (systemName, externalId) =>
      track(() => {
        calls.push(`lookup ${externalId}`)
        const err = fail.lookup?.()
        if (err !== undefined) throw err
        return Object.entries(entries)
          .filter(([, e]) => e.pair?.[0] === systemName && e.pair?.[1] === externalId)
          .map(
            ([id, e]): LibraryEntry => ({
              id,
              version: e.version,
              metadata: e.metadata,
              systemName,
              externalId,
            }),
          )
      }),
    readEntry: (mediaId) =>
      track(() => {
        calls.push(`read ${mediaId}`)
        const err = fail.read?.()
        if (err !== undefined) throw err
        const e = entries[mediaId]
        if (e === undefined) throw apiError('entry-unknown', 404)
        const read = {
          id: mediaId,
          version: e.version,
          metadata: structuredClone(e.metadata),
          systemName: undefined,
          externalId: undefined,
        }
        if ((editorAfterRead[mediaId] ?? 0) > 0) {
          editorAfterRead[mediaId] = (editorAfterRead[mediaId] ?? 0) - 1
          e.metadata.description = 'an editor'
          e.version++
        }
        return read
      }),
    patchEntry: (mediaId, ops, version) =>
      track(() => {
        calls.push(`patch ${mediaId}`)
        const err = fail.patch?.()
        if (err !== undefined) throw err
        const e = entries[mediaId] as { version: number; metadata: Record<string, unknown> }
        if (e.version !== version)
          throw apiError('version-conflict', 409, `Version: Expected ${e.version} to be equal to ${version}`)
        patches.push({ mediaId, version, patches: ops })
        for (const op of ops) {
          if (op.value === null) delete e.metadata[op.propertyName]
          else e.metadata[op.propertyName] = op.value
        }
        e.version++
      }),
  }
  return { port, calls, patches, fail, editorAfterRead, mostInFlight: () => mostInFlight }
}

interface Setup {
  step: ExistingEntries
  ready: ConcludedJob[]
  metrics: Metrics
  gate: ApiGate
  logs: LogLines
}

function setup(library: MediaLibraryPort, options: Partial<ExistingEntriesOptions> = {}): Setup {
  const metrics = createMetrics()
  const logs = new LogLines()
  const logger = createLogger({ level: 'debug', destination: logs.writable() })
  const gate = new ApiGate({ metrics, logger })
  const ready: ConcludedJob[] = []
  const step = new ExistingEntries(
    {
      onExisting: 'metadata',
      checksumProperty: undefined,
      maxInFlight: 2,
      probeSystemName: 'archive',
      holdRecheckMs: 5,
      maxHoldMs: 1000,
      retryDelayMs: 1,
      ...options,
    },
    { library, gate, metrics, logger, onReady: (job) => ready.push(job) },
  )
  onTestFinished(() => step.close())
  return { step, ready, metrics, gate, logs }
}

/** A job whose files `a`, `b`, … Livingdocs skipped as existing entries `m-a`, `m-b`, …, with `metadata` each. */
function skippedJob(metadata: Record<string, Record<string, unknown>>): ConcludedJob {
  const ids = Object.keys(metadata)
  const batch = testBatch('b1', ids, 'linger', (id) =>
    pendingFile(id, { systemName: 'archive', metadata: metadata[id] }),
  )
  return {
    jobId: 'j1',
    batch,
    outcomes: batch.files.map((file) => ({
      file,
      outcome: {
        state: 'skipped' as const,
        reason: ALREADY_EXISTS,
        mediaId: `m-${file.event.externalId}`,
        externalId: file.event.externalId,
        systemName: 'archive',
      },
    })),
  }
}

/** A look-up refused for want of the read scope. */
const lookupForbidden = () =>
  new ApiError('API_FORBIDDEN', 'lookup answered HTTP 403: Forbidden', {
    endpoint: 'lookup',
    status: 403,
    answerClass: 'credentials',
  })

const states = (job: ConcludedJob | undefined) =>
  job?.outcomes.map((o) => [o.file.event.externalId, o.outcome.state, o.outcome.reason, o.outcome.mediaId])

describe('ON_EXISTING=metadata', () => {
  it('sends one PATCH per changed entry, none for unchanged ones, and says which in the reason', async () => {
    // Given two entries whose metadata the event changes and one it does not
    const lib = fakeLibrary({
      'm-a': { version: 3, metadata: { title: 'Old a', caption: 'Keep' } },
      'm-b': { version: 1, metadata: { title: 'B' } },
      'm-c': { version: 7, metadata: { title: 'Old c', source: 'x' } },
    })
    const s = setup(lib.port)
    // When the job concludes with the three SKIPPED `already exists`
    s.step.conclude(
      skippedJob({ a: { title: 'New a' }, b: { title: 'B' }, c: { title: 'New c', source: null } }),
    )
    await s.step.waitIdle(5000)

    // Then one PATCH each for a and c, with the version read, and none for b
    expect(lib.patches).toEqual([
      {
        mediaId: 'm-a',
        version: 3,
        patches: [{ operation: 'setMetadataProperty', propertyName: 'title', value: 'New a' }],
      },
      {
        mediaId: 'm-c',
        version: 7,
        patches: [
          { operation: 'setMetadataProperty', propertyName: 'title', value: 'New c' },
          { operation: 'setMetadataProperty', propertyName: 'source', value: null },
        ],
      },
    ])
    expect(states(s.ready[0])).toEqual([
      ['a', 'skipped', 'metadata updated', 'm-a'],
      ['b', 'skipped', 'metadata unchanged', 'm-b'],
      ['c', 'skipped', 'metadata updated', 'm-c'],
    ])
    expect(await registryMetric(s.metrics.registry, 'bridge_existing_entries_total{outcome="updated"}')).toBe(
      2,
    )
    expect(
      await registryMetric(s.metrics.registry, 'bridge_existing_entries_total{outcome="unchanged"}'),
    ).toBe(1)
  })

  it('a 409 reads again and patches with the new version; an editor who keeps changing it wins: FAILED conflict', async () => {
    const lib = fakeLibrary({
      'm-a': { version: 1, metadata: { title: 'Old' } },
      'm-b': { version: 1, metadata: { title: 'Old' } },
    })
    // An editor changes m-a once, after the first read, and m-b after every read
    lib.editorAfterRead['m-a'] = 1
    lib.editorAfterRead['m-b'] = Number.POSITIVE_INFINITY
    const s = setup(lib.port)
    s.step.conclude(skippedJob({ a: { title: 'New' }, b: { title: 'New' } }))
    await s.step.waitIdle(5000)
    expect(states(s.ready[0])).toEqual([
      ['a', 'skipped', 'metadata updated', 'm-a'],
      [
        'b',
        'failed',
        `conflict: the entry changed in Livingdocs at each of ${MAX_UPDATE_ATTEMPTS} tries; not overwritten (Version: Expected 5 to be equal to 4)`,
        undefined,
      ],
    ])
    // m-a: the editor's description stays, the title is the event's
    expect(lib.patches.filter((p) => p.mediaId === 'm-a')).toEqual([
      {
        mediaId: 'm-a',
        version: 2,
        patches: [{ operation: 'setMetadataProperty', propertyName: 'title', value: 'New' }],
      },
    ])
    expect(lib.calls.filter((c) => c === 'read m-b')).toHaveLength(MAX_UPDATE_ATTEMPTS)
    expect(lib.calls.filter((c) => c === 'patch m-b')).toHaveLength(MAX_UPDATE_ATTEMPTS)
    expect(
      await registryMetric(s.metrics.registry, 'bridge_existing_entries_total{outcome="conflict"}'),
    ).toBe(1)
  })

  it('a 400 on the PATCH is FAILED with the API’s words; a gone entry is a conflict', async () => {
    const lib = fakeLibrary({ 'm-a': { version: 1, metadata: {} } })
    lib.fail.patch = () =>
      apiError('file-data', 400, 'patch answered HTTP 400: Bad Request; metadata.year: must be integer')
    const s = setup(lib.port)
    s.step.conclude(skippedJob({ a: { year: 'soon' }, gone: { title: 'x' } }))
    await s.step.waitIdle(5000)
    expect(states(s.ready[0])).toEqual([
      [
        'a',
        'failed',
        'metadata update rejected by the API: patch answered HTTP 400: Bad Request; metadata.year: must be integer',
        undefined,
      ],
      [
        'gone',
        'failed',
        expect.stringMatching(/^conflict: media library entry m-gone no longer exists/),
        undefined,
      ],
    ])
  })

  it('a refused read (the token lacks public-api:read) holds: not ready naming the scope, nothing FAILED; then it goes on', async () => {
    const lib = fakeLibrary({ 'm-a': { version: 1, metadata: { title: 'Old' } } })
    const refused = new ApiError('API_FORBIDDEN', 'entry answered HTTP 403: Forbidden', {
      endpoint: 'entry',
      status: 403,
      answerClass: 'credentials',
      setting:
        'LIVINGDOCS_ACCESS_TOKEN or LIVINGDOCS_ACCESS_TOKEN_FILE: the token needs the scope public-api:read too',
    })
    // Reads are refused until the token is fixed (`refusing` false)
    let refusing = true
    let refusedReads = 0
    lib.fail.read = () => {
      if (!refusing) return undefined
      refusedReads++
      return refused
    }
    const s = setup(lib.port)
    s.step.conclude(skippedJob({ a: { title: 'New' } }))
    // While refused: the gate names the scope, and after several refused reads nothing is published
    await vi.waitFor(() => {
      expect(s.gate.problem).toContain('public-api:read')
      expect(refusedReads).toBeGreaterThanOrEqual(3)
    })
    expect(s.ready).toHaveLength(0)
    // When the token may read again, the held file goes on
    refusing = false
    await s.step.waitIdle(5000)
    expect(states(s.ready[0])).toEqual([['a', 'skipped', 'metadata updated', 'm-a']])
    expect(s.gate.problem).toBeNull()
    expect(lib.calls.filter((c) => c === 'read m-a')).toHaveLength(refusedReads + 1)
  })

  it('the checksum: the same one is a no-op; another one says the bytes were not replaced', async () => {
    const lib = fakeLibrary({
      'm-a': { version: 1, metadata: { title: 'A', sum: 's1' } },
      'm-b': { version: 1, metadata: { title: 'B', sum: 's1' } },
    })
    const s = setup(lib.port, { checksumProperty: 'sum' })
    s.step.conclude(skippedJob({ a: { title: 'A', sum: 's1' }, b: { title: 'B', sum: 's2' } }))
    await s.step.waitIdle(5000)
    expect(lib.patches).toEqual([])
    expect(states(s.ready[0])).toEqual([
      ['a', 'skipped', 'metadata unchanged', 'm-a'],
      ['b', 'skipped', 'metadata unchanged; content changed, bytes not replaced', 'm-b'],
    ])
    expect(await registryMetric(s.metrics.registry, 'bridge_existing_entries_content_changed_total')).toBe(1)
  })

  it('keeps at most maxInFlight requests at once', async () => {
    const entries = Object.fromEntries(
      [...'abcdefgh'].map((id) => [`m-${id}`, { version: 1, metadata: { title: 'Old' } }]),
    )
    const lib = fakeLibrary(entries)
    const s = setup(lib.port, { maxInFlight: 3 })
    s.step.conclude(skippedJob(Object.fromEntries([...'abcdefgh'].map((id) => [id, { title: 'New' }]))))
    await s.step.waitIdle(5000)
    expect(lib.patches).toHaveLength(8)
    expect(lib.mostInFlight()).toBe(3)
  })

  it('takes a new limit at once (a rebalance changed the share): the waiting ones start under it', async () => {
    const entries = Object.fromEntries(
      [...'abcdefgh'].map((id) => [`m-${id}`, { version: 1, metadata: { title: 'Old' } }]),
    )
    const lib = fakeLibrary(entries)
    const s = setup(lib.port, { maxInFlight: 4 })
    s.step.setMaxInFlight(1)
    s.step.conclude(skippedJob(Object.fromEntries([...'abcdefgh'].map((id) => [id, { title: 'New' }]))))
    await s.step.waitIdle(5000)
    expect(lib.patches).toHaveLength(8)
    expect(lib.mostInFlight()).toBe(1)
  })
})

describe('a timed-out job', () => {
  const timedOut = (ids: string[]): ConcludedJob => {
    const batch = testBatch('b1', ids)
    return {
      jobId: 'j1',
      batch,
      outcomes: batch.files.map((file) => ({
        file,
        outcome: { state: 'failed' as const, reason: 'timeout' },
      })),
    }
  }

  it('a file found in the media library is SUCCESS with its mediaId; one not there keeps FAILED timeout', async () => {
    const lib = fakeLibrary({ 'm-a': { version: 1, metadata: {}, pair: ['archive', 'a'] } })
    const s = setup(lib.port, { onExisting: 'skip' })
    s.step.conclude(timedOut(['a', 'b']))
    await s.step.waitIdle(5000)
    expect(states(s.ready[0])).toEqual([
      ['a', 'imported', undefined, 'm-a'],
      ['b', 'failed', 'timeout', undefined],
    ])
    expect(await registryMetric(s.metrics.registry, 'bridge_timeout_lookups_total{outcome="found"}')).toBe(1)
    expect(
      await registryMetric(s.metrics.registry, 'bridge_timeout_lookups_total{outcome="not-found"}'),
    ).toBe(1)
  })

  it('without the read scope (ON_EXISTING=skip): FAILED timeout as before, one warning, nothing held', async () => {
    const lib = fakeLibrary({ 'm-a': { version: 1, metadata: {}, pair: ['archive', 'a'] } })
    lib.fail.lookup = lookupForbidden
    const s = setup(lib.port, { onExisting: 'skip' })
    s.step.conclude(timedOut(['a', 'b']))
    await s.step.waitIdle(5000)
    expect(states(s.ready[0])).toEqual([
      ['a', 'failed', 'timeout', undefined],
      ['b', 'failed', 'timeout', undefined],
    ])
    expect(s.gate.problem).toBeNull()
    expect(
      s.logs.lines.filter((l) => /look-up of a timed-out job's file refused/.test(String(l.msg))),
    ).toHaveLength(1)
    expect(await registryMetric(s.metrics.registry, 'bridge_timeout_lookups_total{outcome="refused"}')).toBe(
      2,
    )
  })

  it('a job without such files passes at once, untouched', () => {
    const lib = fakeLibrary({})
    const s = setup(lib.port, { onExisting: 'skip' })
    const job = skippedJob({ a: {} })
    s.step.conclude(job)
    expect(s.ready).toEqual([job])
    expect(lib.calls).toEqual([])
  })
})

describe('start-up and close', () => {
  it('says at start-up whether the token may read the media library (one look-up)', async () => {
    const lib = fakeLibrary({})
    lib.fail.lookup = lookupForbidden
    const s = setup(lib.port, { onExisting: 'skip' })
    s.step.start()
    const line = await vi.waitFor(() => {
      const found = s.logs.lines.find((l) => /may not read the media library/.test(String(l.msg)))
      if (found === undefined) throw new Error('no line yet')
      return found
    })
    expect(lib.calls).toEqual(['lookup file-import-bridge-read-scope-check'])
    expect(line).toMatchObject({ level: 40 })
    expect(String(line?.msg)).toContain('public-api:read')
  })

  it('close() leaves a job being checked unpublished', async () => {
    const lib = fakeLibrary({ 'm-a': { version: 1, metadata: {} } })
    lib.fail.read = () => apiError('retry', 503)
    const s = setup(lib.port)
    s.step.conclude(skippedJob({ a: { title: 'x' } }))
    expect(s.step.pending).toBe(1)
    s.step.close()
    expect(await s.step.waitIdle(1000)).toBe(true)
    expect(s.ready).toHaveLength(0)
  })
})
