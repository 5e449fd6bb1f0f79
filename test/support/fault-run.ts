import type { Kafka } from '../../src/kafka/client.ts'
import { isFailureNotOfTheFile } from '../../src/model/failure-reasons.ts'
import type { FileImportResult } from '../../src/outcome/outcome-event.ts'
import {
  bridgeEnv,
  countStates,
  createTopics,
  type E2eWorld,
  fetchCommitted,
  readCommitted,
  readDlq,
  type Topics,
  waitUntil,
} from './e2e-world.ts'
import type { RunningLivingdocsEmulator } from './livingdocs-emulator/index.ts'
import type { ReadRecord, TopicReader } from './result-reader.ts'

/** Topics, readers of the result topic and the DLQ, and the bridge settings of one fault run. */
export interface FaultRun {
  topics: Topics
  results: TopicReader<FileImportResult>
  dlq: TopicReader<Buffer | null>
  /** The bridge's environment for these topics, this consumer group and `emulator`. */
  env: Record<string, string>
}

/**
 * Creates fresh topics (input with `partitions` partitions), starts readers of the result topic and
 * the DLQ (stopped by `world.close()`), and builds the bridge settings for them.
 */
export async function createFaultRun(
  world: E2eWorld,
  prefix: string,
  emulator: RunningLivingdocsEmulator,
  partitions = 3,
): Promise<FaultRun> {
  const { topics, results } = await createTopics(world, prefix, partitions)
  const dlq = await readDlq(world, topics)
  return { topics, results, dlq, env: bridgeEnv(world, emulator, topics) }
}

/** `partition:offset` of the input record a result event answers. */
export function sourceOf(r: ReadRecord<FileImportResult>): string {
  return `${r.value.sourcePartition}:${r.value.sourceOffset}`
}

/**
 * FAILED results whose cause was not the file: the reasons the bridge itself gave for a job (failed as a
 * whole, lost, timed out, no result listed; `isFailureNotOfTheFile`), not Livingdocs' per-file reasons
 * nor a rejection of the file's own data.
 */
export function failedForUs(results: ReadonlyArray<Pick<FileImportResult, 'state' | 'reason'>>): number {
  return results.filter((r) => r.state === 'FAILED' && isFailureNotOfTheFile(r.reason)).length
}

/** The figures of a fault run, as the issue asks them to be reported. */
export interface FaultFigures {
  run: string
  sent: number
  results: number
  /** Input records with at least one result event. */
  answered: number
  /** Result events beyond the first per input record. */
  duplicates: number
  dlq: number
  /** FAILED results whose cause was not the file (see {@link failedForUs}). */
  failedForUs: number
}

/**
 * Counts a run's figures and logs them as one line, `fault-run <name>: sent=… results=… answered=…
 * duplicates=… dlq=… failedForUs=…`, for the issue's report.
 */
export function logFaultFigures(run: string, sent: number, fault: FaultRun): FaultFigures {
  const answered = new Set(fault.results.records.map(sourceOf)).size
  const figures = {
    run,
    sent,
    results: fault.results.records.length,
    answered,
    duplicates: fault.results.records.length - answered,
    dlq: fault.dlq.records.length,
    failedForUs: failedForUs(fault.results.records.map((r) => r.value)),
  }
  console.info(
    `fault-run ${run}: sent=${sent} results=${figures.results} answered=${answered} duplicates=${figures.duplicates} dlq=${figures.dlq} failedForUs=${figures.failedForUs}`,
  )
  return figures
}

/**
 * Counts what a run of a scenario produced (result events, duplicates by source offset, DLQ records (the
 * DLQ topic's log-end offsets), FAILED results whose cause was not the file, the states), prints one
 * `fault-run <name>: sent=… results=… duplicates=… dlq=… failedForUs=… SUCCESS=… SKIPPED=… FAILED=…`
 * line with `extra` appended, and returns the figures.
 */
