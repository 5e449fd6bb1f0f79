/**
 * The bench's report: the JSON report's shape, the targets (docs/benchmark.md) and their verdicts,
 * the summary line `bench: …` and the plain-text table the CLI prints.
 */

import { table } from '../text-table.ts'
import type { RunFigures } from './figures.ts'
import type { BenchOptions } from './options.ts'

/** The JSON report. */
export interface BenchReport {
  startedAt: string
  host: { cpus: number; loadAverage: number[]; node: string }
  options: Omit<BenchOptions, 'log'>
  input: { events: number; meanValueBytes: number; produceMs: number }
  /** The baseline run of the median round (see {@link BenchReport.rounds}). */
  baseline?: RunFigures
  /**
   * The bridge with instant jobs and V8's default heap sizing, as the baseline runs (the ratio target):
   * the run of the median round.
   */
  instant?: RunFigures
  /**
   * Every round of the baseline and instant runs, in the order they ran, with its cpuRatio; `median` is
   * the index of the round whose ratio is the median (the upper one of an even number of rounds).
   */
  rounds?: { runs: Array<{ baseline: RunFigures; instant: RunFigures; cpuRatio: number }>; median: number }
  /** The same with the bench's `bridgeNodeOptions` (by default the Helm chart's heap flags), when set. */
  instantNodeOptions?: RunFigures
  /** The instant run (V8 default heap) with the example mapping of docs/mapping.md over legacy DAM events. */
  instantMapping?: RunFigures
  slow?: RunFigures[]
  backlog?: RunFigures & { drained: boolean }
  /** The backlog run again with V8's default heap sizing (no NODE_OPTIONS), when the bridge had some. */
  backlogV8Defaults?: RunFigures & { drained: boolean }
  targets: Array<{ name: string; target: string; value: string; pass: boolean | null }>
  summary: string
}

const MB = 1024 * 1024

/** The issue-17 targets (docs/benchmark.md): CPU ratio, batch fill, peak RSS, slow utilisation. */
export const TARGETS = { cpuRatio: 2.0, batchFill: 0.95, peakRssBytes: 300 * 1024 * 1024, utilisation: 0.95 }

/** The targets' rows of the report: each with its value and verdict (null when its run did not run). */
export function targets(r: BenchReport): BenchReport['targets'] {
  const t: BenchReport['targets'] = []
  const cpuRatio = r.instant?.cpuRatioToBaseline
  const rounds = r.rounds?.runs.length ?? 1
  t.push({
    name: `CPU per event, instant ÷ baseline (cpuRatio; both with V8 default heap sizing, same run${rounds > 1 ? `; the median of ${rounds} alternating rounds` : ''})`,
    target: `<= ${TARGETS.cpuRatio.toFixed(1)}`,
    value: cpuRatio === undefined ? 'not run' : cpuRatio.toFixed(2),
    pass: cpuRatio === undefined ? null : cpuRatio <= TARGETS.cpuRatio,
  })
  const fill = r.instant?.batchFill
  t.push({
    name: 'batch fill under load (instant)',
    target: `>= ${TARGETS.batchFill * 100}%`,
    value: fill === undefined ? 'not run' : `${(fill * 100).toFixed(1)}%`,
    pass: fill === undefined ? null : fill >= TARGETS.batchFill,
  })
  const rss = r.backlog?.peakRssBytes
  t.push({
    name: `peak RSS with a backlog of ${r.options.backlogEvents || 'N'} events (NODE_OPTIONS: ${r.options.bridgeNodeOptions || 'none'}; node flags: ${r.options.bridgeNodeFlags?.join(' ') || 'none'})`,
    target: '< 300 MB (backlog of 1,000,000)',
    value:
      rss === undefined
        ? 'not run (--backlog-events 1000000)'
        : `${(rss / MB).toFixed(0)} MB after ${r.backlog?.results} results`,
    pass: rss === undefined ? null : rss < TARGETS.peakRssBytes,
  })
  const slow = r.slow ?? []
  if (slow.length > 0) {
    const low = Math.min(...slow.map((s) => s.utilisation ?? 0))
    t.push({
      name: "slow mode: files/s ÷ what the jobs in flight and the rate limit allow (Little's law), every step",
      target: `>= ${TARGETS.utilisation * 100}%`,
      value: slow.map((s) => `${s.maxJobsInFlight}:${((s.utilisation ?? 0) * 100).toFixed(0)}%`).join(' '),
      pass: low >= TARGETS.utilisation,
    })
  }
  return t
}

/**
 * The report's last line, `bench: cpuRatio=… … targets=P/N passed`. Its fields keep their order
 * (readers parse it in order; test/integration/bench.test.ts does): new ones go after the old.
 */
