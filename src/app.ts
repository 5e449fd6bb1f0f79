import type { Tracer } from '@opentelemetry/api'
import { connectAdapters } from './adapters.ts'
import { createAdmin } from './admin/admin.ts'
import { Batcher } from './batcher/batcher.ts'
import type { Bridge, ComponentCrash } from './bridge.ts'
import type { Config } from './config.ts'
import { createEventDecoder } from './events/decode.ts'
import { withRedriveGuard } from './events/redrive-guard.ts'
import { withTransientRetry } from './events/transient-retry.ts'
import { createOpsApp, createWebhookApp } from './http/http-app.ts'
import { type HttpServer, listen } from './http/http-server.ts'
import { verifyBatchSignature } from './import/webhook-signature.ts'
import { createApiBudget } from './jobs/api-budget.ts'
import { ApiGate } from './jobs/api-gate.ts'
import { ExistingEntries } from './jobs/existing-entries.ts'
import { JobTracker } from './jobs/job-tracker.ts'
import type { Kafka } from './kafka/client.ts'
import { createCommitter } from './kafka/committer.ts'
import { createGroupConsumer } from './kafka/consumer.ts'
import { createLagMonitor } from './kafka/lag-monitor.ts'
import { OffsetTracker } from './kafka/offset-tracker.ts'
import { topicPartitionCount } from './kafka/topics.ts'
import { Lifecycle } from './lifecycle.ts'
import type { Logger } from './logging.ts'
import { createMappedDecoder } from './mapping/mapped-decoder.ts'
import { createMetrics } from './metrics.ts'
import type { ConsumedRecord } from './model/records.ts'
import { OutcomePublisher } from './outcome/outcome-publisher.ts'
import { FetchSwitch } from './pipeline/fetch-switch.ts'
import { createIntake } from './pipeline/intake.ts'
import { RegainedFiles } from './pipeline/regained-files.ts'
import { exportBacklog } from './progress/backlog-metrics.ts'
import { ProgressEstimator } from './progress/progress.ts'
import type { SchemaCodec } from './registry/registry.ts'
import { createReplicas } from './replicas/replicas.ts'
import { ResultFence } from './replicas/result-fence.ts'
import { bindPort, kafkaStep } from './startup-checks.ts'
import { reportStop, type StopSummary, stopSummaryOf } from './stop-report.ts'
import { BridgeTracing } from './telemetry/bridge-tracing.ts'

export type { Bridge, ComponentCrash } from './bridge.ts'

/**
 * Builds and starts every component from `config` (the composition root). It only wires: the adapters
 * (Kafka, the registry, the import API), the stages of the pipeline connected in data-flow order as in
 * the README's diagram, the HTTP apps, and the lifecycle that starts and stops them.
 *
 * @param deps.logger root logger; `deps.codec` and `deps.kafka` may replace the registry client and the
 *   Kafka client in tests; `deps.tracer` is OpenTelemetry's while tracing is on (src/telemetry/sdk.ts)
 * @throws BridgeError `CONFIG_INVALID` when a topic does not exist or the registry refuses the result
 *   schema; the broker's or registry's last error after `STARTUP_TIMEOUT_MS` (src/startup.ts); HTTP
 *   errors when a port is taken (whatever started is stopped again first)
 */
