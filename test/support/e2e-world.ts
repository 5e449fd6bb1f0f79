import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Admin } from 'kafkajs'
import { afterAll, beforeAll, inject } from 'vitest'
import { produceExport } from '../../scripts/produce-export.ts'
import { createKafka, type Kafka } from '../../src/kafka/client.ts'
import { ensureTopics } from '../../src/kafka/topics.ts'
import { createLogger } from '../../src/logging.ts'
import type { FileImportResult } from '../../src/outcome/outcome-event.ts'
import { createSchemaCodec, type SchemaCodec } from '../../src/registry/registry.ts'
import { startTestBridge, type TestBridge, uniqueTopics } from './bridge-harness.ts'
import { type BridgeProcess, startBridgeProcess } from './bridge-process.ts'
import { type FileServer, startFileServer } from './file-server.ts'
import { lateBound } from './late-bound.ts'
import {
  type RunningLivingdocsEmulator,
  type StartLivingdocsEmulatorOptions,
  startLivingdocsEmulator,
} from './livingdocs-emulator/index.ts'
import { printOnFailure } from './print-on-failure.ts'
import { resultDecoder, startTopicReader, type TopicReader } from './result-reader.ts'
import { buildSampleExport, type ExportRecord } from './sample-export.ts'
import { type SampleFile, writeSampleFiles } from './sample-files.ts'

export { metricValue, scrapeMetric } from './metric-value.ts'

/** Shared parts of the end-to-end tests: Kafka client, registry codec, sample files and their server. */
export interface E2eWorld {
  brokers: string[]
  schemaRegistryUrl: string
  kafka: Kafka
  codec: SchemaCodec
  files: SampleFile[]
  fileServer: FileServer
  /** Registers a cleanup; {@link E2eWorld.close} runs them in reverse order. */
  defer(cleanup: () => Promise<unknown>): void
  close(): Promise<void>
}

/** One test's topics, its result reader, and a way to start bridges on them. */
export interface Scenario {
  topics: Topics
  results: TopicReader<FileImportResult>
  /** Starts a bridge on the scenario's topics and consumer group; `env` overrides settings. */
  start(env?: Record<string, string>): Promise<TestBridge>
}

/** Sample files of a world: PNGs, PDFs and (optionally) MP4s. */
export interface SampleCounts {
  images: number
  pdfs: number
  videos?: number
}

/** What {@link useE2eWorld} hands a describe block. */
export interface E2eSetup {
  world: E2eWorld
  /** The emulator started with `options.emulator` (using it without those options throws). */
  emulator: RunningLivingdocsEmulator
}

/**
 * The prologue of the integration tests, called at the top of a `describe` block: registers a
 * `beforeAll` that creates the world from `inject('kafka')` with `counts` sample files served over
 * HTTP and, with `options.emulator`, starts a Livingdocs emulator (closed with the world), and an
 * `afterAll` that closes the world: every cleanup deferred to it (emulators, readers, bridges, in
 * reverse order of creation), then the file server and the sample files.
 *
 * The `world` and `emulator` returned stand for what the `beforeAll` makes ({@link lateBound}): use
 * them in the block's tests and later hooks. Called outside a describe block's collection (in a test or
 * hook), vitest would attach the hooks to the wrong suite.
 */
export function useE2eWorld(
  counts: SampleCounts,
  options: { emulator?: StartLivingdocsEmulatorOptions } = {},
): E2eSetup {
  const world = lateBound<E2eWorld>('the e2e world')
  const emulator = lateBound<RunningLivingdocsEmulator>(
    options.emulator === undefined
      ? 'the emulator (useE2eWorld was given no emulator options)'
      : 'the emulator',
  )
  let created: E2eWorld | undefined
  beforeAll(async () => {
    created = await createE2eWorld(inject('kafka'), counts)
    world.set(created)
    if (options.emulator !== undefined) emulator.set(await startEmulator(created, options.emulator))
  })
  afterAll(async () => {
    await created?.close()
  })
  return { world: world.value, emulator: emulator.value }
}

