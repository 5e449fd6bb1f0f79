/**
 * `npm run bench`: throughput, latency and memory of the bridge against a bare kafkajs baseline, on the
 * local stack (or KAFKA_BROKERS / SCHEMA_REGISTRY_URL). See docs/benchmark.md and run.ts.
 *
 *   npm run bench -- [--events 200000] [--slow-steps 1,2,4,8,16] [--backlog-events 1000000] ...
 *
 * Prints a table, writes bench-results/<ISO time>.json, and ends with a line starting `bench:`.
 * Exit code 0 when every run completed (targets are reported, not enforced), 1 when a run failed.
 */
import { parseArgs } from 'node:util'
import { projectImageNodeFlags, projectImageNodeOptions } from './image.ts'
import { BENCH_MODES, type BenchMode } from './options.ts'
import { formatTable } from './report.ts'
import { runBench } from './run.ts'

/**
 * NODE_OPTIONS the Helm chart gives the bridge at its default memory limit of 512Mi (the helper
 * fib.nodeOptions in helm/file-import-bridge/templates/_helpers.tpl: old space at half the limit,
 * semi-spaces at 1/32 of it, at most 16 MB), read from the Dockerfile's NODE_OPTIONS, which
 * scripts/check-deploy keeps equal to the chart's.
 */
const CHART_NODE_OPTIONS = projectImageNodeOptions()
/** The node flags of the image's CMD (Dockerfile), e.g. --heap-growing-percent=100. */
const IMAGE_NODE_FLAGS = projectImageNodeFlags()

const usage = `usage: npm run bench -- [options]

  --events N              events of the baseline and instant runs (default 200000)
  --rounds N              rounds of the baseline and instant runs, alternating, each instant run with an
                          emulator of its own; cpuRatio is the median round's (default 3: one run's
                          ratio moves by about 10% from run to run)
  --modes LIST            baseline,instant,slow,mapping (default baseline,instant,slow; instant includes
                          instant-node-options; mapping: the instant run once more with the example
                          mapping of docs/mapping.md (MAPPING_FILE) over as many events of the legacy DAM
                          shape it maps, its row instant-mapping: compare its cpu s/10k with instant's)
  --partitions N          partitions of the bench topics (default 3)
  --batch-max-files N     BATCH_MAX_FILES of the bridge (default 100)
  --instant-jobs N        MAX_JOBS_IN_FLIGHT of the instant and backlog runs (default 10)
  --max-files-in-flight N MAX_FILES_IN_FLIGHT of every bridge run (default 10000)
  --slow-steps LIST       MAX_JOBS_IN_FLIGHT per slow step (default 1,2,4,8,16)
  --slow-events-per-job N events per slow step = N x MAX_JOBS_IN_FLIGHT (default 1200: 12 rounds of jobs)
  --slow-job-ms MS        how long each slow job runs in the emulator (default 2000)
  --client-rps N          the bridge's API_RATE_LIMIT_PER_SECOND in the slow mode (default 10; 0 = none)
  --rate-limit-rps N      the emulator's rate limit in the slow mode, 429 over it (default 0 = none)
  --backlog-events N      also run the bridge against a backlog of N events for its peak RSS (default 0 = off)
  --backlog-seconds S     longest the backlog run lasts (default 120)
  --bridge-env LIST       more environment of every bridge run, KEY=VALUE,KEY=VALUE (shown in the report)
  --bridge-node-options S NODE_OPTIONS of the bridge processes (default: what the Helm chart sets at its
                          default 512Mi limit, "${CHART_NODE_OPTIONS}"; empty (--bridge-node-options=) = none,
                          V8's own sizing). The instant run always uses none, as the baseline; with some,
                          instant-node-options runs with them and the backlog run is repeated without them
  --bridge-node-flags S   node command-line flags of the runs that use --bridge-node-options (instant-node-
                          options, slow, backlog; also when that is empty) (default: the image's, from the
                          Dockerfile's CMD, "${IMAGE_NODE_FLAGS.join(' ')}"; empty = none)
  --baseline-partitioner kafkajs|bridge
                          partitioner of the baseline's producer (default kafkajs: bare kafkajs; bridge:
                          the bridge's, the same partitions with a faster hash)
  --cpu-prof DIR          write V8 CPU profiles of the instant-mode bridge into DIR, of its emulator
                          into DIR/emulator and of the baseline into DIR/baseline
  --out DIR               where the JSON report and logs go (default bench-results)
  --run-timeout-ms MS     longest one run may take (default 600000)
  -h, --help`

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    modes: { type: 'string', default: 'baseline,instant,slow' },
    partitions: { type: 'string', default: '3' },
    'batch-max-files': { type: 'string', default: '100' },
    'instant-jobs': { type: 'string', default: '10' },
    'max-files-in-flight': { type: 'string', default: '10000' },
    'slow-steps': { type: 'string', default: '1,2,4,8,16' },
    'slow-events-per-job': { type: 'string', default: '1200' },
    'slow-job-ms': { type: 'string', default: '2000' },
    'rate-limit-rps': { type: 'string', default: '0' },
    'client-rps': { type: 'string', default: '10' },
    'backlog-events': { type: 'string', default: '0' },
    'backlog-seconds': { type: 'string', default: '120' },
    'cpu-prof': { type: 'string' },
    'baseline-partitioner': { type: 'string', default: 'kafkajs' },
    'bridge-node-options': { type: 'string' },
    'bridge-node-flags': { type: 'string' },
    'bridge-env': { type: 'string' },
    out: { type: 'string', default: 'bench-results' },
    'run-timeout-ms': { type: 'string', default: '600000' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  process.stdout.write(`${usage}\n`)
  process.exit(0)
}
const int = (name: string, v: string, min = 0): number => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`bench: --${name} needs an integer >= ${min}, got "${v}"\n${usage}\n`)
    process.exit(2)
  }
  return n
}
const modes = values.modes.split(',').map((m) => m.trim())
for (const m of modes) {
  if (!(BENCH_MODES as readonly string[]).includes(m)) {
    process.stderr.write(`bench: unknown mode "${m}"\n${usage}\n`)
    process.exit(2)
  }
}

