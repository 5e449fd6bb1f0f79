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
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Admin, Kafka as KafkaJs } from 'kafkajs'
import { createKafka, type Kafka } from '../../src/kafka/client.ts'
import { ensureTopics } from '../../src/kafka/topics.ts'
import { createLogger } from '../../src/logging.ts'
import { freePort } from '../../test/support/free-port.ts'
import { readmeMappingExample } from '../../test/support/mapping-example.ts'
import { BENCH_SYSTEM_NAME, produceBenchEvents } from './data.ts'
import { type Child, cpuSeconds, jsonLine, peakRssBytes, spawnNode } from './proc.ts'
import { histogramPercentiles, parseMetrics, sumOf } from './stats.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** The bench's modes (`--modes`). */
export const BENCH_MODES = ['baseline', 'instant', 'slow', 'mapping'] as const
export type BenchMode = (typeof BENCH_MODES)[number]

/** Options of {@link runBench}. Durations in ms. */
export interface BenchOptions {
  /** Events of the baseline and instant runs. */
  events: number
  /**
   * Rounds of the baseline and instant runs, alternating (baseline, instant, baseline, instant, …; each
   * instant run with an emulator of its own); the report's cpuRatio is the median round's (default 1).
   */
  rounds?: number
  partitions: number
  /** Modes to run, a subset of baseline, instant, slow, mapping. */
  modes: BenchMode[]
  /** MAX_JOBS_IN_FLIGHT of each slow-mode step. */
  slowSteps: number[]
  /** Events per slow step = this × MAX_JOBS_IN_FLIGHT (at least 2 batches). */
  slowEventsPerJob: number
  /** How long each emulated slow job stays `started`. */
  slowJobMs: number
  /** Server-side limit of the emulator in the slow mode, requests per second (0 = none). */
  rateLimitRps: number
  /** The bridge's own limit in the slow mode (API_RATE_LIMIT_PER_SECOND), requests per second (0 = none). */
  clientRps?: number
  /** Events of the backlog run (0 = no backlog run). */
  backlogEvents: number
  /** Longest a backlog run lasts; it ends earlier once drained. */
  backlogMs: number
  batchMaxFiles: number
  /** MAX_JOBS_IN_FLIGHT of the instant and backlog runs. */
  instantJobs: number
  /** MAX_FILES_IN_FLIGHT of every bridge run. */
  maxFilesInFlight: number
  /** More environment variables of every bridge run (e.g. FILES_IN_FLIGHT_RESUME_RATIO). */
  bridgeEnv?: Record<string, string>
  /** NODE_OPTIONS of the bridge processes (e.g. a heap limit as a container's memory limit would set). */
  bridgeNodeOptions?: string
  /**
   * Node.js command-line flags of the bridge runs that use `bridgeNodeOptions` (the image's, from the
   * Dockerfile's CMD: see image.ts); the runs with V8's default heap sizing get none.
   */
  bridgeNodeFlags?: string[]
  /** Directory for `--cpu-prof` of the instant-mode bridge (its emulator and the baseline in subdirectories), or undefined for no profile. */
  cpuProfDir: string | undefined
  /** Partitioner of the baseline's producer: kafkajs' own (bare kafkajs) or the bridge's. */
  baselinePartitioner: 'kafkajs' | 'bridge'
  /** Where the JSON report and child logs go. */
  outDir: string
  /** Longest one run may take before the bench gives up on it. */
  runTimeoutMs: number
  /** Kafka and the registry to use; default KAFKA_BROKERS / SCHEMA_REGISTRY_URL, else the local stack. */
  kafka?: { brokers: string; registryUrl: string }
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void
}

