import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { Batcher, ENVELOPE_BYTES, type PendingFile } from './batcher/batcher.ts'
import { KeySequencer } from './batcher/key-sequencer.ts'
import type { Config } from './config.ts'
import { BridgeError } from './errors.ts'
import { createEventDecoder } from './events/decode.ts'
import { createSchemaCodec, readSchema, type SchemaCodec } from './events/registry.ts'
import { withTransientRetry } from './events/transient-retry.ts'
import { createOpsApp, createWebhookApp, WEBHOOK_PATH } from './http/http-app.ts'
import { type HttpServer, listen } from './http/http-server.ts'
import { createImportClient } from './import/import-client.ts'
import { JobLog } from './jobs/job-log.ts'
import { JobNotifications } from './jobs/job-notifications.ts'
import { JobTracker } from './jobs/job-tracker.ts'
import { ensureTopics, findMissingTopics } from './kafka/admin.ts'
import { type BroadcastConsumer, createBroadcastConsumer } from './kafka/broadcast-consumer.ts'
import { createKafka, type Kafka } from './kafka/client.ts'
import { type ConsumedRecord, createGroupConsumer } from './kafka/consumer.ts'
import { createLagMonitor } from './kafka/lag-monitor.ts'
import { OffsetTracker, type RecordPosition } from './kafka/offset-tracker.ts'
import { createIdempotentProducer } from './kafka/producer.ts'
import type { Logger } from './logging.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { OutcomePublisher } from './outcome/outcome-publisher.ts'

/** Headers carried from the input record to its result event (W3C trace context). */
const CARRIED_HEADERS = ['traceparent', 'tracestate']
/** Shared by every file without carried headers (most): one object fewer per file. Never mutated. */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>

/** A running bridge. */
export interface Bridge {
  /** Bound ports: the public webhook port and the operations (metrics, health) port. */
  readonly ports: { http: number; metrics: number }
  readonly metrics: Metrics
  /**
   * Shuts down in data-flow order: not ready, stop fetching, flush the batcher, wait for jobs and
   * sends up to the grace period, commit, disconnect, close servers. Idempotent; never throws.
   */
  stop(): Promise<void>
}

/**
 * Builds and starts every component from `config` (the composition root).
 *
 * @param deps.logger root logger; `deps.codec` may replace the registry client in tests
 * @throws BridgeError `CONFIG_INVALID` when the result or DLQ topic does not exist, or kafkajs / HTTP
 *   errors when the broker, registry or ports cannot be reached
 */
