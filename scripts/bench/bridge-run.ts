/**
 * A bridge run: the bridge (`node src/main.ts`) as a child process with its own consumer group and
 * result topic, against the emulator as a child process (started here; the modes decide which runs
 * share one), measured from the group join to its last expected result.
 */
import { freePort } from '../../test/support/free-port.ts'
import { type BenchContext, root } from './context.ts'
import { BENCH_SYSTEM_NAME } from './data.ts'
import { figures, type RunFigures, warmFigures } from './figures.ts'
import { otherCpu, readResults, resultCount, sampleProgress, waitForResults } from './measure.ts'
import { type Child, cpuSeconds, jsonLine, peakRssBytes, spawnNode } from './proc.ts'
import { cpuProfFlags } from './profile.ts'
import { histogramPercentiles, parseMetrics, sumOf } from './stats.ts'

/** An emulator child process (scripts/bench/emulator.ts) and how to reach it. */
export interface Emulator {
  child: Child
  url: string
  apiVersion: string
  token: string
  /** Cumulative request counts of the emulator, by endpoint label and status. */
  requests(): Promise<Record<string, Record<string, number>>>
}

/**
 * Starts the Livingdocs emulator as a child process named `name` (its log `<runId>-<name>.log`) with
 * the emulator's `args` and the Node.js flags `nodeArgs`; stopped by the bench's cleanups at the latest.
 * @throws Error when it does not listen within 30 s
 */
export async function startEmulator(
  ctx: BenchContext,
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

/** One bridge run: its mode (names its result topic, group and log), input and settings. */
export interface BridgeRun {
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

/**
 * The bridge (`node src/main.ts`) as a child process against `run.emulator`, until it has published
 * `run.events` results (or, with `run.maxMs`, until then at the most: `drained` false), measured: CPU
 * and peak RSS from /proc, memory and latency from its /metrics, API requests from the emulator.
 * @throws Error when it does not join within 120 s, exits, or misses the bench's `runTimeoutMs`
 */
export async function runBridge(
  ctx: BenchContext,
  run: BridgeRun,
): Promise<RunFigures & { drained: boolean }> {
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
  if (run.cpuProf !== undefined) args.unshift(...cpuProfFlags(run.cpuProf))
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

/** Request counts of `after` less those of `before`, by endpoint and status; zero counts left out. */
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
