import { z } from 'zod'
import type { OutgoingMessage } from '../kafka/producer.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { ConsumedRecord } from '../model/records.ts'
import { raceTimeout } from '../timeouts.ts'

/** How long forwarding a webhook waits for the broker's acknowledgement before the webhook gets a 503, ms. */
export const FORWARD_TIMEOUT_MS = 5_000

/**
 * A webhook seen by one replica, passed on to the replica that owns the job: JSON on the job
 * notifications topic, keyed by `jobId` (by `batchId` when the webhook named no job). The status endpoint stays the truth: the owner only reads it
 * earlier than its poller would. Fields: `jobId` (from the webhook body; null when it named none),
 * `batchId` (of the webhook's signed
 * `context`, verified by the receiving replica), `state` (the webhook's, informational, null when
 * absent), `receivedAt` (epoch ms), `from` (the instance id of the forwarding replica).
 */
const notificationSchema = z.object({
  jobId: z.string().min(1).max(200).nullable(),
  batchId: z.string().min(1).max(200),
  state: z.string().max(100).nullable(),
  receivedAt: z.number().int().nonnegative(),
  from: z.string().min(1).max(300),
})

/** A forwarded webhook (see {@link notificationSchema}). */
export type JobNotification = z.infer<typeof notificationSchema>

/** Options of {@link JobNotifications}. Durations in ms. */
export interface JobNotificationsOptions {
  /** The internal topic every replica reads (`JOB_NOTIFICATIONS_TOPIC`). */
  topic: string
  /** This process's id, unique among the replicas; its own notifications are skipped when read back. */
  instanceId: string
  /**
   * How long a forwarding waits for the broker's acknowledgement before the webhook gets a 503;
   * default {@link FORWARD_TIMEOUT_MS}.
   */
  forwardTimeoutMs?: number
}

/**
 * Forwards webhooks between replicas. A Kubernetes Service spreads Livingdocs' webhook calls over the
 * replicas, but only the replica whose consumer took the batch's partition tracks the job. The
 * replica that receives a webhook for a job it does not track publishes a {@link JobNotification}
 * ({@link forward}); every replica reads the topic ({@link onRecord}) and the one that tracks the job
 * calls `notify`, which reads the job's status (the truth, [F] §1.2). Others ignore it. Notifications
 * read from the topic are never forwarded again, so nothing loops. When a notification is lost (broker
 * down, a replica rejoining its broadcast group) the status poller still finishes the job.
 */
export class JobNotifications {
  readonly #options: JobNotificationsOptions
  readonly #forwardTimeoutMs: number
  readonly #send: (topic: string, messages: OutgoingMessage[]) => Promise<void>
  readonly #notify: (jobId: string | null, batchId: string) => boolean
  readonly #metrics: Metrics
  readonly #logger: Logger

  /**
   * @param deps.send publishes to Kafka and resolves once acknowledged (the idempotent producer)
   * @param deps.notify the job tracker's webhook entry point: reads the job's status if this process
   *   tracks it as a job of that batch, and returns whether it does
   */
  constructor(
    options: JobNotificationsOptions,
    deps: {
      send: (topic: string, messages: OutgoingMessage[]) => Promise<void>
      notify: (jobId: string | null, batchId: string) => boolean
      metrics: Metrics
      logger: Logger
    },
  ) {
    this.#options = options
    this.#forwardTimeoutMs = options.forwardTimeoutMs ?? FORWARD_TIMEOUT_MS
    this.#send = deps.send
    this.#notify = deps.notify
    this.#metrics = deps.metrics
    this.#logger = deps.logger.child({ component: 'job-notifications' })
  }

  /**
   * Publishes a notification for a webhook of a job this replica does not track, keyed by job id.
   * @returns true once the broker acknowledged it; false when it failed or took longer than
   *   `forwardTimeoutMs` (the send may still complete later; the poller is the fallback either way)
   */
  async forward(webhook: { jobId: string | null; batchId: string; state: string | null }): Promise<boolean> {
    const notification: JobNotification = {
      jobId: webhook.jobId,
      batchId: webhook.batchId,
      state: webhook.state,
      receivedAt: Date.now(),
      from: this.#options.instanceId,
    }
    const sent = this.#send(this.#options.topic, [
      { key: webhook.jobId ?? webhook.batchId, value: Buffer.from(JSON.stringify(notification)) },
    ]).then(
      () => 'sent' as const,
      (err: unknown) => {
        this.#logger.warn({ err, jobId: webhook.jobId }, 'job notification could not be published')
        return 'failed' as const
      },
    )
    const outcome = await raceTimeout(sent, this.#forwardTimeoutMs, 'timeout' as const)
    if (outcome === 'sent') {
      this.#metrics.jobNotifications.inc({ direction: 'forwarded' })
      this.#logger.debug({ jobId: webhook.jobId }, 'webhook forwarded to the job notifications topic')
      return true
    }
    this.#metrics.jobNotificationForwardFailures.inc()
    if (outcome === 'timeout')
      this.#logger.warn(
        { jobId: webhook.jobId, timeoutMs: this.#forwardTimeoutMs },
        'job notification not acknowledged in time',
      )
    return false
  }

  /**
   * Handles one record of the notifications topic: the replica that tracks the job reads its status
   * now; every other replica (including the forwarding one) ignores it. Malformed records are logged
   * and skipped. Never throws.
   */
  onRecord(record: ConsumedRecord): void {
    let parsed: JobNotification
    try {
      const result = notificationSchema.safeParse(JSON.parse(record.value?.toString('utf8') ?? 'null'))
      if (!result.success) throw new Error(result.error.issues.map((i) => i.message).join('; '))
      parsed = result.data
    } catch (err) {
      this.#logger.warn(
        { err, partition: record.partition, offset: record.offset },
        'malformed job notification skipped',
      )
      return
    }
    // The forwarding replica did not track the job when it forwarded; a fast job's webhook that beat
    // our own submit response was already noted by notify() then.
    if (parsed.from === this.#options.instanceId) return
    if (this.#notify(parsed.jobId, parsed.batchId)) {
      this.#metrics.jobNotifications.inc({ direction: 'received' })
      this.#logger.debug(
        { jobId: parsed.jobId, from: parsed.from, delayMs: Date.now() - parsed.receivedAt },
        'job notification received for a job of this replica; reading its status',
      )
    }
  }
}