export async function reportFaultRun(
  world: E2eWorld,
  name: string,
  scenario: { topics: Topics; results: TopicReader<FileImportResult> },
  sent: number,
  extra: Record<string, number> = {},
): Promise<Record<string, number>> {
  // Every record the DLQ holds: its log-end offsets (one idempotent, non-transactional producer writes
  // it, so offsets are records), read at once rather than by a reader that may not have caught up yet.
  let dlqRecords = 0
  for (const end of (await fetchLogEnd(world.kafka, scenario.topics.dlq)).values()) dlqRecords += end
  const values = scenario.results.records.map((r) => r.value)
  const sources = new Set(values.map((v) => `${v.sourcePartition}:${v.sourceOffset}`))
  const out = {
    sent,
    results: values.length,
    duplicates: values.length - sources.size,
    dlq: dlqRecords,
    failedForUs: failedForUs(values),
    ...countStates(values),
    ...extra,
  }
  console.info(
    `fault-run ${name}: ${Object.entries(out)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  )
  return out
}

/** Log-end offsets (high watermarks) of `topic`, per partition. */
export async function fetchLogEnd(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    return new Map(offsets.map((p) => [p.partition, Number(p.high)]))
  } finally {
    await admin.disconnect()
  }
}

/**
 * Deletes the records of `partition` of `topic` below `offset`, as retention would (DeleteRecords: the
 * partition's log start offset moves to `offset`), over an admin connection closed before it returns.
 */
export async function deleteRecordsBelow(
  kafka: Kafka,
  topic: string,
  partition: number,
  offset: number,
): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.fetchTopicMetadata({ topics: [topic] })
    await admin.deleteTopicRecords({ topic, partitions: [{ partition, offset: String(offset) }] })
  } finally {
    await admin.disconnect()
  }
}

/** One reading of a consumer group's committed offsets: when it was read, and the offsets per partition. */
export interface CommittedSample {
  at: number
  committed: Map<number, number>
}

/** A running sampler of committed offsets, see {@link sampleCommitted}. */
export interface CommittedSampler {
  /** The readings so far, oldest first. */
  readonly samples: CommittedSample[]
  /** The newest reading's offsets (undefined before the first). */
  latest(): Map<number, number> | undefined
  /** Stops sampling and resolves once the reading in progress is done. */
  stop(): Promise<void>
}

/**
 * Reads the committed offsets of `groupId` on `topic` (0 when none) every `intervalMs` over one admin
 * connection, closed by `world.close()`, until `stop()`.
 */
export async function sampleCommitted(
  world: E2eWorld,
  groupId: string,
  topic: string,
  intervalMs = 100,
): Promise<CommittedSampler> {
  const admin = world.kafka.admin()
  await admin.connect()
  world.defer(() => admin.disconnect())
  const samples: CommittedSample[] = []
  let sampling = true
  const loop = (async () => {
    while (sampling) {
      const committed = await readCommitted(admin, groupId, topic)
      samples.push({ at: Date.now(), committed })
      await new Promise((r) => setTimeout(r, intervalMs))
    }
  })()
  return {
    samples,
    latest: () => samples.at(-1)?.committed,
    async stop() {
      sampling = false
      await loop
    },
  }
}

/**
 * Waits until the group's committed offsets on the input topic equal its log-end offsets on every
 * partition, at most `timeoutMs`. `committed` reads the offsets (by default {@link fetchCommitted} on
 * each check; a sampler's `latest` also fits); `what` names the wait in the timeout's error.
 * @returns the log-end offsets (read once, before waiting)
 */
export async function waitCommittedAtLogEnd(
  world: E2eWorld,
  run: Pick<FaultRun, 'topics'>,
  timeoutMs: number,
  committed: () => Promise<Map<number, number> | undefined> | Map<number, number> | undefined = () =>
    fetchCommitted(world.kafka, run.topics.group, run.topics.input),
  what = 'committed offsets at the log end',
): Promise<Map<number, number>> {
  const logEnd = await fetchLogEnd(world.kafka, run.topics.input)
  await waitUntil(
    async () => {
      const offsets = await committed()
      return [...logEnd].every(([p, end]) => offsets?.get(p) === end)
    },
    timeoutMs,
    what,
  )
  return logEnd
}
