import { Batcher } from './batcher/batcher.ts'
import type { Config } from './config.ts'
import { createEventDecoder } from './events/decode.ts'
import { withTransientRetry } from './events/transient-retry.ts'
import { createOpsApp, createWebhookApp } from './http/http-app.ts'
import { type HttpServer, listen } from './http/http-server.ts'
import { createImportClient } from './import/import-client.ts'
import { verifyBatchSignature } from './import/webhook-signature.ts'
import { JobTracker } from './jobs/job-tracker.ts'
import { createKafka, type Kafka } from './kafka/client.ts'
import { createCommitter } from './kafka/committer.ts'
import { createGroupConsumer } from './kafka/consumer.ts'
import { createLagMonitor } from './kafka/lag-monitor.ts'
import { OffsetTracker } from './kafka/offset-tracker.ts'
import { createIdempotentProducer } from './kafka/producer.ts'
import { checkTopics, requiredTopics } from './kafka/topics.ts'
import { Lifecycle } from './lifecycle.ts'
import type { Logger } from './logging.ts'
import { createMappedDecoder } from './mapping/mapped-decoder.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import type { ConsumedRecord } from './model/records.ts'
import { OutcomePublisher } from './outcome/outcome-publisher.ts'
import { createIntake } from './pipeline/intake.ts'
import { createSchemaCodec, readSchema, type SchemaCodec } from './registry/registry.ts'
import { createReplicas } from './replicas/replicas.ts'

/** A running bridge. */
export interface Bridge {
  /** Bound ports: the public webhook port and the operations (metrics, health) port. */
  readonly ports: { http: number; metrics: number }
  readonly metrics: Metrics
  /**
   * Resolves when a component stopped for good (a consumer crash kafkajs does not recover from, a
   * publish that cannot go on): the bridge is then not live (`/healthz` 503) and is stopping; the
   * caller ends the process once {@link stop} resolves. Never rejects; pending while all is well.
   */
  readonly crashed: Promise<ComponentCrash>
  /**
   * Shuts down in data-flow order: not ready, stop fetching, flush the batcher, wait for jobs and
   * sends up to the grace period, commit, disconnect, close servers. Idempotent; never throws.
   */
  stop(): Promise<void>
}

/** A component that stopped for good, and why. */
export interface ComponentCrash {
  /** `consumer`, `job log reader`, `job notifications reader`, `outcome publisher`. */
  component: string
  error: unknown
}

/**
 * Builds and starts every component from `config` (the composition root). It only wires: the adapters
 * (Kafka, the registry, the import API), the stages of the pipeline connected in data-flow order as in
 * the README's diagram, the HTTP apps, and the lifecycle that starts and stops them.
 *
 * @param deps.logger root logger; `deps.codec` and `deps.kafka` may replace the registry client and the
 *   Kafka client in tests
 * @throws BridgeError `CONFIG_INVALID` when a topic does not exist, or kafkajs / HTTP errors when the
 *   broker, registry or ports cannot be reached (whatever started is stopped again first)
 */
