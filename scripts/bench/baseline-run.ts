/**
 * The baseline run: a bare kafkajs consumer (scripts/bench/baseline.ts) started as a child process,
 * Avro in and Avro out, measured as the bridge is (CPU and peak RSS from /proc, progress samples, the
 * results read back).
 */
import { ensureTopics } from '../../src/kafka/topics.ts'
import { type BenchContext, root } from './context.ts'
import { figures, type RunFigures, warmFigures } from './figures.ts'
import { otherCpu, readResults, sampleProgress } from './measure.ts'
import { cpuSeconds, jsonLine, peakRssBytes, spawnNode } from './proc.ts'
import { cpuProfFlags } from './profile.ts'

/**
 * The baseline (scripts/bench/baseline.ts) as a child process over `events` events of `input`, with a
 * result topic and consumer group of its own (`suffix`: the round's, e.g. `-2`); `profile`: with a CPU
 * profile when the bench takes some. Its latency is exact per event, measured by the baseline itself.
 * @throws Error when it does not join within 120 s or finish within the bench's `runTimeoutMs`
 */
export async function runBaseline(
  ctx: BenchContext,
  input: string,
  events: number,
  suffix = '',
  profile = true,
): Promise<RunFigures> {
  const resultTopic = `${ctx.runId}.results-baseline${suffix}`
  await ensureTopics(ctx.kafka, [{ topic: resultTopic, numPartitions: ctx.options.partitions }])
  ctx.options.log(`bench: baseline${suffix} (bare kafkajs consumer, Avro in and out)`)
  const profileFlags = profile ? cpuProfFlags(ctx.options.cpuProfDir, 'baseline') : []
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