/** Creates the shared parts, with `images` PNGs and `pdfs` PDFs served over HTTP. */
async function createE2eWorld(
  kafkaEnv: { brokers: string[]; schemaRegistryUrl: string },
  counts: SampleCounts,
): Promise<E2eWorld> {
  const cleanups: Array<() => Promise<unknown>> = []
  const kafka = createKafka(
    { brokers: kafkaEnv.brokers, clientId: 'e2e-test' },
    { logger: createLogger({ level: 'fatal' }) },
  )
  const dir = await mkdtemp(join(tmpdir(), 'fib-e2e-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const files = await writeSampleFiles(dir, counts)
  const fileServer = await startFileServer(dir)
  cleanups.push(() => fileServer.close())
  return {
    ...kafkaEnv,
    kafka,
    codec: createSchemaCodec({ url: kafkaEnv.schemaRegistryUrl }),
    files,
    fileServer,
    defer: (cleanup) => cleanups.push(cleanup),
    async close() {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
    },
  }
}

/** Starts a Livingdocs emulator with `options`, closed by `world.close()`. */
export async function startEmulator(
  world: E2eWorld,
  options: StartLivingdocsEmulatorOptions = {},
): Promise<RunningLivingdocsEmulator> {
  const emulator = await startLivingdocsEmulator(options)
  world.defer(() => emulator.close())
  return emulator
}

/**
 * Starts a bridge in this process ({@link startTestBridge}: `env` over test defaults; `deps.kafka` a
 * Kafka client of its own), stopped by `world.close()` (stopping it earlier as well is fine).
 */
export async function startBridgeIn(
  world: E2eWorld,
  env: Record<string, string>,
  deps: { kafka?: Kafka } = {},
): Promise<TestBridge> {
  const bridge = await startTestBridge(env, deps)
  world.defer(() => bridge.stop())
  return bridge
}

/**
 * Starts the bridge as a child process ({@link startBridgeProcess}), killed (SIGKILL) by
 * `world.close()` unless it has exited by then.
 */
export async function startBridgeProcessIn(
  world: E2eWorld,
  env: Record<string, string>,
  options: { nodeArgs?: string[] } = {},
): Promise<BridgeProcess> {
  const bridge = await startBridgeProcess(env, undefined, options.nodeArgs)
  world.defer(async () => {
    bridge.kill('SIGKILL')
    await bridge.exited
  })
  return bridge
}

/** Topic names and consumer group of one test, see {@link uniqueTopics}. */
export type Topics = ReturnType<typeof uniqueTopics>

/**
 * The bridge's environment for one test: the world's broker and registry, `emulator` as the Livingdocs
 * API, and the topics and consumer group of `topics`; `overrides` are added last.
 */
export function bridgeEnv(
  world: Pick<E2eWorld, 'brokers' | 'schemaRegistryUrl'>,
  emulator: Pick<RunningLivingdocsEmulator, 'url' | 'apiVersion' | 'token'>,
  topics: Topics,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    KAFKA_BROKERS: world.brokers.join(','),
    SCHEMA_REGISTRY_URL: world.schemaRegistryUrl,
    LIVINGDOCS_BASE_URL: emulator.url,
    LIVINGDOCS_API_VERSION: emulator.apiVersion,
    LIVINGDOCS_ACCESS_TOKEN: emulator.token,
    INPUT_TOPIC: topics.input,
    RESULT_TOPIC: topics.result,
    DLQ_TOPIC: topics.dlq,
    KAFKA_GROUP_ID: topics.group,
    JOB_NOTIFICATIONS_TOPIC: topics.notifications,
    ...overrides,
  }
}

/**
 * Creates fresh topics named after `prefix` (input with `inputPartitions` partitions, results 3, DLQ 1,
 * job notifications 2) and starts a reader of the result topic, stopped by `world.close()`; a failing
 * test prints the result events read.
 */
export async function createTopics(
  world: E2eWorld,
  prefix: string,
  inputPartitions = 3,
): Promise<{ topics: Topics; results: TopicReader<FileImportResult> }> {
  const topics = uniqueTopics(prefix)
  await ensureTopics(world.kafka, [
    { topic: topics.input, numPartitions: inputPartitions },
    { topic: topics.result, numPartitions: 3 },
    { topic: topics.dlq, numPartitions: 1 },
    { topic: topics.notifications, numPartitions: 2 },
  ])
  const results = await startTopicReader(world.kafka, topics.result, resultDecoder(world.codec))
  world.defer(() => results.stop())
  printOnFailure(`result events of ${topics.result}, in the order read`, () =>
    results.records.map(
      ({ partition, offset, value: v }) =>
        `${partition}@${offset} ${v.systemName}/${v.externalId} ${v.state} job ${v.importJobId} from ${v.sourcePartition}/${v.sourceOffset} ${v.reason ?? ''}`,
    ),
  )
  return { topics, results }
}

/** Starts a reader of the DLQ of `topics` (raw values), stopped by `world.close()`. */
export async function readDlq(world: E2eWorld, topics: Topics): Promise<TopicReader<Buffer | null>> {
  const dlq = await startTopicReader(world.kafka, topics.dlq, (v) => v)
  world.defer(() => dlq.stop())
  return dlq
}

/** Creates fresh topics and a result reader, and returns a starter of bridges against `emulator`. */
export async function createScenario(
  world: E2eWorld,
  prefix: string,
  emulator: RunningLivingdocsEmulator,
  env: Record<string, string> = {},
): Promise<Scenario> {
  const { topics, results } = await createTopics(world, prefix)
  const baseEnv = bridgeEnv(world, emulator, topics, env)
  return {
    topics,
    results,
    start: (overrides = {}) => startBridgeIn(world, { ...baseEnv, ...overrides }),
  }
}

/** A sample export over the world's files; see {@link buildSampleExport}. */
export function sampleExport(
  world: E2eWorld,
  idPrefix: string,
  options: { broken: number; repeats: number },
) {
  return buildSampleExport({
    files: world.files,
    baseUrl: world.fileServer.url,
    systemName: 'legacy-archive',
    idPrefix,
    unreachableUrl: 'http://127.0.0.1:9',
    ...options,
  })
}

/** Produces `records` keyed by externalId: as Avro events through the registry, or as JSON (`format`). */
export async function produceRecords(
  world: E2eWorld,
  topic: string,
  records: ExportRecord[],
  format: 'avro' | 'json' = 'avro',
): Promise<void> {
  await produceExport({
    records,
    topic,
    brokers: world.brokers,
    schemaRegistryUrl: world.schemaRegistryUrl,
    format,
  })
}

/** Committed offsets of `groupId` on `topic`, per partition (0 when none). */
export async function fetchCommitted(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return await readCommitted(admin, groupId, topic)
  } finally {
    await admin.disconnect()
  }
}

/** Committed offsets of `groupId` on `topic` read over a connected `admin`, per partition (0 when none). */
export async function readCommitted(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] })
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]))
}

/** Counts results by state. */
export function countStates(results: Array<{ state: FileImportResult['state'] }>) {
  const counts = { SUCCESS: 0, SKIPPED: 0, FAILED: 0 }
  for (const r of results) counts[r.state]++
  return counts
}

// Kept importable from here, where the integration tests look for it.
export { waitUntil } from './wait-until.ts'
