/**
 * The benchmark itself (the CLI is scripts/bench/bench.ts): produces N file-created events once, then
 * runs on the same data, each as separate child processes with a fresh consumer group and its own
 * results topic:
 *   1. the baseline (scripts/bench/baseline.ts): a bare kafkajs consumer, Avro in, Avro out, no HTTP;
 *   2. the bridge (`node src/main.ts`) against the emulator with instant jobs (webhooks on);
 *   3. the bridge against the emulator with slow jobs (webhooks on, a server-side rate limit), once per
 *      MAX_JOBS_IN_FLIGHT step, on a smaller input topic;
 *   4. optionally the bridge against a large backlog, for its peak RSS (backpressure);
 *   5. optionally (mode `mapping`) the instant run once more with the example mapping of docs/mapping.md
 *      (MAPPING_FILE) over as many events of the legacy DAM shape it maps (data.ts `damEvent`).
 * Peak RSS and CPU seconds are read from /proc for the measured process only.
 *
 * This file runs the rounds and the modes in order and writes the report; the runs themselves are in
 * baseline-run.ts, bridge-run.ts and modes.ts, what they measure in measure.ts and figures.ts, the
 * report's targets, summary line and table in report.ts, the settings in options.ts.
 */
import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { createKafka } from '../../src/kafka/client.ts'
import { createLogger } from '../../src/logging.ts'
import { runBaseline } from './baseline-run.ts'
import { type BenchContext, root } from './context.ts'
import { produceBenchEvents } from './data.ts'
import { compareToBaseline, type RunFigures } from './figures.ts'
import { runBacklog, runInstant, runMapping, runSlowSweep } from './modes.ts'
import type { BenchOptions } from './options.ts'
import { type BenchReport, summary, targets } from './report.ts'

/**
 * Runs the benchmark and writes `<outDir>/<ISO time>.json`.
 * Kafka and the registry come from `KAFKA_BROKERS`/`SCHEMA_REGISTRY_URL`, else `scripts/stack start`
 * (stopped again at the end).
 * @returns the report and the path of its JSON file
 * @throws Error when a run fails or times out (children are stopped first)
 */
export async function runBench(options: BenchOptions): Promise<{ report: BenchReport; path: string }> {
  const cleanups: Array<() => Promise<unknown> | unknown> = []
  try {
    return await run(options, cleanups)
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined)
  }
}