export async function startBridge(
  config: Config,
  deps: { logger: Logger; codec?: SchemaCodec },
): Promise<Bridge> {
  const logger = deps.logger
  const metrics = createMetrics()
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: config.kafka.clientId }, { logger })
  const codec = deps.codec ?? createSchemaCodec({ url: config.schemaRegistryUrl })
  const offsets = new OffsetTracker()
  let stopping = false

  await checkTopics(kafka, config)
  const resultSchemaId = await codec.register(
    `${config.topics.result}-value`,
    await readSchema('fileImportResult'),
  )

  const producer = createIdempotentProducer(kafka)
  const client = createImportClient(
    {
      baseUrl: config.livingdocs.baseUrl,
      apiVersion: config.livingdocs.apiVersion,
      accessToken: config.livingdocs.accessToken,
      requestTimeoutMs: config.apiRequestTimeoutMs,
      maxRetries: config.apiMaxRetries,
      maxBackoffMs: config.apiRetryMaxDelayMs,
      rateLimitPerSecond: config.apiRateLimitPerSecond,
    },
    { metrics },
  )

  // Settling: result or DLQ acknowledged -> offset may be committed; backpressure released.
  const onSettled = (positions: RecordPosition[], files: PendingFile[]) => {
    for (const p of positions) offsets.settle(p)
    for (const f of files) sequencer.done(f)
    metrics.filesInFlight.set(offsets.inFlight)
    maybeResume()
  }
  // Resumes fetching once files in flight fell to the low-water mark (after settles, or after a
  // rebalance dropped the files of revoked partitions, which never settle here).
  function maybeResume(): void {
    if (
      consumer.isPaused &&
      offsets.inFlight <= config.maxFilesInFlight * config.filesInFlightResumeRatio &&
      !stopping
    ) {
      logger.info({ inFlight: offsets.inFlight }, 'backpressure released; resuming fetch')
      consumer.resume()
      metrics.fetchPaused.set(0)
    }
  }
  const publisher = new OutcomePublisher(
    { resultTopic: config.topics.result, dlqTopic: config.topics.dlq, resultSchemaId },
    { producer, codec, metrics, logger, onSettled },
  )
  const jobs = new JobTracker(
    {
      maxJobsInFlight: config.maxJobsInFlight,
      pollIntervalMs: config.statusPollIntervalMs,
      // Appended, not resolved: a public URL with a path prefix (behind an ingress) keeps it.
      webhookUrl:
        config.webhookPublicUrl === undefined
          ? undefined
          : `${config.webhookPublicUrl.replace(/\/+$/, '')}${WEBHOOK_PATH}`,
      webhookSecret: config.webhookSecret,
      resubmitDelayMs: 5_000,
      maxResubmits: 2,
      jobTimeoutMs: config.jobTimeoutMs,
    },
    {
      client,
      logger,
      metrics,
      onSettled: (job) => {
        const published = publisher.publishJob(job)
        // The job log forgets a job once its results are acknowledged (not before: a crash in between
        // must still find it running).
        const { jobId } = job
        if (jobLog !== null && jobId !== null)
          void published.then((ok) => ok && jobLog?.finished(jobId, job.batch.id))
      },
      onJobStarted: (jobId, batch) => jobLog?.started(jobId, batch),
    },
  )
  const batcher = new Batcher(
    { maxFiles: config.batch.maxFiles, maxBytes: config.batch.maxBytes, lingerMs: config.batch.lingerMs },
    (batch) => {
      logger.debug({ batchId: batch.id, files: batch.files.length, closedBy: batch.reason }, 'batch closed')
      jobs.enqueue(batch)
    },
  )
  // Several replicas: running jobs of newly assigned partitions are adopted from the job log instead of
  // being submitted again (see the README, "Several replicas").
  const instanceId = `${hostname()}-${randomUUID().slice(0, 8)}`
  const jobLog = config.jobLog.enabled
    ? new JobLog(
        { topic: config.jobLog.topic, adoptionTimeoutMs: 60_000 },
        {
          send: (topic, messages) => producer.send(topic, messages),
          tracker: jobs,
          release: (file) => batcher.add(file),
          metrics,
          logger,
        },
      )
    : null
  const jobLogReader =
    jobLog === null
      ? null
      : createBroadcastConsumer(
          kafka,
          {
            topic: config.jobLog.topic,
            groupId: `${config.kafka.groupId}.job-log.${instanceId}`,
            fromBeginning: true,
          },
          { logger, onRecord: (record) => jobLog.onRecord(record) },
        )
  const sequencer = new KeySequencer((file) => {
    if (jobLog?.claim(file) !== true) batcher.add(file)
  })
  const decode = createEventDecoder(codec, {
    defaultSystemName: config.defaultSystemName,
    maxEntryBytes: config.batch.maxBytes - ENVELOPE_BYTES,
  })
  // A registry outage is transient: the record waits in place (heartbeating) and is never DLQ'd for it.
  const decodeOrWait = withTransientRetry(decode, config.schemaRegistryRetry, (err, retryDelayMs) => {
    metrics.decodeRetries.inc()
    logger.warn({ err, retryDelayMs }, 'decoding paused by a transient error; retrying')
  })

  let owned = new Set<string>()
  let ownedInput: number[] = []
  const consumer = createGroupConsumer(
    kafka,
    {
      groupId: config.kafka.groupId,
      topic: config.topics.input,
      sessionTimeoutMs: config.consumer.sessionTimeoutMs,
      fetchMaxBytes: config.consumer.fetchMaxBytes,
      fetchMaxBytesPerPartition: config.consumer.fetchMaxBytesPerPartition,
    },
    {
      logger,
      handler: {
        onAssignment(assigned) {
          const before = owned
          owned = new Set(assigned.flatMap((t) => t.partitions.map((p) => `${t.topic}:${p}`)))
          ownedInput = assigned.find((t) => t.topic === config.topics.input)?.partitions ?? []
          offsets.retainOnly(assigned)
          const isOwned = (p: RecordPosition) => owned.has(`${p.topic}:${p.partition}`)
          const parked = sequencer.dropPartitions(isOwned)
          const buffered = batcher.dropPartitions(isOwned)
          for (const f of buffered) sequencer.done(f)
          const isNew = (p: RecordPosition) => !before.has(`${p.topic}:${p.partition}`) && isOwned(p)
          for (const f of jobLog?.onAssignment(isOwned, isNew) ?? []) sequencer.done(f)
          if (parked + buffered.length > 0) {
            logger.info(
              { parked, buffered: buffered.length },
              'rebalance: dropped files of revoked partitions',
            )
          }
          metrics.filesInFlight.set(offsets.inFlight)
          maybeResume()
        },
        async onRecord(record, control) {
          if (stopping) return false
          metrics.eventsConsumed.inc()
          const position = { topic: record.topic, partition: record.partition, offset: record.offset }
          if (offsets.isRedelivery(position)) return true
          const result = await decodeOrWait(record.value, {
            heartbeat: control.heartbeat,
            shouldContinue: () => control.isRunning() && !stopping,
          })
          offsets.track(position)
          jobLog?.observe(position)
          metrics.filesInFlight.set(offsets.inFlight)
          if (!result.ok) {
            publisher.publishDlq(record, result.failure)
          } else {
            sequencer.admit(pendingFile(record, result.event, result.bytes, result.entryJson))
          }
          if (offsets.inFlight >= config.maxFilesInFlight && !consumer.isPaused) {
            logger.info(
              { inFlight: offsets.inFlight },
              'backpressure: files in flight at the limit; pausing fetch',
            )
            consumer.pause()
            metrics.fetchPaused.set(1)
          }
          return true
        },
      },
    },
  )

  function pendingFile(
    record: ConsumedRecord,
    event: PendingFile['event'],
    bytes: number,
    entryJson: string,
  ): PendingFile {
    let headers: Record<string, string> = NO_HEADERS
    for (const name of CARRIED_HEADERS) {
      const value = record.headers[name]
      if (value === undefined) continue
      if (headers === NO_HEADERS) headers = {}
      headers[name] = value
    }
    return {
      event,
      position: { topic: record.topic, partition: record.partition, offset: record.offset },
      consumedAt: Date.now(),
      bytes,
      entryJson,
      headers,
    }
  }

  let committing: Promise<void> = Promise.resolve()
  function commit(): Promise<void> {
    committing = committing.then(async () => {
      const ready = offsets.committable()
      if (ready.length === 0) return
      try {
        const done = await consumer.commit(ready)
        offsets.markCommitted(ready)
        if (done.length > 0) {
          metrics.offsetsCommitted.inc()
          logger.debug({ offsets: done }, 'offsets committed')
        }
      } catch (err) {
        logger.warn({ err }, 'offset commit failed; retrying on the next interval')
      }
    })
    return committing
  }

  const lagMonitor = createLagMonitor(
    kafka,
    { groupId: config.kafka.groupId, topic: config.topics.input, intervalMs: config.lagIntervalMs },
    { metrics, logger, owned: () => ownedInput },
  )

  // Several replicas: a webhook for a job another replica tracks is forwarded on an internal topic
  // that every replica reads with a consumer group of its own (see the README, "Several replicas").
  let notificationsConsumer: BroadcastConsumer | null = null
  let notifications: JobNotifications | null = null
  if (config.jobNotifications.enabled) {
    const jobNotifications = new JobNotifications(
      { topic: config.jobNotifications.topic, instanceId, forwardTimeoutMs: 5_000 },
      {
        send: (topic, messages) => producer.send(topic, messages),
        notify: (id, batchId) => jobs.notify(id, { batchId }),
        metrics,
        logger,
      },
    )
    notifications = jobNotifications
    notificationsConsumer = createBroadcastConsumer(
      kafka,
      {
        topic: config.jobNotifications.topic,
        groupId: `${config.kafka.groupId}.job-notifications.${instanceId}`,
      },
      { logger, onRecord: (record) => jobNotifications.onRecord(record) },
    )
  }
  const webhookApp = createWebhookApp({
    logger,
    metrics,
    webhookSecret: config.webhookSecret,
    onJobWebhook: (jobId, notice) => jobs.notify(jobId, notice),
    ...(notifications === null ? {} : { forwardWebhook: notifications.forward.bind(notifications) }),
  })
  const opsApp = createOpsApp({
    metrics,
    logger,
    readiness: () => {
      const problems: string[] = []
      if (stopping) problems.push('shutting down')
      if (!consumer.isReady) problems.push('consumer has not joined its group')
      if (jobs.fatalProblem !== null) problems.push(`import API: ${jobs.fatalProblem}`)
      if (notificationsConsumer !== null && !notificationsConsumer.isReady)
        problems.push('job notifications consumer has not joined its group')
      if (jobLogReader !== null && !jobLogReader.isReady)
        problems.push('job log reader has not joined its group')
      return problems
    },
  })

  const servers: HttpServer[] = []
  try {
    servers.push(await listen(webhookApp, { host: config.http.host, port: config.http.port }))
    servers.push(await listen(opsApp, { host: config.http.host, port: config.http.metricsPort }))
    await producer.start()
    // Before the group consumer: webhooks of this replica's jobs forwarded by others are read from now on.
    await notificationsConsumer?.start()
    if (jobLogReader !== null) {
      // The whole log is read before the first assignment, so that a restart adopts its running jobs.
      await jobLogReader.start()
      await jobLogReader.waitCaughtUp(30_000)
      logger.info({ jobs: jobLog?.size }, 'job log read')
    }
    jobs.start()
    await consumer.start()
    lagMonitor.start()
  } catch (err) {
    // Release what started, so a failed start leaves no sockets or timers behind.
    jobs.close()
    publisher.close()
    for (const server of servers) await server.close().catch(() => undefined)
    await consumer.stop().catch(() => undefined)
    await notificationsConsumer?.stop().catch(() => undefined)
    await jobLogReader?.stop().catch(() => undefined)
    await producer.stop().catch(() => undefined)
    await client.close().catch(() => undefined)
    throw err
  }
  const commitTimer = setInterval(() => void commit(), Math.max(config.commitIntervalMs, 50))
  logger.info(
    {
      input: config.topics.input,
      groupId: config.kafka.groupId,
      httpPort: servers[0]?.port,
      metricsPort: servers[1]?.port,
    },
    'bridge started',
  )

  let stopped: Promise<void> | null = null
  async function stop(): Promise<void> {
    stopping = true
    const deadline = Date.now() + config.shutdownGraceMs
    const left = () => Math.max(0, deadline - Date.now())
    const step = async (name: string, fn: () => Promise<unknown> | unknown) => {
      try {
        await fn()
      } catch (err) {
        logger.warn({ err, step: name }, 'shutdown step failed')
      }
    }
    logger.info({ graceMs: config.shutdownGraceMs }, 'stopping: fetch paused, flushing batches')
    await step('pause', () => consumer.pause())
    await step('flush', () => batcher.drain())
    const jobsDone = await jobs.waitIdle(left())
    const sendsDone = await publisher.drain(left())
    // Entries of jobs still running must reach the job log even when the grace period is spent.
    if (jobLog !== null) await step('job log', () => jobLog.drain(Math.max(left(), 5_000)))
    await step('commit', () => commit())
    clearInterval(commitTimer)
    logger.info(
      { jobsDone, sendsDone, uncommitted: offsets.inFlight },
      'stopping: jobs settled and committed',
    )
    jobs.close()
    publisher.close()
    await step('lag monitor', () => lagMonitor.stop())
    jobLog?.close()
    // In parallel: each disconnect waits for its fetch in progress.
    await Promise.all([
      step('consumer', () => consumer.stop()),
      step('job notifications', () => notificationsConsumer?.stop()),
      step('job log', () => jobLogReader?.stop()),
    ])
    await step('producer', () => producer.stop())
    for (const server of servers) await step('http', () => server.close())
    await step('import client', () => client.close())
    logger.info('bridge stopped')
  }

  return {
    ports: { http: servers[0]?.port ?? 0, metrics: servers[1]?.port ?? 0 },
    metrics,
    stop: () => {
      stopped ??= stop()
      return stopped
    },
  }
}