/** Figures of one run of the bridge or the baseline. Times in ms, sizes in bytes. */
export interface RunFigures {
  mode: string
  events: number
  results: number
  /** Distinct result keys (systemName:externalId) read back; equals `events` when every event got one. */
  distinctResults: number
  durationMs: number
  eventsPerSecond: number
  latencyMs: { p50: number; p95: number; p99: number }
  /** Where the latency comes from: exact per event, or the bridge's histogram (interpolated). */
  latencySource: string
  peakRssBytes: number
  cpuSeconds: number
  cpuSecondsPer10kEvents: number
  /**
   * CPU s/10k events once warm: from the first progress sample with {@link WARM_FRACTION} of the events
   * resulted to the end (JIT compilation and heap growth fall in the first seconds of a run).
   */
  warmCpuSecondsPer10kEvents?: number
  /** Results so far and CPU seconds since the join, sampled about every 200 ms. */
  progress?: ProgressSample[]
  /**
   * CPU seconds per 10,000 events of the other processes on the same machine during the run: the
   * emulator (bridge runs) and the local stack's Kafka broker (when the bench can find its pid).
   */
  otherCpuSecondsPer10kEvents?: { emulator?: number; broker?: number }
  /** Import API requests seen by the emulator per file (bridge runs only). */
  apiRequestsPerFile?: number
  apiRequests?: Record<string, Record<string, number>>
  /** Mean files per submitted batch (bridge runs only). */
  filesPerBatch?: number
  /** filesPerBatch / BATCH_MAX_FILES. */
  batchFill?: number
  maxJobsInFlight?: number
  /** Largest V8 heap (used, total) and external (Buffer) memory seen in 5-s samples, bytes (bridge runs). */
  memory?: { heapUsedMaxBytes: number; heapTotalMaxBytes: number; externalMaxBytes: number }
  /** Throughput ratio to the baseline (instant run). */
  ratioToBaseline?: number
  /** CPU s/10k events ÷ the baseline's, in the same bench run (instant runs): the CPU target's figure. */
  cpuRatioToBaseline?: number
  /**
   * Slow steps: how close the bridge keeps the slow API busy, `eventsPerSecond ÷ capacityFilesPerSecond`
   * (Little's law: files in flight ÷ time in the system).
   */
  utilisation?: number
  /**
   * Slow steps: the most files/s the API allows: `MAX_JOBS_IN_FLIGHT × filesPerBatch ÷ job time`,
   * capped by the rate limit (the bridge's own and the emulator's, the lower) × filesPerBatch ÷
   * {@link REQUESTS_PER_JOB}.
   */
  capacityFilesPerSecond?: number
}

/**
 * API requests a job needs at the least with webhooks: its submit and one status read after the
 * webhook. A bridge that polls a job the webhook would have finished spends more, which shows as lower
 * utilisation under a rate limit.
 */
export const REQUESTS_PER_JOB = 2

/**
 * The slow API's capacity for one step, files/s (see {@link RunFigures.capacityFilesPerSecond}).
 * @param rateLimits requests per second; 0 means none
 */
