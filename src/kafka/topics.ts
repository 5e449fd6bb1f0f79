import type { Kafka } from 'kafkajs'
import { BridgeError } from '../errors.ts'
import { retryUntil } from '../retry-until.ts'
import { isBrokerHiccup } from './kafka-errors.ts'

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
 * The number of partitions of `topic` (from the cluster's metadata).
 * @throws kafkajs errors when the brokers cannot be reached or the topic does not exist
 */
export async function topicPartitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
    return topics.find((t) => t.name === topic)?.partitions.length ?? 0
  } finally {
    await admin.disconnect()
  }
}

/** Longest {@link ensureTopics} waits for the new topics' leaders, ms. */
const LEADERS_TIMEOUT_MS = 30_000

/** A new topic's partition without a leader in the broker's metadata yet: asked again. */
class LeaderNotElected extends Error {}

/**
 * Creates the topics that do not exist yet (for the demo, tests and local runs; production topics are
 * usually created by the platform), then waits until the broker's metadata gives every partition of
 * each a leader. Right after a creation a broker may answer a metadata request for the topic with a
 * retriable error (UNKNOWN_TOPIC_OR_PARTITION as well as LEADER_NOT_AVAILABLE, Kafka protocol "Metadata";
 * kafkajs' own `waitForLeaders` retries only the latter): every retriable error is asked again, with
 * backoff from 100 ms, for up to 30 s.
 * @throws kafkajs errors when the broker cannot be reached, refuses the creation, or a leader is still
 *   missing after 30 s
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
    if (missing.length === 0) return
    await admin.createTopics({ topics: missing, waitForLeaders: false })
    const names = missing.map((t) => t.topic)
    await retryUntil(
      async () => {
        const { topics: found } = await admin.fetchTopicMetadata({ topics: names })
        const leaderless = found.filter((t) => t.partitions.some((p) => p.leader < 0)).map((t) => t.name)
        if (leaderless.length > 0)
          throw new LeaderNotElected(`no leader yet for a partition of ${leaderless.join(', ')}`)
      },
      {
        deadline: Date.now() + LEADERS_TIMEOUT_MS,
        isTransient: (err) => err instanceof LeaderNotElected || isBrokerHiccup(err),
        onWait: () => undefined,
        backoff: { minMs: 100, maxMs: 1_000 },
      },
    )
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

/**
 * The control topic's configs when the bridge creates it (the chart creates it likewise): compacted, so
 * the last record per consumer group (paused or not) stays for replicas that start later.
 */
export const CONTROL_TOPIC_CONFIG = JOB_LOG_TOPIC_CONFIG

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
  admin?: { token: string | undefined; controlTopic: string }
}): RequiredTopic[] {
  const { topics, replicas, admin } = config
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
    ...(admin?.token !== undefined
      ? [{ setting: 'CONTROL_TOPIC', topic: admin.controlTopic, configEntries: CONTROL_TOPIC_CONFIG }]
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