async function run(
  options: BenchOptions,
  cleanups: Array<() => Promise<unknown> | unknown>,
): Promise<{ report: BenchReport; path: string }> {
  const log = options.log
  const startedAt = new Date()
  const os = await import('node:os')
  let brokers = options.kafka?.brokers ?? process.env.KAFKA_BROKERS
  let registryUrl = options.kafka?.registryUrl ?? process.env.SCHEMA_REGISTRY_URL
  if (brokers === undefined || registryUrl === undefined) {
    log('bench: starting the local Kafka broker and schema registry (scripts/stack start)')
    const started = spawnSync(`${root}scripts/stack`, ['start'], { stdio: ['ignore', 'ignore', 'inherit'] })
    if (started.status !== 0) throw new Error('scripts/stack start failed (see above)')
    cleanups.push(() =>
      spawnSync(`${root}scripts/stack`, ['stop'], { stdio: ['ignore', 'ignore', 'inherit'] }),
    )
    const env = spawnSync(`${root}scripts/stack`, ['env'], { encoding: 'utf8' }).stdout
    brokers = /KAFKA_BROKERS=(\S+)/.exec(env)?.[1]
    registryUrl = /SCHEMA_REGISTRY_URL=(\S+)/.exec(env)?.[1]
    if (brokers === undefined || registryUrl === undefined) throw new Error(`scripts/stack env: ${env}`)
  }
  const kafkaEnv = { brokers, registryUrl }
  const logDir = `${options.outDir}/logs`
  await mkdir(logDir, { recursive: true })
  const runId = `bench-${Date.now().toString(36)}`
  const quiet = createLogger({ level: 'fatal', destination: process.stderr })
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'bench' }, { logger: quiet })
  const ctx: BenchContext = { kafka, kafkaEnv, runId, logDir, options, cleanups }

  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    host: { cpus: os.cpus().length, loadAverage: os.loadavg(), node: process.version },
    options: { ...options, log: undefined } as unknown as Omit<BenchOptions, 'log'>,
    input: { events: options.events, meanValueBytes: 0, produceMs: 0 },
    targets: [],
    summary: '',
  }
  delete (report.options as { log?: unknown }).log
  delete (report.options as { kafka?: unknown }).kafka

  const input = `${runId}.input`
  if (options.modes.includes('baseline') || options.modes.includes('instant')) {
    log(`bench: producing ${options.events} events to ${input}`)
    const produced = await produceBenchEvents(kafka, {
      topic: input,
      partitions: options.partitions,
      count: options.events,
      runId,
      schemaRegistryUrl: registryUrl,
    })
    report.input = {
      events: options.events,
      meanValueBytes: Math.round(produced.meanValueBytes),
      produceMs: produced.ms,
    }
    log(`bench: produced in ${produced.ms} ms, mean value ${Math.round(produced.meanValueBytes)} bytes`)
  }
  const rounds =
    options.modes.includes('baseline') && options.modes.includes('instant') ? (options.rounds ?? 1) : 1
  const runs: Array<{ baseline?: RunFigures; instant?: RunFigures }> = []
  for (let round = 1; round <= rounds; round++) {
    const suffix = rounds === 1 ? '' : `-${round}`
    const baseline = options.modes.includes('baseline')
      ? await runBaseline(ctx, input, options.events, suffix, round === 1)
      : undefined
    // Like for like: the baseline runs with V8's default heap sizing, so the run the ratio target
    // judges does too; the chart's heap flags get a run of their own on the same input (below).
    const instant = options.modes.includes('instant')
      ? await runInstant(
          ctx,
          input,
          `instant${suffix}`,
          { mode: `instant${suffix}`, nodeOptions: '' },
          round === 1,
        )
      : undefined
    if (baseline !== undefined && instant !== undefined) compareToBaseline(instant, baseline)
    runs.push({ ...(baseline ? { baseline } : {}), ...(instant ? { instant } : {}) })
  }
  const median = medianRound(runs.map((r) => r.instant?.cpuRatioToBaseline ?? 0))
  report.baseline = runs[median]?.baseline
  report.instant = runs[median]?.instant
  if (rounds > 1) {
    report.rounds = {
      runs: runs.map((r) => ({
        baseline: r.baseline as RunFigures,
        instant: r.instant as RunFigures,
        cpuRatio: r.instant?.cpuRatioToBaseline as number,
      })),
      median,
    }
  }
  if (options.modes.includes('instant') && options.bridgeNodeOptions) {
    report.instantNodeOptions = await runInstant(ctx, input, 'instant-node-options', {
      mode: 'instant-node-options',
    })
    if (report.baseline !== undefined) compareToBaseline(report.instantNodeOptions, report.baseline)
  }
  if (options.modes.includes('mapping')) {
    report.instantMapping = await runMapping(ctx)
    if (report.baseline !== undefined) compareToBaseline(report.instantMapping, report.baseline)
  }
  if (options.modes.includes('slow')) report.slow = await runSlowSweep(ctx)
  if (options.backlogEvents > 0) {
    const runs = await runBacklog(ctx)
    report.backlog = runs[0]
    if (runs[1] !== undefined) report.backlogV8Defaults = runs[1]
  }

  report.targets = targets(report)
  report.summary = summary(report)
  const path = `${options.outDir}/${startedAt.toISOString().replace(/[:.]/g, '-')}.json`
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`)
  return { report, path }
}

/**
 * The index of the median of `ratios`: of an odd number the middle one, of an even number the upper of
 * the two middle ones (the less flattering). @returns 0 for one value
 */
export function medianRound(ratios: number[]): number {
  const order = ratios.map((r, i) => [r, i] as const).sort((a, b) => a[0] - b[0])
  return order[Math.floor(order.length / 2)]?.[1] ?? 0
}
