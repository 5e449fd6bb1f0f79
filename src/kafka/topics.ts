import type { Kafka } from 'kafkajs'
import { BridgeError } from '../errors.ts'

/**
 * Returns which of `topics` do not exist on the cluster.
 * @throws kafkajs errors when the brokers cannot be reached
 */
export async function findMissingTopics(kafka: Kafka, topics: string[]): Promise<string[]> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    return topics.filter((t) => !existing.has(t))
  } finally {
    await admin.disconnect()
  }
}

/**
 * Creates the topics that do not exist yet (for the demo, tests and local runs; production topics are
 * usually created by the platform). Waits for leaders to be elected.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: Array<{
    topic: string
    numPartitions: number
    configEntries?: Array<{ name: string; value: string }>
  }>,
): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const missing = topics.filter((t) => !existing.has(t.topic))
    if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
}

/**
 * Topic settings of a job notifications topic created by `CREATE_MISSING_TOPICS`: notifications are
 * useful for seconds, so one hour of retention is plenty (Kafka topic configs `retention.ms`,
 * `cleanup.policy`).
 */
export const JOB_NOTIFICATIONS_TOPIC_CONFIG = [
  { name: 'cleanup.policy', value: 'delete' },
  { name: 'retention.ms', value: String(60 * 60 * 1000) },
]

/**
 * Topic settings of a job log topic created by `CREATE_MISSING_TOPICS`: compacted, so that it keeps
 * the latest entry of each running job and drops finished ones (their tombstones) after
 * `delete.retention.ms`; hourly segments let the cleaner run.
 */
export const JOB_LOG_TOPIC_CONFIG = [
  { name: 'cleanup.policy', value: 'compact' },
  { name: 'segment.ms', value: String(60 * 60 * 1000) },
]

/** A topic the bridge needs: the setting that names it, and the configs it gets when created. */
export interface RequiredTopic {
  /** The environment variable that names the topic, for the error message. */
  setting: string
  topic: string
  configEntries?: Array<{ name: string; value: string }>
}

/**
 * The topics the bridge needs with these settings: input, result and DLQ, and the internal topics of
 * the replica features that are on (with the configs they get when created).
 */
export function requiredTopics(config: {
  topics: { input: string; result: string; dlq: string }
  replicas: {
    jobNotifications: { enabled: boolean; topic: string }
    jobLog: { enabled: boolean; topic: string }
  }
}): RequiredTopic[] {
  const { topics, replicas } = config
  return [
    { setting: 'INPUT_TOPIC', topic: topics.input },
    { setting: 'RESULT_TOPIC', topic: topics.result },
    { setting: 'DLQ_TOPIC', topic: topics.dlq },
    ...(replicas.jobNotifications.enabled
      ? [
          {
            setting: 'JOB_NOTIFICATIONS_TOPIC',
            topic: replicas.jobNotifications.topic,
            configEntries: JOB_NOTIFICATIONS_TOPIC_CONFIG,
          },
        ]
      : []),
    ...(replicas.jobLog.enabled
      ? [{ setting: 'JOB_LOG_TOPIC', topic: replicas.jobLog.topic, configEntries: JOB_LOG_TOPIC_CONFIG }]
      : []),
  ]
}

/**
 * Fails start-up when a required topic is missing, naming each missing topic and its setting; with
 * `create` (`CREATE_MISSING_TOPICS`) it creates them instead with `partitions` partitions (local runs).
 * @throws BridgeError `CONFIG_INVALID`; kafkajs errors when the brokers cannot be reached
 */
export async function checkTopics(
  kafka: Kafka,
  required: RequiredTopic[],
  options: { create: boolean; partitions: number },
): Promise<void> {
  const missing = new Set(
    await findMissingTopics(
      kafka,
      required.map((r) => r.topic),
    ),
  )
  if (missing.size === 0) return
  const absent = required.filter((r) => missing.has(r.topic))
  if (options.create) {
    await ensureTopics(
      kafka,
      absent.map((r) => ({
        topic: r.topic,
        numPartitions: options.partitions,
        ...(r.configEntries === undefined ? {} : { configEntries: r.configEntries }),
      })),
    )
    return
  }
  throw new BridgeError(
    'CONFIG_INVALID',
    `topics do not exist: ${absent.map((r) => `${r.setting}=${r.topic}`).join(', ')} (create them, or set CREATE_MISSING_TOPICS=true for a local run)`,
  )
}
