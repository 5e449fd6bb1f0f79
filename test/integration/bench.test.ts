// The benchmark's code path end to end with a tiny N: every mode runs as separate processes against the
// real broker and registry, every event gets a result, and the JSON report has sane figures. No timing
// thresholds: the figures are only checked for shape and consistency.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import type { RunFigures } from '../../scripts/bench/figures.ts'
import { projectImageNodeFlags } from '../../scripts/bench/image.ts'
import { slowCapacity } from '../../scripts/bench/modes.ts'
import { type BenchReport, formatTable } from '../../scripts/bench/report.ts'
import { runBench } from '../../scripts/bench/run.ts'

const kafka = inject('kafka')
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

function expectSaneRun(run: RunFigures | undefined, events: number) {
  expect(run).toBeDefined()
  const r = run as RunFigures
  expect(r.events).toBe(events)
  // Every event got a result (the bridge may publish more when it kept consuming past a slow step).
  expect(r.distinctResults).toBeGreaterThanOrEqual(events)
  expect(r.eventsPerSecond).toBeGreaterThan(0)
  expect(r.durationMs).toBeGreaterThan(0)
  expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p95)
  expect(r.latencyMs.p95).toBeLessThanOrEqual(r.latencyMs.p99)
  // A Node.js process with kafkajs loaded holds well over 20 MB and far less than 4 GB.
  expect(r.peakRssBytes).toBeGreaterThan(20 * 1024 * 1024)
  expect(r.peakRssBytes).toBeLessThan(4 * 1024 * 1024 * 1024)
  expect(r.cpuSeconds).toBeGreaterThan(0)
}