/**
 * Topic settings of a job notifications topic created by `CREATE_MISSING_TOPICS`: notifications are
 * useful for seconds, so one hour of retention is plenty (Kafka topic configs `retention.ms`,
 * `cleanup.policy`).
 */
const JOB_NOTIFICATIONS_TOPIC_CONFIG = [
  { name: 'cleanup.policy', value: 'delete' },
  { name: 'retention.ms', value: String(60 * 60 * 1000) },
]

/**
 * Topic settings of a job log topic created by `CREATE_MISSING_TOPICS`: compacted, so that it keeps
 * the latest entry of each running job and drops finished ones (their tombstones) after
 * `delete.retention.ms`; hourly segments let the cleaner run.
 */
const JOB_LOG_TOPIC_CONFIG = [
  { name: 'cleanup.policy', value: 'compact' },
  { name: 'segment.ms', value: String(60 * 60 * 1000) },
]

/**
 * Fails start-up when a topic is missing, naming each missing topic and its setting; with
 * `CREATE_MISSING_TOPICS` it creates them instead (local runs).
 * @throws BridgeError `CONFIG_INVALID`
 */
async function checkTopics(kafka: Kafka, config: Config): Promise<void> {
  const settings: Record<string, string> = {
    INPUT_TOPIC: config.topics.input,
    RESULT_TOPIC: config.topics.result,
    DLQ_TOPIC: config.topics.dlq,
  }
  if (config.jobNotifications.enabled) settings.JOB_NOTIFICATIONS_TOPIC = config.jobNotifications.topic
  if (config.jobLog.enabled) settings.JOB_LOG_TOPIC = config.jobLog.topic
  const missing = await findMissingTopics(kafka, Object.values(settings))
  if (missing.length === 0) return
  if (config.createMissingTopics) {
    await ensureTopics(
      kafka,
      missing.map((topic) => ({
        topic,
        numPartitions: config.createdTopicPartitions,
        ...(topic === config.jobNotifications.topic ? { configEntries: JOB_NOTIFICATIONS_TOPIC_CONFIG } : {}),
        ...(topic === config.jobLog.topic ? { configEntries: JOB_LOG_TOPIC_CONFIG } : {}),
      })),
    )
    return
  }
  const named = Object.entries(settings)
    .filter(([, topic]) => missing.includes(topic))
    .map(([name, topic]) => `${name}=${topic}`)
  throw new BridgeError(
    'CONFIG_INVALID',
    `topics do not exist: ${named.join(', ')} (create them, or set CREATE_MISSING_TOPICS=true for a local run)`,
  )
}