try {
  const { report, path } = await runBench({
    events: int('events', values.events, 1),
    rounds: int('rounds', values.rounds, 1),
    modes: modes as BenchMode[],
    partitions: int('partitions', values.partitions, 1),
    batchMaxFiles: int('batch-max-files', values['batch-max-files'], 1),
    instantJobs: int('instant-jobs', values['instant-jobs'], 1),
    maxFilesInFlight: int('max-files-in-flight', values['max-files-in-flight'], 1),
    slowSteps: values['slow-steps'].split(',').map((s) => int('slow-steps', s.trim(), 1)),
    slowEventsPerJob: int('slow-events-per-job', values['slow-events-per-job'], 1),
    slowJobMs: int('slow-job-ms', values['slow-job-ms']),
    rateLimitRps: int('rate-limit-rps', values['rate-limit-rps']),
    clientRps: int('client-rps', values['client-rps']),
    backlogEvents: int('backlog-events', values['backlog-events']),
    backlogMs: int('backlog-seconds', values['backlog-seconds'], 1) * 1000,
    cpuProfDir: values['cpu-prof'],
    baselinePartitioner: values['baseline-partitioner'] === 'bridge' ? 'bridge' : 'kafkajs',
    bridgeEnv: Object.fromEntries(
      (values['bridge-env'] ?? '')
        .split(',')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()]),
    ),
    bridgeNodeOptions: values['bridge-node-options'] ?? CHART_NODE_OPTIONS,
    bridgeNodeFlags: values['bridge-node-flags']?.split(/\s+/).filter(Boolean) ?? IMAGE_NODE_FLAGS,
    outDir: values.out,
    runTimeoutMs: int('run-timeout-ms', values['run-timeout-ms'], 1000),
    log: (line) => process.stderr.write(`${line}\n`),
  })
  process.stdout.write(`\n${formatTable(report)}\n\nreport: ${path}\n${report.summary}\n`)
} catch (err) {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.stdout.write(`bench: failed: ${(err as Error).message}\n`)
  process.exitCode = 1
}