describe('npm run bench (tiny N)', () => {
  it('runs the baseline, instant, mapping, slow and backlog modes and writes a complete JSON report', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'bench-test-'))
    dirs.push(outDir)
    const lines: string[] = []
    const { report, path } = await runBench({
      kafka: { brokers: kafka.brokers.join(','), registryUrl: kafka.schemaRegistryUrl },
      events: 2000,
      rounds: 2,
      partitions: 3,
      modes: ['baseline', 'instant', 'slow', 'mapping'],
      slowSteps: [1, 2],
      slowEventsPerJob: 100,
      slowJobMs: 500,
      rateLimitRps: 0,
      clientRps: 20,
      backlogEvents: 1500,
      backlogMs: 90_000,
      batchMaxFiles: 50,
      instantJobs: 4,
      maxFilesInFlight: 500,
      cpuProfDir: undefined,
      baselinePartitioner: 'kafkajs',
      bridgeNodeOptions: '--max-old-space-size=256',
      bridgeNodeFlags: projectImageNodeFlags(),
      outDir,
      runTimeoutMs: 120_000,
      log: (line) => lines.push(line),
    })

    expectSaneRun(report.baseline, 2000)
    expectSaneRun(report.instant, 2000)
    expect(report.baseline?.latencySource).toMatch(/exact/)
    // The bridge's own figures: batches of at most BATCH_MAX_FILES, a few API requests per batch.
    const instant = report.instant as RunFigures
    expect(instant.filesPerBatch).toBeGreaterThan(0)
    expect(instant.filesPerBatch).toBeLessThanOrEqual(50)
    expect(instant.batchFill).toBeCloseTo((instant.filesPerBatch as number) / 50, 6)
    expect(instant.apiRequests?.['POST /import/files']?.['200']).toBeGreaterThanOrEqual(2000 / 50)
    expect(instant.apiRequestsPerFile).toBeGreaterThan(0)
    expect(instant.apiRequestsPerFile).toBeLessThan(1)
    expect(instant.ratioToBaseline).toBeCloseTo(
      instant.eventsPerSecond / (report.baseline as RunFigures).eventsPerSecond,
      6,
    )
    // The CPU target's figure: the two runs' CPU per event, divided
    expect(instant.cpuRatioToBaseline).toBeCloseTo(
      instant.cpuSecondsPer10kEvents / (report.baseline as RunFigures).cpuSecondsPer10kEvents,
      6,
    )

    // Two alternating rounds, each its own consumer groups and result topics; the report's runs are
    // those of the round with the upper median ratio (the higher of two), as the table marks them.
    const rounds = report.rounds?.runs ?? []
    expect(rounds.map((r) => [r.baseline.mode, r.instant.mode])).toEqual([
      ['baseline-1', 'instant-1'],
      ['baseline-2', 'instant-2'],
    ])
    for (const r of rounds) {
      expectSaneRun(r.baseline, 2000)
      expectSaneRun(r.instant, 2000)
      expect(r.cpuRatio).toBeCloseTo(r.instant.cpuSecondsPer10kEvents / r.baseline.cpuSecondsPer10kEvents, 6)
    }
    const upper =
      rounds[0] !== undefined && rounds[1] !== undefined && rounds[1].cpuRatio > rounds[0].cpuRatio ? 1 : 0
    expect(report.rounds?.median).toBe(upper)
    expect(report.instant).toEqual(rounds[upper]?.instant)
    expect(report.summary).toContain(`cpuRatioRounds=${rounds.map((r) => r.cpuRatio.toFixed(2)).join('/')}`)
    expect(formatTable(report)).toContain(`instant-${upper + 1}*`)

    // The instant run again with the bridge's NODE_OPTIONS, judged against the same baseline.
    expectSaneRun(report.instantNodeOptions, 2000)
    expect(report.instantNodeOptions?.ratioToBaseline).toBeCloseTo(
      (report.instantNodeOptions as RunFigures).eventsPerSecond /
        (report.baseline as RunFigures).eventsPerSecond,
      6,
    )

    // The instant run once more with the mapping of docs/mapping.md over legacy DAM events: every one mapped,
    // filtered in and imported (a mapping failure would leave it without a result)
    expectSaneRun(report.instantMapping, 2000)
    expect(report.instantMapping?.mode).toBe('instant-mapping')
    // Its JPEGs go to the image import and its PDFs to the file import (the mapped mimeType): every
    // file in some batch of at most 50 (the bench's BATCH_MAX_FILES)
    const posts = (path: string) => report.instantMapping?.apiRequests?.[`POST ${path}`]?.['200'] ?? 0
    expect(posts('/import/images')).toBeGreaterThan(0)
    expect(posts('/import/files')).toBeGreaterThan(0)
    expect(posts('/import/images') + posts('/import/files')).toBeGreaterThanOrEqual(2000 / 50)

    // One slow step per MAX_JOBS_IN_FLIGHT, each with every one of its events resulted.
    expect(report.slow?.map((s) => s.maxJobsInFlight)).toEqual([1, 2])
    // Events per step: MAX_JOBS_IN_FLIGHT x 100, at least two batches of 50.
    expectSaneRun(report.slow?.[0], 100)
    expectSaneRun(report.slow?.[1], 200)
    // Each step's utilisation against what its jobs allow: 500 ms jobs of (about) 50 files, 20 req/s
    for (const step of report.slow ?? []) {
      expect(step.capacityFilesPerSecond).toBeCloseTo(
        slowCapacity(step.maxJobsInFlight as number, step.filesPerBatch as number, 500, [20]),
        6,
      )
      expect(step.utilisation).toBeCloseTo(step.eventsPerSecond / (step.capacityFilesPerSecond as number), 6)
      expect(step.utilisation).toBeGreaterThan(0)
    }

    // The backlog run drained 1500 events with at most 500 in flight.
    expect(report.backlog?.drained).toBe(true)
    expect(report.backlog?.results).toBe(1500)

    // The JSON file holds the same report; targets and the summary line are there.
    const json = JSON.parse(await readFile(path, 'utf8')) as BenchReport
    expect(json.instant?.eventsPerSecond).toBe(instant.eventsPerSecond)
    expect(json.targets.map((t) => t.name)).toHaveLength(4)
    for (const t of json.targets) expect(typeof t.pass === 'boolean').toBe(true)
    expect(json.summary).toMatch(
      /^bench: cpuRatio=\d+\.\d\d cpuRatioWithNodeOptions=\d+\.\d\d slowUtilisation=\d+\.\d%\(lowest step\) ratio=\d+\.\d\d batchFill=\d+\.\d% peakRss=\d+MB/,
    )
    expect(json.targets[0]?.value).toBe(instant.cpuRatioToBaseline?.toFixed(2))
    expect(json.summary).toMatch(/ ratioWithNodeOptions=\d+\.\d\d/)
    expect(json.summary).toMatch(/ cpuPer10k=\d+\.\d\d cpuPer10kWithMapping=\d+\.\d\d/)
    expect(formatTable(json)).toMatch(/\ninstant-mapping +2000 +2000 /)
    // A slow step's row counts its own events only, though its bridge read on in the shared input.
    const slowRow = formatTable(json)
      .split('\n')
      .find((l) => l.startsWith('slow-1 '))
    expect(slowRow?.split(/\s+/).slice(1, 3)).toEqual(['100', '100'])
    expect(json.input.meanValueBytes).toBeGreaterThan(300)
    expect(formatTable(json)).toMatch(/^mode\s+events/)
  }, 600_000)
})