export async function startBridge(
  config: Config,
  deps: { logger: Logger; codec?: SchemaCodec; kafka?: Kafka; tracer?: Tracer | undefined },
): Promise<Bridge> {
  const { logger } = deps
  const deadline = Date.now() + config.startupTimeoutMs
  const metrics = createMetrics()
  const tracing = new BridgeTracing(deps.tracer, {
    inputTopic: config.topics.input,
    resultTopic: config.topics.result,
    consumerGroup: config.consumer.groupId,
  })
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

  // Adapters; each service is checked first, so that a start-up failure names it and its setting.
  const adapters = await connectAdapters(config, { ...deps, metrics, deadline, tracing })
  const { kafka, codec, resultSchemaId, inputPartitions, producer, client, groupOffsets } = adapters
  const offsets = new OffsetTracker()

  // The pipeline, in data-flow order: consumer → intake (decode, track, DLQ or admit, one file per
  // externalId) → batcher → job tracker → outcome publisher → intake.settle (offsets may be committed).
  const consumer = createGroupConsumer(kafka, config.consumer, {
    logger,
    metrics,
    onFatal: (err) => onFatal('consumer', err),
    handler: {
      onRecord: (record, control) => intake.onRecord(record, control),
      onAssignment: (a) => {
        intake.onAssignment(a)
        budget.assigned(a.partitionsOf(config.consumer.topic))
        // Revoked partitions' files left the submit queue above: submit the rest.
        jobs.holdForRebalance(false)
        fence?.joined()
      },
      // Before the rejoin: what settled since the last commit is committed while the partitions are still
      // this replica's, so their next owner does not import it again.
      onRevoking: () => void committer.commitNow(),
      // Until the join says what this replica owns, nothing is submitted (a partition that moves would
      // have its files submitted by both owners).
      onRebalancing: () => jobs.holdForRebalance(true),
      onEmptyRange: (position) => intake.onEmptyRange(position),
    },
    readCommitted: (partitions) => groupOffsets.committed(partitions),
  })
  // With a mapping (MAPPING_FILE) its decoder reads, maps and validates; without, the plain one alone.
  const decodeEvent = createEventDecoder(codec, config.decoder)
  // A record redriven REDRIVE_MAX_ATTEMPTS times is not decoded: it goes to the DLQ (the loop guard).
  const decode = withRedriveGuard(
    withTransientRetry(
      config.mapping === undefined
        ? (record: ConsumedRecord) => decodeEvent(record.value, record.headers)
        : createMappedDecoder(codec, config.decoder, config.mapping),
      config.registry.retry,
      (err, retryDelayMs) => {
        metrics.decodeRetries.inc()
        logger.warn({ err, retryDelayMs }, 'decoding paused by a transient error; retrying')
      },
    ),
    config.redrive,
    (outcome) => metrics.redrivenRecords.inc({ outcome }),
  )
  // Files of followed jobs consumed again on a partition revoked and assigned back: not submitted again.
  const regained = new RegainedFiles({ metrics, logger: logger.child({ component: 'regained-files' }) })
  // Fetching pauses while the intake (backpressure, shutdown) or an operator's pause holds it.
  const fetchSwitch = new FetchSwitch(consumer)
  const intake = createIntake(config.backpressure, {
    decode,
    offsets,
    fetch: fetchSwitch.control('intake'),
    deadLetter: (record, failure) => publisher.publishDlq(record, failure),
    release: (file) => {
      if (replicas?.claim(file) !== true) batcher.add(file)
    },
    dropHeld: (isOwned, isNew) => {
      // Files of jobs this replica still follows on partitions assigned back to it are taken back.
      regained.onAssignment(jobs.followedFiles(), isOwned, isNew)
      return [
        ...batcher.dropPartitions(isOwned),
        ...jobs.dropQueued(isOwned),
        ...(replicas?.onAssignment(isOwned, isNew) ?? []),
      ]
    },
    observe: (position) => replicas?.observe(position),
    regained,
    metrics,
    logger,
    tracing,
  })
  metrics.observeInFlight(() => ({ oldestAt: intake.oldestInFlightAt() }))
  const batcher = new Batcher(
    config.batcher,
    (batch) => {
      logger.debug({ batchId: batch.id, files: batch.files.length, closedBy: batch.closedBy }, 'batch closed')
      jobs.enqueue(batch)
    },
    (file, reason) => jobs.refuse(file, reason),
    tracing,
  )
  // The holds in force after the API refused or throttled us, one for every call of it.
  const gate = new ApiGate({ metrics, logger: logger.child({ component: 'api-gate' }) })
  const jobs = new JobTracker(config.jobs, {
    client,
    logger,
    metrics,
    gate,
    onConcluded: (job) => entries.conclude(job),
    onJobStarted: (jobId, batch) => replicas?.jobStarted(jobId, batch),
    // Files of a submit withdrawn unsent because their partitions were revoked: their keys are released.
    onRevokedFiles: (files) => intake.settle([], files),
    tracing,
  })
  // A concluded job's files checked against the media library (a timed-out job's looked up; with
  // ON_EXISTING=metadata an existing entry updated), then published.
  const entries = new ExistingEntries(config.existingEntries, {
    library: client,
    gate,
    metrics,
    logger,
    onReady: (job) => {
      admin?.concluded(job)
      // With the job log on, only the owner of a file's partition publishes its result (the fence);
      // without it, this replica publishes every result of its job (nobody adopts it).
      if (fence === null) void publisher.publishJob(job)
      else fence.conclude(job)
    },
  })
  // MAX_JOBS_IN_FLIGHT and API_RATE_LIMIT_PER_SECOND: this replica's share of the group's (API_LIMITS_SCOPE).
  // With API_LIMITS_SCOPE=replica the share is the whole of both, whatever the partitions: their count is
  // neither read at start-up (src/startup.ts) nor after each join.
  const budget = createApiBudget(config.apiBudget, {
    partitionCount: inputPartitions ?? 1,
    readPartitionCount:
      config.apiBudget.scope === 'group'
        ? () => topicPartitionCount(kafka, config.consumer.topic)
        : undefined,
    apply: (share) => {
      jobs.setMaxJobsInFlight(share.maxJobsInFlight)
      entries.setMaxInFlight(share.maxJobsInFlight)
      client.setRateLimit(share.rateLimitPerSecond)
    },
    logger,
    metrics,
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
      onSettled: (positions, files) => {
        regained.published(files)
        intake.settle(positions, files)
      },
      onFatal: (err) => onFatal('outcome publisher', err),
      tracing,
    },
  )
  // Several replicas (docs/replicas.md): null when both features are off.
  const replicas = createReplicas(config.replicas, {
    kafka,
    send: (topic, messages) => producer.send(topic, messages),
    tracker: jobs,
    release: (file) => batcher.add(file),
    // Published files in the job log on newly owned partitions: settled when they come again.
    expectPublished: (positions) => regained.expectPublished(positions),
    metrics,
    logger,
    onFatal,
  })
  // The job log's fence: a concluded job's results are published by the owner of each file's partition.
  const fence =
    replicas?.fencesResults === true
      ? new ResultFence({
          ownership: {
            get rebalancing() {
              return consumer.rebalancing
            },
            owns: (position) => consumer.assignment.owns(position),
          },
          publishedElsewhere: (jobId, position) => replicas.publishedElsewhere(jobId, position),
          publish: (job) => publisher.publishJob(job),
          settle: (positions, files) => {
            regained.published(files)
            intake.settle(positions, files)
          },
          release: (files) => intake.settle([], files),
          finished: (jobId, job, published, elsewhere) =>
            replicas.jobFinished(jobId, job.batch, published, elsewhere),
          endSpan: (job) => tracing.endJob(job.span),
          metrics,
          logger,
        })
      : null
  const committer = createCommitter(config.commit, {
    offsets,
    consumer,
    onCommitted: (done) => replicas?.committed(done),
    metrics,
    logger,
  })
  const progress = new ProgressEstimator({ windowMs: config.lag.rateWindowMs })
  const lagMonitor = createLagMonitor(groupOffsets, config.lag, {
    metrics,
    logger,
    owned: () => consumer.assignment.partitionsOf(config.consumer.topic),
    onSnapshot: (snapshot) => {
      const reading = progress.observe(snapshot)
      exportBacklog(metrics, reading)
      admin?.progressRead(reading)
    },
  })
  // The admin API (ADMIN_TOKEN): an operator's pause of the whole group, read from the control topic.
  const admin = createAdmin(
    { ...config.admin, groupId: config.consumer.groupId, topic: config.consumer.topic },
    {
      kafka,
      send: (topic, messages) => producer.send(topic, messages),
      stages: { consumer, fetch: fetchSwitch, intake, offsets, batcher, jobs, publisher },
      metrics,
      logger,
      onFatal,
    },
  )

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
      ...(admin?.readiness() ?? []),
      ...publisher.readiness(),
    ],
    liveness: () => (crash === null ? [] : [`${crash.component} stopped for good`]),
    ...(admin === null ? {} : { admin: admin.router }),
  })

  // Start in this order; stop runs it backwards: stop fetching, flush, conclude jobs, publish, commit,
  // then close and disconnect (src/lifecycle.ts).
  const servers: HttpServer[] = []
  const drained = { jobs: false, sends: false }
  let summary: StopSummary | undefined
  const life = new Lifecycle({ logger })
    .add('import client', { stop: () => client.close() })
    .add('http servers', {
      start: async () => {
        const { host, port, metricsPort } = config.http
        servers.push(await bindPort('HTTP_PORT', { host, port }, (at) => listen(webhookApp, at)))
        servers.push(await bindPort('METRICS_PORT', { host, port: metricsPort }, (at) => listen(opsApp, at)))
      },
      stop: () => Promise.all(servers.map((s) => s.close())),
    })
    .add('producer', {
      start: () =>
        kafkaStep(`the Kafka producer (KAFKA_BROKERS=${config.kafka.brokers})`, () => producer.start()),
      stop: () => producer.stop(),
    })
    .add('group offsets', { stop: () => groupOffsets.close() })
    .add('consumers', {
      // The replicas' readers first: forwarded webhooks and the job log are read before records come.
      start: async () => {
        await kafkaStep("the replicas' readers (JOB_NOTIFICATIONS_TOPIC, JOB_LOG_TOPIC)", async () =>
          replicas?.start(),
        )
        // A pause in force applies before the first fetch (a replica started during a pause stays paused).
        await kafkaStep('the control topic reader (CONTROL_TOPIC)', async () => admin?.start())
        const { groupId, topic } = config.consumer
        await kafkaStep(`the consumer group KAFKA_GROUP_ID=${groupId} on INPUT_TOPIC=${topic}`, () =>
          consumer.start(),
        )
      },
      // In parallel: each disconnect waits for its fetch in progress.
      stop: () => Promise.all([consumer.stop(), replicas?.stop(), admin?.stop()]),
    })
    .add('adoptions', {
      stop: () => {
        replicas?.close()
        fence?.close()
      },
    })
    .add('lag monitor', { start: () => lagMonitor.start(), stop: () => lagMonitor.stop() })
    .add('outcome publisher', { stop: () => publisher.close() })
    .add('job tracker', {
      start: () => {
        jobs.start()
        entries.start()
      },
      stop: () => {
        jobs.close()
        entries.close()
      },
    })
    .add('commit loop', {
      start: () => committer.start(),
      stop: async () => {
        await committer.stop()
        summary = stopSummaryOf({ publisher, intake, jobs, committer, drained, crash })
      },
    })
    // Entries of jobs still running must reach the job log even when the grace period is spent.
    .add('job log writes', { stop: (leftMs) => replicas?.drain(leftMs) })
    .add('result sends', { stop: async (leftMs) => (drained.sends = await publisher.drain(leftMs)) })
    .add('checks of concluded jobs', {
      stop: async (leftMs) => (drained.jobs = (await entries.waitIdle(leftMs)) && drained.jobs),
    })
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
      tracing: tracing.on,
    },
    'bridge started',
  )

  const stop = () => {
    // One summary line ends the stop (src/stop-report.ts); before the commit loop ran there is nothing to sum up.
    stopped ??= life
      .stop(config.shutdownGraceMs)
      .then(() => (summary === undefined ? logger.info('bridge stopped') : reportStop(logger, summary)))
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