export async function startBridge(
  config: Config,
  deps: { logger: Logger; codec?: SchemaCodec; kafka?: Kafka },
): Promise<Bridge> {
  const { logger } = deps
  const metrics = createMetrics()
  // A component that dies for good ends the bridge: not live, stop what can be stopped, and the caller
  // (src/main.ts) exits non-zero. Logged once, with the first cause; later ones are consequences.
  let crash: ComponentCrash | null = null
  let reportCrash: (c: ComponentCrash) => void = () => undefined
  const crashed = new Promise<ComponentCrash>((resolve) => {
    reportCrash = resolve
  })
  const onFatal = (component: string, error: unknown) => {
    if (crash !== null) return
    crash = { component, error }
    logger.fatal({ component, err: error }, `${component} stopped for good; stopping the bridge`)
    reportCrash(crash)
  }

  // Adapters.
  const kafka = deps.kafka ?? createKafka(config.kafka, { logger })
  const codec = deps.codec ?? createSchemaCodec({ url: config.registry.url })
  await checkTopics(kafka, requiredTopics(config), {
    create: config.topics.createMissing,
    partitions: config.topics.createdPartitions,
  })
  const resultSchemaId = await codec.register(
    `${config.topics.result}-value`,
    await readSchema('fileImportResult'),
  )
  const producer = createIdempotentProducer(kafka, { lingerMs: config.producerLingerMs })
  const client = createImportClient(config.importClient, { metrics, logger })
  const offsets = new OffsetTracker()

  // The pipeline, in data-flow order: consumer → intake (decode, track, DLQ or admit, one file per
  // externalId) → batcher → job tracker → outcome publisher → intake.settle (offsets may be committed).
  const consumer = createGroupConsumer(kafka, config.consumer, {
    logger,
    onFatal: (err) => onFatal('consumer', err),
    handler: {
      onRecord: (record, control) => intake.onRecord(record, control),
      onAssignment: (a) => intake.onAssignment(a),
    },
  })
  // With a mapping (MAPPING_FILE) its decoder reads, maps and validates; without, the plain one alone.
  const decodeEvent = createEventDecoder(codec, config.decoder)
  const decode = withTransientRetry(
    config.mapping === undefined
      ? (record: ConsumedRecord) => decodeEvent(record.value, record.headers)
      : createMappedDecoder(codec, config.decoder, config.mapping),
    config.registry.retry,
    (err, retryDelayMs) => {
      metrics.decodeRetries.inc()
      logger.warn({ err, retryDelayMs }, 'decoding paused by a transient error; retrying')
    },
  )
  const intake = createIntake(config.backpressure, {
    decode,
    offsets,
    fetch: consumer,
    deadLetter: (record, failure) => publisher.publishDlq(record, failure),
    release: (file) => {
      if (replicas?.claim(file) !== true) batcher.add(file)
    },
    dropHeld: (isOwned, isNew) => [
      ...batcher.dropPartitions(isOwned),
      ...(replicas?.onAssignment(isOwned, isNew) ?? []),
    ],
    observe: (position) => replicas?.observe(position),
    metrics,
    logger,
  })
  const batcher = new Batcher(
    config.batcher,
    (batch) => {
      logger.debug({ batchId: batch.id, files: batch.files.length, closedBy: batch.closedBy }, 'batch closed')
      jobs.enqueue(batch)
    },
    (file, reason) => jobs.refuse(file, reason),
  )
  const jobs = new JobTracker(config.jobs, {
    client,
    logger,
    metrics,
    onConcluded: (job) => {
      const published = publisher.publishJob(job)
      // The job log forgets a job once its results are acknowledged (a crash before must still find it).
      const { jobId } = job
      if (replicas !== null && jobId !== null)
        void published.then((ok) => ok && replicas.jobPublished(jobId, job.batch.id))
    },
    onJobStarted: (jobId, batch) => replicas?.jobStarted(jobId, batch),
  })
  const publisher = new OutcomePublisher(
    {
      resultTopic: config.topics.result,
      dlqTopic: config.topics.dlq,
      resultSchemaId,
      stallAfterMs: config.publishStallMs,
    },
    {
      producer,
      codec,
      metrics,
      logger,
      onSettled: (positions, files) => intake.settle(positions, files),
      onFatal: (err) => onFatal('outcome publisher', err),
    },
  )
  // Several replicas (docs/replicas.md): null when both features are off.
  const replicas = createReplicas(config.replicas, {
    kafka,
    send: (topic, messages) => producer.send(topic, messages),
    tracker: jobs,
    release: (file) => batcher.add(file),
    metrics,
    logger,
    onFatal,
  })
  const committer = createCommitter(config.commit, { offsets, consumer, metrics, logger })
  const lagMonitor = createLagMonitor(kafka, config.lag, {
    metrics,
    logger,
    owned: () => consumer.assignment.partitionsOf(config.consumer.topic),
  })

  // HTTP: the webhook on the public port; metrics and probes on the operations port.
  const webhookApp = createWebhookApp({
    logger,
    metrics,
    webhookSecret: config.http.webhookSecret,
    verifySignature: verifyBatchSignature,
    onJobWebhook: (jobId, notice) => jobs.notify(jobId, notice),
    ...(replicas?.forwardWebhook === undefined ? {} : { forwardWebhook: replicas.forwardWebhook }),
  })
  const opsApp = createOpsApp({
    metrics,
    logger,
    readiness: () => [
      ...(intake.isStopping ? ['shutting down'] : []),
      ...(consumer.isReady ? [] : ['consumer has not joined its group']),
      ...(jobs.fatalProblem === null ? [] : [`import API: ${jobs.fatalProblem}`]),
      ...(replicas?.readiness() ?? []),
      ...publisher.readiness(),
    ],
    liveness: () => (crash === null ? [] : [`${crash.component} stopped for good`]),
  })

  // Start in this order; stop runs it backwards: stop fetching, flush, conclude jobs, publish, commit,
  // then close and disconnect (src/lifecycle.ts).
  const servers: HttpServer[] = []
  const drained = { jobs: false, sends: false }
  const life = new Lifecycle({ logger })
    .add('import client', { stop: () => client.close() })
    .add('http servers', {
      start: async () => {
        servers.push(await listen(webhookApp, { host: config.http.host, port: config.http.port }))
        servers.push(await listen(opsApp, { host: config.http.host, port: config.http.metricsPort }))
      },
      stop: () => Promise.all(servers.map((s) => s.close())),
    })
    .add('producer', { start: () => producer.start(), stop: () => producer.stop() })
    .add('consumers', {
      // The replicas' readers first: forwarded webhooks and the job log are read before records come.
      start: async () => {
        await replicas?.start()
        await consumer.start()
      },
      // In parallel: each disconnect waits for its fetch in progress.
      stop: () => Promise.all([consumer.stop(), replicas?.stop()]),
    })
    .add('adoptions', { stop: () => replicas?.close() })
    .add('lag monitor', { start: () => lagMonitor.start(), stop: () => lagMonitor.stop() })
    .add('outcome publisher', { stop: () => publisher.close() })
    .add('job tracker', { start: () => jobs.start(), stop: () => jobs.close() })
    .add('commit loop', {
      start: () => committer.start(),
      stop: async () => {
        await committer.stop()
        logger.info(
          { jobsDone: drained.jobs, sendsDone: drained.sends, uncommitted: intake.inFlight },
          'stopping: jobs settled and committed',
        )
      },
    })
    // Entries of jobs still running must reach the job log even when the grace period is spent.
    .add('job log writes', { stop: (leftMs) => replicas?.drain(leftMs) })
    .add('result sends', { stop: async (leftMs) => (drained.sends = await publisher.drain(leftMs)) })
    .add('import jobs', { stop: async (leftMs) => (drained.jobs = await jobs.waitIdle(leftMs)) })
    .add('batcher', { stop: () => batcher.drain() })
    .add('fetch', {
      stop: () => {
        logger.info({ graceMs: config.shutdownGraceMs }, 'stopping: fetch paused, flushing batches')
        intake.stop()
      },
    })
  await life.start()
  let stopped: Promise<void> | undefined
  logger.info(
    {
      input: config.topics.input,
      groupId: config.consumer.groupId,
      mappingFields: config.mapping === undefined ? undefined : Object.keys(config.mapping.expressions),
      httpPort: servers[0]?.port,
      metricsPort: servers[1]?.port,
    },
    'bridge started',
  )

  const stop = () => {
    stopped ??= life.stop(config.shutdownGraceMs).then(() => logger.info('bridge stopped'))
    return stopped
  }
  // Stop what can be stopped once a component died (the caller exits when `stop` resolves).
  void crashed.then(stop)
  return {
    ports: { http: servers[0]?.port ?? 0, metrics: servers[1]?.port ?? 0 },
    metrics,
    crashed,
    stop,
  }
}