export function summary(r: BenchReport): string {
  const ratio = r.instant?.ratioToBaseline
  const fill = r.instant?.batchFill
  const rss = r.backlog?.peakRssBytes ?? r.instant?.peakRssBytes
  const cpuRatio = r.instant?.cpuRatioToBaseline
  const cpuRatioWithNodeOptions = r.instantNodeOptions?.cpuRatioToBaseline
  const slow = r.slow ?? []
  return [
    'bench:',
    `cpuRatio=${cpuRatio === undefined ? 'n/a' : cpuRatio.toFixed(2)}`,
    ...(cpuRatioWithNodeOptions === undefined
      ? []
      : [`cpuRatioWithNodeOptions=${cpuRatioWithNodeOptions.toFixed(2)}`]),
    ...(slow.length === 0
      ? []
      : [
          `slowUtilisation=${(Math.min(...slow.map((s) => s.utilisation ?? 0)) * 100).toFixed(1)}%(lowest step)`,
        ]),
    `ratio=${ratio === undefined ? 'n/a' : ratio.toFixed(2)}`,

    `batchFill=${fill === undefined ? 'n/a' : `${(fill * 100).toFixed(1)}%`}`,
    `peakRss=${rss === undefined ? 'n/a' : `${(rss / MB).toFixed(0)}MB`}${r.backlog ? `(backlog ${r.backlog.results})` : '(instant)'}`,
    `baseline=${r.baseline ? `${r.baseline.eventsPerSecond.toFixed(0)}/s` : 'n/a'}`,
    `instant=${r.instant ? `${r.instant.eventsPerSecond.toFixed(0)}/s` : 'n/a'}`,
    ...(r.instantNodeOptions?.ratioToBaseline === undefined
      ? []
      : [`ratioWithNodeOptions=${r.instantNodeOptions.ratioToBaseline.toFixed(2)}`]),
    ...(r.instantMapping === undefined
      ? []
      : [
          `cpuPer10k=${r.instant?.cpuSecondsPer10kEvents.toFixed(2) ?? 'n/a'}`,
          `cpuPer10kWithMapping=${r.instantMapping.cpuSecondsPer10kEvents.toFixed(2)}`,
        ]),
    // After the figures older readers of this line parse in order.
    ...(r.rounds === undefined
      ? []
      : [`cpuRatioRounds=${r.rounds.runs.map((x) => x.cpuRatio.toFixed(2)).join('/')}`]),
    `targets=${r.targets.filter((t) => t.pass === true).length}/${r.targets.filter((t) => t.pass !== null).length} passed`,
  ].join(' ')
}

/** The report as a plain-text table (one row per run, then the targets). */
export function formatTable(r: BenchReport): string {
  // Every round when there are several, the median round's runs marked with *.
  const roundRows = (r.rounds?.runs ?? []).flatMap((x, i) =>
    [x.baseline, x.instant].map((f) => (i === r.rounds?.median ? { ...f, mode: `${f.mode}*` } : f)),
  )
  const rows: RunFigures[] = [
    ...(r.rounds !== undefined ? roundRows : []),
    ...(r.rounds === undefined && r.baseline ? [r.baseline] : []),
    ...(r.rounds === undefined && r.instant ? [r.instant] : []),
    ...(r.instantNodeOptions ? [r.instantNodeOptions] : []),
    ...(r.instantMapping ? [r.instantMapping] : []),
    ...(r.slow ?? []),
    ...(r.backlog ? [r.backlog] : []),
    ...(r.backlogV8Defaults ? [r.backlogV8Defaults] : []),
  ]
  const head = [
    'mode',
    'events',
    'results',
    'events/s',
    'ratio',
    'cpu ratio',
    'util',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'req/file',
    'fill',
    'peak RSS',
    'cpu s/10k',
    'warm s/10k',
    'emu cpu',
    'broker cpu',
  ]
  const cells = rows.map((f) => [
    f.mode,
    String(f.events),
    // A slow step's bridge keeps consuming the shared input until it is stopped: count its own events.
    String(Math.min(f.distinctResults || f.results, f.events)),
    f.eventsPerSecond.toFixed(0),
    // Slow steps are bounded by job duration and rate limit by design: no ratio to compare. An
    // instant round's throughput ratio is to its own round's baseline.
    f.ratioToBaseline !== undefined
      ? f.ratioToBaseline.toFixed(2)
      : r.baseline && !f.mode.startsWith('slow') && !f.mode.startsWith('baseline')
        ? (f.eventsPerSecond / r.baseline.eventsPerSecond).toFixed(2)
        : f.mode.startsWith('baseline')
          ? '1.00'
          : '-',
    f.cpuRatioToBaseline === undefined ? '-' : f.cpuRatioToBaseline.toFixed(2),
    f.utilisation === undefined ? '-' : `${(f.utilisation * 100).toFixed(1)}%`,
    f.latencyMs.p50.toFixed(0),
    f.latencyMs.p95.toFixed(0),
    f.latencyMs.p99.toFixed(0),
    f.apiRequestsPerFile === undefined ? '-' : f.apiRequestsPerFile.toFixed(3),
    f.batchFill === undefined ? '-' : `${(f.batchFill * 100).toFixed(1)}%`,
    `${(f.peakRssBytes / MB).toFixed(0)} MB`,
    f.cpuSecondsPer10kEvents.toFixed(2),
    f.warmCpuSecondsPer10kEvents?.toFixed(2) ?? '-',
    f.otherCpuSecondsPer10kEvents?.emulator?.toFixed(2) ?? '-',
    f.otherCpuSecondsPer10kEvents?.broker?.toFixed(2) ?? '-',
  ])
  const out = [table(head, cells), '']
  if (r.rounds !== undefined)
    out.push(
      `* the median round of ${r.rounds.runs.length} (by cpu ratio): the figures of the targets below`,
      '',
    )
  for (const t of r.targets)
    out.push(
      `${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.value} (target ${t.target})`,
    )
  return out.join('\n')
}
