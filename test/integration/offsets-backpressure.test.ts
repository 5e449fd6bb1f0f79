// Offsets under out-of-order job completion, the duplicate-externalId rule, and backpressure, on a real
// broker and registry with the Livingdocs emulator.
import { describe, expect, it } from 'vitest'
import type { FileImportResult } from '../../src/outcome/outcome-event.ts'
import {
  metricValue,
  produceRecords,
  sampleExport,
  startBridgeIn,
  startEmulator,
  useE2eWorld,
} from '../support/e2e-world.ts'
import {
  createFaultRun,
  logFaultFigures,
  sampleCommitted,
  sourceOf,
  waitCommittedAtLogEnd,
} from '../support/fault-run.ts'
import type { ReadRecord } from '../support/result-reader.ts'
import type { ExportRecord } from '../support/sample-export.ts'

describe('offsets, duplicate externalIds and backpressure', () => {
  const { world } = useE2eWorld({ images: 12, pdfs: 8 })

  it('commits per partition only below settled records while jobs finish out of order; ends at the log end', async () => {
    // Given jobs that take 200..1700 ms each (so they finish out of submission order), small batches,
    // and an export where 6 ids appear twice in a row (same partition, same fetch, same batch window)
    const emulator = await startEmulator(world, {
      token: 'offsets-token',
      jobDurationMs: 200,
      jobDurationJitterMs: 1500,
    })
    const run = await createFaultRun(world, 'offsets', emulator)
    const { records: base } = sampleExport(world, 'ooo', { broken: 4, repeats: 0 })
    const records: ExportRecord[] = []
    base.forEach((r, i) => {
      records.push(r)
      if (i < 6) records.push({ ...r, occurredAt: new Date(Date.parse(r.occurredAt) + 1).toISOString() })
    })
    await startBridgeIn(world, {
      ...run.env,
      BATCH_MAX_FILES: '4',
      BATCH_LINGER_MS: '100',
      MAX_JOBS_IN_FLIGHT: '6',
      COMMIT_INTERVAL_MS: '100',
    })

    // And a sampler of the group's committed offsets, read with the admin client
    const sampler = await sampleCommitted(world, run.topics.group, run.topics.input)
    const snapshots = sampler.samples

    // When the export is produced and every record has its result
    await produceRecords(world, run.topics.input, records)
    await run.results.waitFor(
      (r) => new Set(r.map(sourceOf)).size >= records.length,
      120_000,
      'a result for every record',
    )
    const logEnd = await waitCommittedAtLogEnd(world, run, 30_000, sampler.latest)
    await sampler.stop()
    logFaultFigures('out-of-order-offsets', records.length, run)

    // Then no committed offset ever passed a record without a result event published before that commit
    // was read (the result's producer timestamp precedes the sample)
    const published = new Map<string, number>()
    for (const r of run.results.records) {
      const s = sourceOf(r)
      published.set(s, Math.min(published.get(s) ?? Number.POSITIVE_INFINITY, r.timestamp))
    }
    for (const { at, committed } of snapshots) {
      for (const [partition, offset] of committed) {
        for (let o = 0; o < offset; o++) {
          const resultAt = published.get(`${partition}:${o}`)
          expect(resultAt, `committed ${offset} on partition ${partition} passes offset ${o}`).toBeDefined()
          expect(resultAt as number).toBeLessThanOrEqual(at)
        }
      }
    }
    // And commits moved in steps while jobs were running (some sample saw a partition half done)
    expect(
      snapshots.some(({ committed }) => [...committed].some(([p, o]) => o > 0 && o < (logEnd.get(p) ?? 0))),
    ).toBe(true)
    // And jobs really finished out of order: within a partition, a later record got its outcome first
    expect(hasOutOfOrderCompletion(run.results.records)).toBe(true)
    // And at the end the committed offsets equal the log-end offsets, with nothing in the DLQ
    const final = snapshots.at(-1)?.committed
    for (const [p, end] of logEnd) expect(final?.get(p)).toBe(end)
    expect(run.dlq.records).toHaveLength(0)

    // And each repeated id was imported twice, one after the other: the later event waited for the
    // earlier job (its own job, a later offset, an outcome no earlier) and was SKIPPED with the same mediaId
    for (const r of base.slice(0, 6)) {
      const list = run.results.records
        .map((x) => x.value)
        .filter((v) => v.externalId === r.externalId)
        .sort((a, b) => a.sourceOffset - b.sourceOffset)
      expect(list.map((v) => v.state)).toEqual(['SUCCESS', 'SKIPPED'])
      const [first, second] = list as [FileImportResult, FileImportResult]
      expect(second.sourcePartition).toBe(first.sourcePartition)
      expect(second.importJobId).not.toBe(first.importJobId)
      expect(second.completedAt).toBeGreaterThanOrEqual(first.completedAt)
      expect(second.mediaId).toBe(first.mediaId)
      const firstJob = emulator.getJob(first.importJobId as string)
      const secondJob = emulator.getJob(second.importJobId as string)
      expect(secondJob?.startedAt.getTime()).toBeGreaterThanOrEqual(firstJob?.finishedAt?.getTime() ?? 0)
    }
    // And the result events carry the import job id that deduplicates them
    for (const { value } of run.results.records) expect(value.importJobId).toMatch(/\S/)
  })

  it('pauses fetching above MAX_FILES_IN_FLIGHT with a backlog, resumes below the low-water mark, delivers every result', async () => {
    // Given a backlog of 80 records already on the topic and slow import jobs
    const emulator = await startEmulator(world, {
      token: 'backpressure-token',
      jobDurationMs: 400,
      jobDurationJitterMs: 400,
    })
    const run = await createFaultRun(world, 'backpressure', emulator)
    const records = ['bp1', 'bp2', 'bp3', 'bp4'].flatMap(
      (prefix) => sampleExport(world, prefix, { broken: 0, repeats: 0 }).records,
    )
    await produceRecords(world, run.topics.input, records)

    // When a bridge with a limit of 15 files in flight (resume at 5) consumes it
    const limit = 15
    const bridge = await startBridgeIn(world, {
      ...run.env,
      MAX_FILES_IN_FLIGHT: String(limit),
      FILES_IN_FLIGHT_RESUME_RATIO: '0.34',
      BATCH_MAX_FILES: '5',
      MAX_JOBS_IN_FLIGHT: '2',
    })
    const samples: Array<{ inFlight: number; paused: number }> = []
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const text = await (await fetch(bridge.metricsUrl)).text()
        samples.push({
          inFlight: metricValue(text, 'bridge_files_in_flight'),
          paused: metricValue(text, 'bridge_fetch_paused'),
        })
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    await run.results.waitFor(
      (r) => new Set(r.map(sourceOf)).size >= records.length,
      180_000,
      'a result for every backlog record',
    )
    sampling = false
    await sampler
    logFaultFigures('backpressure', records.length, run)

    // Then files in flight never exceeded the limit (a fetch response in hand is not pushed on once paused)
    const peak = Math.max(...samples.map((s) => s.inFlight))
    console.info(`backpressure: limit=${limit} peak files in flight=${peak} samples=${samples.length}`)
    expect(peak).toBeLessThanOrEqual(limit)
    expect(peak).toBeGreaterThan(0)
    // And fetching was paused at some point, and resumed (every record of the backlog has its result)
    expect(samples.some((s) => s.paused === 1)).toBe(true)
    expect(bridge.logs.withMsg('backpressure released; resuming fetch').length).toBeGreaterThan(0)
    expect(new Set(run.results.records.map(sourceOf)).size).toBe(records.length)
    expect(run.dlq.records).toHaveLength(0)
  })
})

/** True when, in some source partition, a record with a higher offset got its outcome before a lower one. */
function hasOutOfOrderCompletion(results: Array<ReadRecord<FileImportResult>>): boolean {
  const byPartition = new Map<number, FileImportResult[]>()
  for (const { value } of results)
    byPartition.set(value.sourcePartition, [...(byPartition.get(value.sourcePartition) ?? []), value])
  for (const list of byPartition.values()) {
    list.sort((a, b) => a.sourceOffset - b.sourceOffset)
    let latest = Number.NEGATIVE_INFINITY
    for (const v of list) {
      if (v.completedAt < latest) return true
      latest = Math.max(latest, v.completedAt)
    }
  }
  return false
}
