// Memory bounded by bytes (issue 26): a backlog of large legacy events drains within the Helm chart's
// memory limit, the bridge run as deployed (the image's node flags, the chart's NODE_OPTIONS).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { projectImageNodeFlags, projectImageNodeOptions } from '../../scripts/bench/image.ts'
import { peakRssBytes } from '../../scripts/bench/proc.ts'
import { defaultMaxBytesInFlight } from '../../src/config.ts'
import { bulkExport } from '../support/bulk-export.ts'
import { metricValue, produceRecords, startBridgeProcessIn, useE2eWorld } from '../support/e2e-world.ts'
import { createFaultRun, sourceOf, waitCommittedAtLogEnd } from '../support/fault-run.ts'

/** The chart's memory limit (values.yaml `resources.limits.memory`, Mi), bytes. */
function chartMemoryLimitBytes(): number {
  const values = parse(
    readFileSync(new URL('../../helm/file-import-bridge/values.yaml', import.meta.url), 'utf8'),
  )
  const limit = String(values.resources.limits.memory)
  const mi = /^(\d+)Mi$/.exec(limit)?.[1]
  if (mi === undefined) throw new Error(`values.yaml: resources.limits.memory ${limit} is not in Mi`)
  return Number(mi) * 1024 * 1024
}

const MB = 1024 * 1024

describe('a backlog of 50 kB events under the chart memory limit', () => {
  const { world, emulator } = useE2eWorld(
    { images: 0, pdfs: 0 },
    { emulator: { token: 'memory-token', jobDurationMs: 200, skipDownloads: true } },
  )

  it('drains 4,000 events of 50 kB metadata, commits, and stays below the memory limit', async () => {
    // Given 4,000 events of 50 kB each (about 200 MB: at MAX_FILES_IN_FLIGHT's 10,000 all of it would be
    // held) on a topic, and a Livingdocs whose jobs take 200 ms
    const run = await createFaultRun(world, 'memory', emulator)
    const records = bulkExport('mem', 4000, 50_000)
    await produceRecords(world, run.topics.input, records, 'json')
    // When the bridge runs with the image's node flags and the chart's NODE_OPTIONS at its limit
    const limitBytes = chartMemoryLimitBytes()
    const nodeOptions = projectImageNodeOptions()
    const bridge = await startBridgeProcessIn(
      world,
      { ...run.env, NODE_OPTIONS: nodeOptions, BATCH_MAX_FILES: '100', MAX_JOBS_IN_FLIGHT: '10' },
      { nodeArgs: projectImageNodeFlags() },
    )
    const pid = bridge.child.pid as number
    let heldPeak = 0
    let pausedSeen = false
    const sampler = setInterval(() => {
      void fetch(bridge.metricsUrl)
        .then((r) => r.text())
        .then((text) => {
          heldPeak = Math.max(heldPeak, metricValue(text, 'bridge_bytes_in_flight'))
          pausedSeen ||= metricValue(text, 'bridge_fetch_paused') === 1
        })
        .catch(() => undefined)
    }, 250)
    world.defer(async () => clearInterval(sampler))

    // Then every event gets its result and the group commits up to the log end
    await run.results.waitFor(
      (r) => new Set(r.map(sourceOf)).size >= records.length,
      240_000,
      'a result per event',
    )
    await waitCommittedAtLogEnd(world, run, 60_000)
    clearInterval(sampler)
    const peakRss = peakRssBytes(pid)

    // And the start-up log named the heap limit and the bytes budget derived from it
    const memory = bridge.logs.withMsg(
      'memory: heap limit and the bytes in flight at which fetching pauses',
    )[0] as { heapLimitBytes: number; maxBytesInFlight: number; from: string } | undefined
    expect(memory?.from).toBe('heap limit / 4')
    expect(memory?.maxBytesInFlight).toBe(defaultMaxBytesInFlight(memory?.heapLimitBytes ?? 0))
    // And fetching paused on bytes, not on files: the bytes held never passed the budget by more than one
    // fetch's worth of records taken before the pause (a record is never refused)
    expect(pausedSeen).toBe(true)
    expect(
      bridge.logs.withMsg('backpressure: bytes in flight at the limit; pausing fetch').length,
    ).toBeGreaterThan(0)
    expect(heldPeak).toBeLessThanOrEqual((memory?.maxBytesInFlight ?? 0) + 2 * 51_000)
    // And the peak RSS stayed below the chart's limit with a margin of at least 25%
    const margin = 1 - peakRss / limitBytes
    console.info(
      `memory-budget: events=${records.length} x 50 kB, NODE_OPTIONS="${nodeOptions}", heap limit=${Math.round((memory?.heapLimitBytes ?? 0) / MB)} MiB, ` +
        `MAX_BYTES_IN_FLIGHT=${Math.round((memory?.maxBytesInFlight ?? 0) / MB)} MiB, bytes held peak=${Math.round(
          heldPeak / MB,
        )} MiB, peak RSS=${Math.round(peakRss / MB)} MiB of ${Math.round(limitBytes / MB)} MiB (margin ${(
          margin * 100
        ).toFixed(0)}%)`,
    )
    expect(margin).toBeGreaterThanOrEqual(0.25)
  })
})
