/**
 * Measuring a run while it goes and after it: its progress every ~200 ms (results so far, CPU seconds),
 * the result count from a topic's offsets, the results read back once at the end, waiting for a run's
 * results, and the CPU the other processes on the machine (the emulator, the local broker) spent.
 */
import { readFileSync } from 'node:fs'
import type { Admin, Kafka as KafkaJs } from 'kafkajs'
import type { Kafka } from '../../src/kafka/client.ts'
import { type BenchContext, root } from './context.ts'
import type { ProgressSample, RunFigures } from './figures.ts'
import { type Child, cpuSeconds } from './proc.ts'

/**
 * Samples a run's progress every ~200 ms until `stop()`: the result count of `topic` (its end offsets)
 * and `pid`'s CPU seconds less `cpuAtJoin`.
 */
export function sampleProgress(ctx: BenchContext, topic: string, pid: number, cpuAtJoin: number) {
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

/** Records on `topic` from its offsets (cheap) over a connected admin. @throws kafkajs' error */
async function recordsOn(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic)
  return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0)
}

/** Result records of a topic: count (from offsets, cheap); 0 while the topic is not there. */
export async function resultCount(kafka: Kafka, topic: string): Promise<number> {
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
export async function readResults(
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

/**
 * Waits until `topic` holds `expected` results, logging progress every 10 s or more.
 * @throws Error when `child` exits first or after the bench's `runTimeoutMs`
 */
export async function waitForResults(
  ctx: BenchContext,
  topic: string,
  expected: number,
  child: Child,
  what: string,
) {
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
export function otherCpu(
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
