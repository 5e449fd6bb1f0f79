import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { createBroadcastConsumer } from '../kafka/broadcast-consumer.ts'
import type { Kafka } from '../kafka/client.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { Batch, PendingFile } from '../model/files.ts'
import type { CommittableOffset, RecordPosition } from '../model/records.ts'
import type { AdoptingTracker } from './adoptions.ts'
import { JobLog, type SendRecords } from './job-log.ts'
import { JobNotifications } from './job-notifications.ts'

/**
 * How long start-up waits for the job log to be read to its end before the group consumer joins, ms:
 * running jobs must be known before their partitions are assigned, or they are submitted again.
 */
export const JOB_LOG_CATCH_UP_TIMEOUT_MS = 30_000

/** How long shutdown waits for job log writes at least, even when the grace period is spent, ms. */
export const JOB_LOG_DRAIN_MIN_MS = 5_000

/** Options of {@link createReplicas}: the `jobNotifications` and `jobLog` groups of the config. */
export interface ReplicasOptions {
  /** The bridge's consumer group; each replica reads the internal topics in groups named after it. */
  groupId: string
  /**
   * Webhook forwarding (`JOB_NOTIFICATIONS_*`); on only with webhooks. Durations in ms, default
   * `FORWARD_TIMEOUT_MS`.
   */
  jobNotifications: { enabled: boolean; topic: string; forwardTimeoutMs?: number }
  /**
   * Adoption of running jobs (`JOB_LOG_*`). Durations in ms, defaults `ADOPTION_TIMEOUT_MS` and
   * {@link JOB_LOG_CATCH_UP_TIMEOUT_MS}.
   */
  jobLog: { enabled: boolean; topic: string; adoptionTimeoutMs?: number; catchUpTimeoutMs?: number }
}

/**
 * What several replicas of the bridge add to the pipeline (docs/replicas.md), as the hooks
 * the pipeline calls. With one replica there is no such object and the pipeline calls none of them.
 */
export interface Replicas {
  /** Every consumed record's position, in partition order, before the key sequencer. */
  observe(position: RecordPosition): void
  /** A file the key sequencer released: true when a pending adoption takes it (not the batcher). */
  claim(file: PendingFile): boolean
  /** After a rebalance: adoptions for newly owned partitions; @returns held files of revoked ones */
  onAssignment(isOwned: (p: RecordPosition) => boolean, isNew: (p: RecordPosition) => boolean): PendingFile[]
  /** Livingdocs accepted `batch` as import job `jobId`. */
  jobStarted(jobId: string, batch: Batch): void
  /**
   * The result events of `published`, files of job `jobId`, are acknowledged, and those of `elsewhere`
   * were found published by another replica: the job log keeps the job's other files, or writes its
   * tombstone (`JobLog.finished`).
   */
  jobFinished(
    jobId: string,
    batch: Batch,
    published: readonly RecordPosition[],
    elsewhere: readonly RecordPosition[],
  ): void
  /** This replica committed `offsets`: logged files below them leave the job log (`JobLog.committed`). */
  committed(offsets: readonly CommittableOffset[]): void
  /** Whether another replica published the result of this file of job `jobId` (`JobLog.publishedElsewhere`). */
  publishedElsewhere(jobId: string, position: RecordPosition): boolean
  /** True when the job log is on: then a job's results are fenced by partition ownership (`ResultFence`). */
  readonly fencesResults: boolean
  /** Passes a webhook of a job this replica does not track on; undefined without forwarding. */
  readonly forwardWebhook: JobNotifications['forward'] | undefined
  /** Problems that make this replica not ready (a reader that has not joined its group). */
  readiness(): string[]
  /** Starts the readers; the job log is read to its end first. @throws kafkajs errors */
  start(): Promise<void>
  /** Waits for job log writes, at least {@link JOB_LOG_DRAIN_MIN_MS}. */
  drain(timeoutMs: number): Promise<boolean>
  /** Clears adoption timers. */
  close(): void
  /** Disconnects the readers. */
  stop(): Promise<void>
}

/**
 * Builds the multi-replica features that are switched on: webhook forwarding over the job
 * notifications topic, and the job log with adoption of running jobs. Each reads its topic with a
 * consumer group of its own (`<groupId>.job-notifications.<instance>`, `<groupId>.job-log.<instance>`),
 * see `createBroadcastConsumer`.
 *
 * @param deps.send the idempotent producer's send
 * @param deps.tracker the job tracker: adopts jobs, says which it follows, takes webhook notices
 * @param deps.release passes a file to the batcher when an adoption gives up
 * @param deps.onFatal told when a reader crashed for good, with the reader's name
 * @returns null when both features are off (a single replica)
 */
