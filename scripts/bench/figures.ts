/**
 * The figures of one run (baseline or bridge) as the report holds them, and the arithmetic that makes
 * them from what a run measured: throughput, CPU per 10k events (also once warm), and the ratios to
 * the baseline.
 */

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
   * {@link REQUESTS_PER_JOB} (modes.ts).
   */
  capacityFilesPerSecond?: number
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

/** The run's progress samples and its warm CPU per event (see {@link warmCpuPer10k}). */
export function warmFigures(samples: ProgressSample[], events: number, cpu: number) {
  const warm = warmCpuPer10k(samples, events, cpu)
  return { progress: samples, ...(warm === undefined ? {} : { warmCpuSecondsPer10kEvents: warm }) }
}

/**
 * A run's figures from its measurements: `startMs` (the group join, ms since the epoch) to the
 * timestamp of the last counted result (`read.lastTs`) is its duration; `rss` in bytes, `cpu` in seconds.
 */
export function figures(
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

/** Sets `run`'s throughput and CPU ratios to the baseline's figures of the same bench run. */
export function compareToBaseline(run: RunFigures, baseline: RunFigures): void {
  run.ratioToBaseline = run.eventsPerSecond / baseline.eventsPerSecond
  run.cpuRatioToBaseline = run.cpuSecondsPer10kEvents / baseline.cpuSecondsPer10kEvents
}
