/**
 * Creates the compacted control topic (`CONTROL_TOPIC`, default `file-import-bridge.control`) when it
 * is missing, with one partition and the configs of `CONTROL_TOPIC_CONFIG`: what the Helm chart's hook
 * Job runs (`node dist/admin/create-control-topic.js`) before the bridge's pods start, with
 * `KAFKA_BROKERS` and `KAFKA_CLIENT_ID` as the bridge reads them. Exit 0 when the topic exists, 1 with
 * one error line when Kafka cannot be reached, 78 when `KAFKA_BROKERS` is missing.
 */
import { createKafka } from '../kafka/client.ts'
import { CONTROL_TOPIC_CONFIG, ensureTopics } from '../kafka/topics.ts'
import { createLogger } from '../logging.ts'

async function main(): Promise<number> {
  const brokers = (process.env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '')
  const topic = process.env.CONTROL_TOPIC || 'file-import-bridge.control'
  const logger = createLogger({ level: 'info' })
  if (brokers.length === 0) {
    logger.fatal('KAFKA_BROKERS: is required')
    return 78
  }
  const kafka = createKafka(
    { brokers, clientId: process.env.KAFKA_CLIENT_ID || 'file-import-bridge' },
    { logger: logger.child({ component: 'kafka' }) },
  )
  try {
    await ensureTopics(kafka, [{ topic, numPartitions: 1, configEntries: CONTROL_TOPIC_CONFIG }])
  } catch (err) {
    logger.fatal({ err, topic }, 'control topic not created')
    return 1
  }
  logger.info({ topic }, 'control topic exists')
  return 0
}

process.exitCode = await main()
