/** The bench's modes (`--modes`) and its settings (the CLI's flags, scripts/bench/bench.ts). */

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