export function createReplicas(
  options: ReplicasOptions,
  deps: {
    kafka: Kafka
    send: SendRecords
    tracker: AdoptingTracker & { notify(jobId: string | undefined, notice: { batchId?: string }): boolean }
    release: (file: PendingFile) => void
    expectPublished?: (positions: RecordPosition[]) => number
    metrics: Metrics
    logger: Logger
    onFatal?: (component: string, err: unknown) => void
  },
): Replicas | null {
  if (!options.jobNotifications.enabled && !options.jobLog.enabled) return null
  const { kafka, metrics, logger } = deps
  const instanceId = `${hostname()}-${randomUUID().slice(0, 8)}`
  const jobLog = options.jobLog.enabled
    ? new JobLog(
        { topic: options.jobLog.topic, adoptionTimeoutMs: options.jobLog.adoptionTimeoutMs },
        {
          send: deps.send,
          tracker: deps.tracker,
          release: deps.release,
          ...(deps.expectPublished === undefined ? {} : { expectPublished: deps.expectPublished }),
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
            topic: options.jobLog.topic,
            groupId: `${options.groupId}.job-log.${instanceId}`,
            fromBeginning: true,
          },
          {
            logger,
            onRecord: (record) => jobLog.onRecord(record),
            onFatal: (err) => deps.onFatal?.('job log reader', err),
          },
        )
  const notifications = options.jobNotifications.enabled
    ? new JobNotifications(
        {
          topic: options.jobNotifications.topic,
          instanceId,
          forwardTimeoutMs: options.jobNotifications.forwardTimeoutMs,
        },
        {
          send: deps.send,
          notify: (id, batchId) => deps.tracker.notify(id ?? undefined, { batchId }),
          metrics,
          logger,
        },
      )
    : null
  const notificationsReader =
    notifications === null
      ? null
      : createBroadcastConsumer(
          kafka,
          {
            topic: options.jobNotifications.topic,
            groupId: `${options.groupId}.job-notifications.${instanceId}`,
          },
          {
            logger,
            onRecord: (record) => notifications.onRecord(record),
            onFatal: (err) => deps.onFatal?.('job notifications reader', err),
          },
        )

  return {
    observe: (position) => jobLog?.observe(position),
    claim: (file) => jobLog?.claim(file) ?? false,
    onAssignment: (isOwned, isNew) => jobLog?.onAssignment(isOwned, isNew) ?? [],
    jobStarted: (jobId, batch) => jobLog?.started(jobId, batch),
    jobFinished: (jobId, batch, published, elsewhere) => jobLog?.finished(jobId, batch, published, elsewhere),
    committed: (offsets) => jobLog?.committed(offsets),
    publishedElsewhere: (jobId, position) => jobLog?.publishedElsewhere(jobId, position) ?? false,
    fencesResults: jobLog !== null,
    forwardWebhook: notifications === null ? undefined : (webhook) => notifications.forward(webhook),
    readiness() {
      const problems: string[] = []
      if (notificationsReader !== null && !notificationsReader.isReady)
        problems.push('job notifications consumer has not joined its group')
      if (jobLogReader !== null && !jobLogReader.isReady)
        problems.push('job log reader has not joined its group')
      return problems
    },
    async start() {
      // Before the group consumer: webhooks of this replica's jobs forwarded by others are read from now on.
      await notificationsReader?.start()
      if (jobLogReader !== null) {
        // The whole log is read before the first assignment, so that a restart adopts its running jobs.
        await jobLogReader.start()
        await jobLogReader.waitCaughtUp(options.jobLog.catchUpTimeoutMs ?? JOB_LOG_CATCH_UP_TIMEOUT_MS)
        logger.info({ jobs: jobLog?.size }, 'job log read')
      }
    },
    drain: (timeoutMs) => jobLog?.drain(Math.max(timeoutMs, JOB_LOG_DRAIN_MIN_MS)) ?? Promise.resolve(true),
    close: () => jobLog?.close(),
    async stop() {
      await Promise.all([notificationsReader?.stop(), jobLogReader?.stop()])
    },
  }
}
