import type { Kafka } from 'kafkajs'

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
