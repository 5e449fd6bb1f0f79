/**
 * The bench's bridge modes besides the baseline: instant (one run per round, and one with the bench's
 * NODE_OPTIONS), mapping (instant with the example mapping of docs/mapping.md over legacy DAM events),
 * slow (a sweep over MAX_JOBS_IN_FLIGHT with the capacity the slow API allows) and backlog (peak RSS).
 */
import { writeFile } from 'node:fs/promises'
import { readmeMappingExample } from '../../test/support/mapping-example.ts'
import { type BridgeRun, runBridge, startEmulator } from './bridge-run.ts'
import type { BenchContext } from './context.ts'
import { produceBenchEvents } from './data.ts'
import type { RunFigures } from './figures.ts'
import { cpuProfFlags } from './profile.ts'

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

/**
 * One instant-mode bridge run over `ctx.options.events` events of `input`, with an emulator of its own
 * (instant jobs, webhooks on); `profile`: the first round's, with CPU profiles when the bench takes
 * some (--cpu-prof).
 */
export async function runInstant(
  ctx: BenchContext,
  input: string,
  name: string,
  run: Omit<BridgeRun, 'emulator' | 'input' | 'events' | 'env' | 'cpuProf'>,
  profile = false,
): Promise<RunFigures & { drained: boolean }> {
  const options = ctx.options
  options.log(`bench: ${name} (the bridge against an emulator of instant jobs)`)
  // A fresh emulator per run: each imports the input anew (a second run against the same emulator
  // would get every file back SKIPPED as a re-import, §10, a different workload).
  const emulator = await startEmulator(
    ctx,
    `emulator-${name}`,
    [],
    profile ? cpuProfFlags(options.cpuProfDir, 'emulator') : [],
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

/**
 * The instant run again (same settings, V8's default heap sizing) with `MAPPING_FILE` set to the
 * example mapping of docs/mapping.md, over `events` Avro events of the legacy DAM shape it maps; the emulator
 * knows the mediaTypes `file` and `image` it gives. Every event passes the filter, so each gets a result.
 */
export async function runMapping(ctx: BenchContext): Promise<RunFigures> {
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

/**
 * The slow mode: one bridge run per MAX_JOBS_IN_FLIGHT step against one emulator of slow jobs
 * (`slowJobMs`, the emulator's rate limit), each over its share of one input topic, with its
 * utilisation of the capacity {@link slowCapacity} gives.
 */
export async function runSlowSweep(ctx: BenchContext): Promise<RunFigures[]> {
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
export async function runBacklog(ctx: BenchContext): Promise<Array<RunFigures & { drained: boolean }>> {
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