export function slowCapacity(
  jobs: number,
  filesPerBatch: number,
  jobMs: number,
  rateLimits: number[],
): number {
  const byJobs = (jobs * filesPerBatch * 1000) / jobMs
  const limits = rateLimits.filter((r) => r > 0)
  if (limits.length === 0) return byJobs
  return Math.min(byJobs, (Math.min(...limits) * filesPerBatch) / REQUESTS_PER_JOB)
}

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
  const ctx: Ctx = { kafka, kafkaEnv, runId, logDir, options, cleanups }

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
  /** One instant-mode bridge run with an emulator of its own; `profile`: the first round's (--cpu-prof). */
  const instantRun = async (
    name: string,
    run: Omit<BridgeRun, 'emulator' | 'input' | 'events' | 'env' | 'cpuProf'>,
    profile = false,
  ) => {
    options.log(`bench: ${name} (the bridge against an emulator of instant jobs)`)
    // A fresh emulator per run: each imports the input anew (a second run against the same emulator
    // would get every file back SKIPPED as a re-import, §10, a different workload).
    const emulator = await startEmulator(
      ctx,
      `emulator-${name}`,
      [],
      options.cpuProfDir === undefined || !profile
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}/emulator`],
    )
    try {
      return await runBridge(ctx, {
        ...run,
        cpuProf: profile ? options.cpuProfDir : undefined,
        input,
        events: options.events,
        emulator,
        env: { MAX_JOBS_IN_FLIGHT: String(options.instantJobs) },
      })
    } finally {
      await emulator.child.stop()
    }
  }
  const runs: Array<{ baseline?: RunFigures; instant?: RunFigures }> = []
  for (let round = 1; round <= rounds; round++) {
    const suffix = rounds === 1 ? '' : `-${round}`
    const baseline = options.modes.includes('baseline')
      ? await runBaseline(ctx, input, options.events, suffix, round === 1)
      : undefined
    // Like for like: the baseline runs with V8's default heap sizing, so the run the ratio target
    // judges does too; the chart's heap flags get a run of their own on the same input (below).
    const instant = options.modes.includes('instant')
      ? await instantRun(`instant${suffix}`, { mode: `instant${suffix}`, nodeOptions: '' }, round === 1)
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
    report.instantNodeOptions = await instantRun('instant-node-options', { mode: 'instant-node-options' })
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

/** One reading of a run's progress: results published so far, and the process's CPU seconds since the join. */
export interface ProgressSample {
  atMs: number
  results: number
  cpuSeconds: number
}

/** Share of a run's events after which it counts as warm (see {@link RunFigures.warmCpuSecondsPer10kEvents}). */
export const WARM_FRACTION = 0.25

/**
 * CPU s/10k events from the first sample with `WARM_FRACTION × events` results to the run's end
 * (`events` results, `cpuSecondsAtEnd`). @returns undefined when no sample fell in between
 */
export function warmCpuPer10k(
  samples: readonly ProgressSample[],
  events: number,
  cpuSecondsAtEnd: number,
): number | undefined {
  const from = samples.find((x) => x.results >= WARM_FRACTION * events && x.results < events)
  if (from === undefined) return undefined
  return ((cpuSecondsAtEnd - from.cpuSeconds) * 10_000) / (events - from.results)
}

/**
 * Samples a run's progress every ~200 ms until `stop()`: the result count of `topic` (its end offsets)
 * and `pid`'s CPU seconds less `cpuAtJoin`.
 */
function sampleProgress(ctx: Ctx, topic: string, pid: number, cpuAtJoin: number) {
  const samples: ProgressSample[] = []
  let stopped = false
  const admin = ctx.kafka.admin()
  const loop = (async () => {
    await admin.connect()
    try {
      while (!stopped) {
        try {
          const results = await recordsOn(admin, topic)
          samples.push({ atMs: Date.now(), results, cpuSeconds: cpuSeconds(pid) - cpuAtJoin })
        } catch {
          // the topic is not there yet, or the process is gone: no sample
        }
        await new Promise((r) => setTimeout(r, 200))
      }
    } finally {
      await admin.disconnect()
    }
  })()
  return {
    samples,
    async stop(): Promise<void> {
      stopped = true
      await loop.catch(() => undefined)
    },
  }
}

/** Sets `run`'s throughput and CPU ratios to the baseline's figures of the same bench run. */
function compareToBaseline(run: RunFigures, baseline: RunFigures): void {
  run.ratioToBaseline = run.eventsPerSecond / baseline.eventsPerSecond
  run.cpuRatioToBaseline = run.cpuSecondsPer10kEvents / baseline.cpuSecondsPer10kEvents
}

interface Ctx {
  kafka: Kafka
  kafkaEnv: { brokers: string; registryUrl: string }
  runId: string
  logDir: string
  options: BenchOptions
  cleanups: Array<() => Promise<unknown> | unknown>
}

interface Emulator {
  child: Child
  url: string
  apiVersion: string
  token: string
  /** Cumulative request counts of the emulator, by endpoint label and status. */
  requests(): Promise<Record<string, Record<string, number>>>
}

async function startEmulator(
  ctx: Ctx,
  name: string,
  args: string[],
  nodeArgs: string[] = [],
): Promise<Emulator> {
  const token = 'bench-token'
  const child = spawnNode(name, [...nodeArgs, 'scripts/bench/emulator.ts', '--token', token, ...args], {
    cwd: root,
    env: process.env,
    logPath: `${ctx.logDir}/${ctx.runId}-${name}.log`,
  })
  ctx.cleanups.push(() => child.stop(2000))
  const listening = await child.waitForLine((l) => {
    const j = jsonLine(l)
    return j?.event === 'listening' ? (j as { url: string; apiVersion: string }) : undefined
  }, 30_000)
  return {
    child,
    url: listening.url,
    apiVersion: listening.apiVersion,
    token,
    async requests() {
      const next = child.waitForLine((l) => {
        const j = jsonLine(l)
        return j?.event === 'stats' ? (j.requests as Record<string, Record<string, number>>) : undefined
      }, 10_000)
      child.process.kill('SIGUSR2')
      return next
    },
  }
}

/** Records on `topic` from its offsets (cheap) over a connected admin. @throws kafkajs' error */
async function recordsOn(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic)
  return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0)
}

/** Result records of a topic: count (from offsets, cheap); 0 while the topic is not there. */
async function resultCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return await recordsOn(admin, topic)
  } catch {
    return 0
  } finally {
    await admin.disconnect()
  }
}

/** Reads a whole topic once: distinct keys, the first record timestamp and that of the `expected`-th. */
async function readResults(
  kafka: KafkaJs,
  topic: string,
  expected: number,
): Promise<{ count: number; distinct: number; firstTs: number; lastTs: number }> {
  const keys = new Set<string>()
  const timestamps: number[] = []
  let count = 0
  const consumer = kafka.consumer({ groupId: `${topic}-reader`, maxBytes: 50 * 1024 * 1024 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let done: () => void = () => undefined
  const finished = new Promise<void>((resolve) => {
    done = resolve
  })
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        count++
        keys.add(m.key?.toString() ?? '')
        timestamps.push(Number(m.timestamp))
      }
      if (count >= expected) done()
    },
  })
  const timeout = setTimeout(done, 120_000)
  await finished
  clearTimeout(timeout)
  await consumer.disconnect()
  // The run ends with its `expected`-th result; results published after it (a bridge that kept
  // consuming past the step's events) do not count.
  timestamps.sort((a, b) => a - b)
  const lastTs = timestamps[Math.min(expected, timestamps.length) - 1] ?? 0
  return { count, distinct: keys.size, firstTs: timestamps[0] ?? 0, lastTs }
}

async function waitForResults(ctx: Ctx, topic: string, expected: number, child: Child, what: string) {
  const deadline = Date.now() + ctx.options.runTimeoutMs
  let last = -1
  // First progress line after 10 s: a "0/N results" right at the start reads like a failure.
  let lastLog = Date.now()
  for (;;) {
    const n = await resultCount(ctx.kafka, topic)
    if (n >= expected) return
    if (child.process.exitCode !== null)
      throw new Error(`${what}: the process exited (${child.process.exitCode})`)
    if (Date.now() > deadline)
      throw new Error(`${what}: ${n} of ${expected} results after ${ctx.options.runTimeoutMs} ms`)
    if (n !== last && Date.now() - lastLog > 10_000) {
      ctx.options.log(`bench: ${what}: ${n}/${expected} results`)
      lastLog = Date.now()
    }
    last = n
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** Pid of the local stack's Kafka broker (scripts/stack's pid file), or undefined when not ours/running. */
function brokerPid(): number | undefined {
  try {
    const dir = process.env.STACK_DIR ?? `${root}.stack`
    const pid = Number(readFileSync(`${dir}/run/kafka.pid`, 'utf8').trim())
    if (!Number.isInteger(pid) || pid <= 0) return undefined
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('file-import-bridge.stack')) return undefined
    return pid
  } catch {
    return undefined
  }
}

/** CPU seconds of `pid` so far, or undefined without a pid / when it is gone. */
function cpuOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    return cpuSeconds(pid)
  } catch {
    return undefined
  }
}

/** Starts counting the CPU of the emulator and the broker; the returned function gives s/10k events. */
function otherCpu(
  emulatorPid: number | undefined,
): (events: number) => RunFigures['otherCpuSecondsPer10kEvents'] {
  const broker = brokerPid()
  const emuAt = cpuOf(emulatorPid)
  const brokerAt = cpuOf(broker)
  return (events) => {
    const per10k = (now: number | undefined, at: number | undefined) =>
      now === undefined || at === undefined ? undefined : ((now - at) * 10_000) / Math.max(1, events)
    const out: { emulator?: number; broker?: number } = {}
    const e = per10k(cpuOf(emulatorPid), emuAt)
    const b = per10k(cpuOf(broker), brokerAt)
    if (e !== undefined) out.emulator = e
    if (b !== undefined) out.broker = b
    return out
  }
}

async function runBaseline(
  ctx: Ctx,
  input: string,
  events: number,
  suffix = '',
  profile = true,
): Promise<RunFigures> {
  const resultTopic = `${ctx.runId}.results-baseline${suffix}`
  await ensureTopics(ctx.kafka, [{ topic: resultTopic, numPartitions: ctx.options.partitions }])
  ctx.options.log(`bench: baseline${suffix} (bare kafkajs consumer, Avro in and out)`)
  const profileFlags =
    ctx.options.cpuProfDir === undefined || !profile
      ? []
      : ['--cpu-prof', `--cpu-prof-dir=${ctx.options.cpuProfDir}/baseline`]
  const child = spawnNode(
    'baseline',
    [
      ...profileFlags,
      'scripts/bench/baseline.ts',
      '--brokers',
      ctx.kafkaEnv.brokers,
      '--registry',
      ctx.kafkaEnv.registryUrl,
      '--topic',
      input,
      '--result-topic',
      resultTopic,
      '--group',
      `${ctx.runId}-baseline${suffix}`,
      '--events',
      String(events),
      '--partitioner',
      ctx.options.baselinePartitioner,
    ],
    { cwd: root, env: process.env, logPath: `${ctx.logDir}/${ctx.runId}-baseline${suffix}.log` },
  )
  ctx.cleanups.push(() => child.stop(2000))
  const joined = await child.waitForLine((l) => {
    const j = jsonLine(l)
    return j?.event === 'joined' ? (j.at as number) : undefined
  }, 120_000)
  const cpuAtJoin = cpuSeconds(child.pid)
  const others = otherCpu(undefined)
  const progress = sampleProgress(ctx, resultTopic, child.pid, cpuAtJoin)
  const done = await child.waitForLine((l) => {
    const j = jsonLine(l)
    return j?.event === 'done' ? (j as unknown as { latencyMs: RunFigures['latencyMs'] }) : undefined
  }, ctx.options.runTimeoutMs)
  const cpu = cpuSeconds(child.pid) - cpuAtJoin
  await progress.stop()
  const rss = peakRssBytes(child.pid)
  await child.stop()
  const otherCpuSecondsPer10kEvents = others(events)
  const read = await readResults(ctx.kafka, resultTopic, events)
  return {
    ...figures(
      `baseline${suffix}`,
      events,
      joined,
      read,
      done.latencyMs,
      'exact, consume to send acknowledged',
      rss,
      cpu,
    ),
    ...warmFigures(progress.samples, events, cpu),
    otherCpuSecondsPer10kEvents,
  }
}

/** The run's progress samples and its warm CPU per event (see {@link warmCpuPer10k}). */
function warmFigures(samples: ProgressSample[], events: number, cpu: number) {
  const warm = warmCpuPer10k(samples, events, cpu)
  return { progress: samples, ...(warm === undefined ? {} : { warmCpuSecondsPer10kEvents: warm }) }
}

function figures(
  mode: string,
  events: number,
  startMs: number,
  read: { count: number; distinct: number; lastTs: number },
  latencyMs: RunFigures['latencyMs'],
  latencySource: string,
  rss: number,
  cpu: number,
): RunFigures {
  const durationMs = Math.max(1, read.lastTs - startMs)
  return {
    mode,
    events,
    results: read.count,
    distinctResults: read.distinct,
    durationMs,
    eventsPerSecond: (Math.min(read.count, events) * 1000) / durationMs,
    latencyMs,
    latencySource,
    peakRssBytes: rss,
    cpuSeconds: cpu,
    cpuSecondsPer10kEvents: (cpu * 10_000) / Math.max(1, events),
  }
}

interface BridgeRun {
  mode: string
  input: string
  events: number
  emulator: Emulator
  env: Record<string, string>
  cpuProf?: string | undefined
  webhooks?: boolean
  /** Backlog run: stop after this long even when not drained. */
  maxMs?: number
  /**
   * NODE_OPTIONS of this run instead of the bench's `bridgeNodeOptions` ('' = none); when set, the run
   * also goes without `bridgeNodeFlags`.
   */
  nodeOptions?: string
  /** Do not read the results back (large backlog runs). */
  skipRead?: boolean
}

async function runBridge(ctx: Ctx, run: BridgeRun): Promise<RunFigures & { drained: boolean }> {
  const resultTopic = `${ctx.runId}.results-${run.mode}`
  const httpPort = await freePort()
  const metricsPort = await freePort()
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    KAFKA_BROKERS: ctx.kafkaEnv.brokers,
    SCHEMA_REGISTRY_URL: ctx.kafkaEnv.registryUrl,
    KAFKA_GROUP_ID: `${ctx.runId}-${run.mode}`,
    INPUT_TOPIC: run.input,
    RESULT_TOPIC: resultTopic,
    DLQ_TOPIC: `${ctx.runId}.dlq`,
    CREATE_MISSING_TOPICS: 'true',
    CREATED_TOPIC_PARTITIONS: String(ctx.options.partitions),
    LIVINGDOCS_BASE_URL: run.emulator.url,
    LIVINGDOCS_API_VERSION: run.emulator.apiVersion,
    LIVINGDOCS_ACCESS_TOKEN: run.emulator.token,
    DEFAULT_SYSTEM_NAME: BENCH_SYSTEM_NAME,
    WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    WEBHOOK_SECRET: 'bench-webhook-secret-0123456789abcdef',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    METRICS_PORT: String(metricsPort),
    BATCH_MAX_FILES: String(ctx.options.batchMaxFiles),
    MAX_FILES_IN_FLIGHT: String(ctx.options.maxFilesInFlight),
    SHUTDOWN_GRACE_MS: '2000',
    LOG_LEVEL: 'info',
    ...ctx.options.bridgeEnv,
    ...run.env,
  }
  if (run.webhooks === false) delete env.WEBHOOK_PUBLIC_URL
  const nodeOptions = run.nodeOptions ?? ctx.options.bridgeNodeOptions
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions
  const args = ['src/main.ts']
  if (run.nodeOptions === undefined) args.unshift(...(ctx.options.bridgeNodeFlags ?? []))
  if (run.cpuProf !== undefined) args.unshift('--cpu-prof', `--cpu-prof-dir=${run.cpuProf}`)
  const requestsBefore = await run.emulator.requests()
  const child = spawnNode(`bridge-${run.mode}`, args, {
    cwd: root,
    env,
    logPath: `${ctx.logDir}/${ctx.runId}-bridge-${run.mode}.log`,
  })
  ctx.cleanups.push(() => child.stop(2000))
  const joinedAt = await child.waitForLine((l) => {
    const j = jsonLine(l)
    return j?.msg === 'joined consumer group' ? (j.time as number) : undefined
  }, 120_000)
  const cpuAtJoin = cpuSeconds(child.pid)
  const others = otherCpu(run.emulator.child.pid)
  let drained = true
  const expected = run.events
  // Memory breakdown from the bridge's own process metrics (prom-client defaults), every 5 s.
  const memory = { heapUsedMaxBytes: 0, externalMaxBytes: 0, heapTotalMaxBytes: 0 }
  const sampleMemory = async () => {
    try {
      const m = parseMetrics(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())
      memory.heapUsedMaxBytes = Math.max(memory.heapUsedMaxBytes, sumOf(m, 'nodejs_heap_size_used_bytes'))
      memory.heapTotalMaxBytes = Math.max(memory.heapTotalMaxBytes, sumOf(m, 'nodejs_heap_size_total_bytes'))
      memory.externalMaxBytes = Math.max(memory.externalMaxBytes, sumOf(m, 'nodejs_external_memory_bytes'))
    } catch {
      // the bridge is stopping; the last sample stands
    }
  }
  const sampler = setInterval(() => void sampleMemory(), 5000)
  const progress = sampleProgress(ctx, resultTopic, child.pid, cpuAtJoin)
  if (run.maxMs === undefined) {
    await waitForResults(ctx, resultTopic, expected, child, run.mode)
  } else {
    const deadline = Date.now() + run.maxMs
    while ((await resultCount(ctx.kafka, resultTopic)) < expected) {
      if (Date.now() > deadline) {
        drained = false
        break
      }
      await new Promise((r) => setTimeout(r, 1000))
    }
  }
  clearInterval(sampler)
  await sampleMemory()
  const metrics = parseMetrics(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())
  const cpu = cpuSeconds(child.pid) - cpuAtJoin
  await progress.stop()
  const otherCpuAtEnd = others(1)
  const rss = peakRssBytes(child.pid)
  const endedAt = Date.now()
  await child.stop()
  const requestsAfter = await run.emulator.requests()
  const apiRequests = diffRequests(requestsBefore, requestsAfter)
  const requestTotal = Object.values(apiRequests).reduce(
    (sum, byStatus) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0),
    0,
  )
  const read = run.skipRead
    ? { count: await resultCount(ctx.kafka, resultTopic), distinct: 0, firstTs: joinedAt, lastTs: endedAt }
    : await readResults(ctx.kafka, resultTopic, expected)
  const processed = Math.min(read.count, expected)
  const batches = sumOf(metrics, 'bridge_batch_size_files_count')
  const filesPerBatch = batches === 0 ? 0 : sumOf(metrics, 'bridge_batch_size_files_sum') / batches
  const latency = histogramPercentiles(metrics, 'bridge_event_to_result_seconds')
  const f = figures(
    run.mode,
    run.skipRead ? processed : expected,
    joinedAt,
    read,
    { p50: latency.p50 * 1000, p95: latency.p95 * 1000, p99: latency.p99 * 1000 },
    'bridge_event_to_result_seconds histogram (consume to result published), interpolated in its buckets',
    rss,
    cpu,
  )
  if (run.skipRead) f.cpuSecondsPer10kEvents = (cpu * 10_000) / Math.max(1, processed)
  const per10k = (v: number | undefined) => (v === undefined ? undefined : v / Math.max(1, f.events))
  const otherCpuSecondsPer10kEvents: { emulator?: number; broker?: number } = {}
  const emuCpu = per10k(otherCpuAtEnd?.emulator)
  const brokerCpu = per10k(otherCpuAtEnd?.broker)
  if (emuCpu !== undefined) otherCpuSecondsPer10kEvents.emulator = emuCpu
  if (brokerCpu !== undefined) otherCpuSecondsPer10kEvents.broker = brokerCpu
  return {
    ...f,
    ...(run.skipRead ? {} : warmFigures(progress.samples, f.events, cpu)),
    otherCpuSecondsPer10kEvents,
    apiRequestsPerFile: requestTotal / Math.max(1, processed),
    apiRequests,
    filesPerBatch,
    batchFill: filesPerBatch / ctx.options.batchMaxFiles,
    maxJobsInFlight: Number(env.MAX_JOBS_IN_FLIGHT ?? 10),
    memory,
    drained,
  }
}

function diffRequests(
  before: Record<string, Record<string, number>>,
  after: Record<string, Record<string, number>>,
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {}
  for (const [endpoint, byStatus] of Object.entries(after)) {
    for (const [status, n] of Object.entries(byStatus)) {
      const d = n - (before[endpoint]?.[status] ?? 0)
      if (d > 0) out[endpoint] = { ...out[endpoint], [status]: d }
    }
  }
  return out
}

/**
 * The instant run again (same settings, V8's default heap sizing) with `MAPPING_FILE` set to the
 * example mapping of docs/mapping.md, over `events` Avro events of the legacy DAM shape it maps; the emulator
 * knows the mediaTypes `file` and `image` it gives. Every event passes the filter, so each gets a result.
 */
async function runMapping(ctx: Ctx): Promise<RunFigures> {
  const o = ctx.options
  const input = `${ctx.runId}.dam-input`
  o.log(`bench: mapping: producing ${o.events} legacy DAM events to ${input}`)
  await produceBenchEvents(ctx.kafka, {
    topic: input,
    partitions: o.partitions,
    count: o.events,
    runId: `${ctx.runId}-dam`,
    schemaRegistryUrl: ctx.kafkaEnv.registryUrl,
    shape: 'dam',
  })
  const mappingFile = `${ctx.logDir}/${ctx.runId}-mapping.yaml`
  await writeFile(mappingFile, `${readmeMappingExample().mapping}\n`)
  const emulator = await startEmulator(ctx, 'emulator-mapping', ['--media-types', '{"file":{},"image":{}}'])
  try {
    const { drained: _d, ...figures } = await runBridge(ctx, {
      mode: 'instant-mapping',
      input,
      events: o.events,
      emulator,
      env: { MAX_JOBS_IN_FLIGHT: String(o.instantJobs), MAPPING_FILE: mappingFile },
      nodeOptions: '',
    })
    return figures
  } finally {
    await emulator.child.stop()
  }
}

async function runSlowSweep(ctx: Ctx): Promise<RunFigures[]> {
  const o = ctx.options
  const perStep = o.slowSteps.map((jobs) => Math.max(2 * o.batchMaxFiles, jobs * o.slowEventsPerJob))
  const input = `${ctx.runId}.slow-input`
  const max = Math.max(...perStep)
  o.log(`bench: slow mode: producing ${max} events to ${input}; jobs take ${o.slowJobMs} ms`)
  await produceBenchEvents(ctx.kafka, {
    topic: input,
    partitions: o.partitions,
    count: max,
    runId: `${ctx.runId}-slow`,
    schemaRegistryUrl: ctx.kafkaEnv.registryUrl,
  })
  const args = ['--job-duration-ms', String(o.slowJobMs)]
  if (o.rateLimitRps > 0) args.push('--rate-limit-rps', String(o.rateLimitRps))
  const emulator = await startEmulator(ctx, 'emulator-slow', args)
  const steps: RunFigures[] = []
  try {
    for (const [i, jobs] of o.slowSteps.entries()) {
      const events = perStep[i] as number
      o.log(`bench: slow mode, MAX_JOBS_IN_FLIGHT=${jobs}: ${events} events`)
      const { drained: _d, ...step }: RunFigures & { drained?: boolean } = await runBridge(ctx, {
        mode: `slow-${jobs}`,
        input,
        events,
        emulator,
        env: {
          MAX_JOBS_IN_FLIGHT: String(jobs),
          ...(o.clientRps ? { API_RATE_LIMIT_PER_SECOND: String(o.clientRps) } : {}),
        },
      })
      step.capacityFilesPerSecond = slowCapacity(jobs, step.filesPerBatch ?? 0, o.slowJobMs, [
        o.clientRps ?? 0,
        o.rateLimitRps,
      ])
      step.utilisation = step.eventsPerSecond / step.capacityFilesPerSecond
      steps.push(step)
    }
  } finally {
    await emulator.child.stop()
  }
  return steps
}

/**
 * The backlog run with the bench's NODE_OPTIONS, and when there are some, once more without them (V8's
 * default heap sizing) on the same input with a fresh group.
 */
async function runBacklog(ctx: Ctx): Promise<Array<RunFigures & { drained: boolean }>> {
  const o = ctx.options
  const input = `${ctx.runId}.backlog`
  o.log(`bench: backlog: producing ${o.backlogEvents} events to ${input}`)
  await produceBenchEvents(ctx.kafka, {
    topic: input,
    partitions: o.partitions,
    count: o.backlogEvents,
    runId: `${ctx.runId}-backlog`,
    schemaRegistryUrl: ctx.kafkaEnv.registryUrl,
    onProgress: (n) => {
      if (n % 100_000 === 0) o.log(`bench: backlog: ${n} produced`)
    },
  })
  const emulator = await startEmulator(ctx, 'emulator-backlog', [])
  try {
    o.log(`bench: backlog: bridge against ${o.backlogEvents} events for at most ${o.backlogMs} ms`)
    const run = { input, events: o.backlogEvents, emulator, maxMs: o.backlogMs, skipRead: true }
    const env = { MAX_JOBS_IN_FLIGHT: String(o.instantJobs) }
    const runs = [await runBridge(ctx, { ...run, mode: 'backlog', env })]
    if (o.bridgeNodeOptions) {
      o.log('bench: backlog: once more with V8 default heap sizing (no NODE_OPTIONS)')
      runs.push(await runBridge(ctx, { ...run, mode: 'backlog-v8-defaults', env, nodeOptions: '' }))
    }
    return runs
  } finally {
    await emulator.child.stop()
  }
}

const MB = 1024 * 1024

/** The issue-17 targets (docs/benchmark.md): CPU ratio, batch fill, peak RSS, slow utilisation. */
export const TARGETS = { cpuRatio: 2.0, batchFill: 0.95, peakRssBytes: 300 * 1024 * 1024, utilisation: 0.95 }

function targets(r: BenchReport): BenchReport['targets'] {
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

function summary(r: BenchReport): string {
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
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)))
  const line = (c: string[]) =>
    c.map((v, i) => (i === 0 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ')
  const out = [line(head), ...cells.map(line), '']
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
