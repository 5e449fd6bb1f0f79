import type { Producer, ProducerConfig } from 'kafkajs'
import type { Kafka } from '../../src/kafka/client.ts'

/**
 * The kafkajs producer with which tests write records they count: idempotent (KIP-98, one request in
 * flight), so that a retried produce request does not write its records twice. kafkajs retries a whole
 * request when one partition of it answers with an error; without idempotence the partitions that had
 * taken it got its records a second time (seen in a full run on 2026-12-07: the first request to a
 * topic created a moment before was refused for partition 0, and partitions 1 and 2 held every record
 * twice, so the redrive test found the files it expected retention to have removed at later offsets).
 * Not connected yet.
 * @param options kafkajs producer options besides the idempotence (e.g. a `transactionalId`)
 */
export function testProducer(
  kafka: Kafka,
  options: Omit<ProducerConfig, 'idempotent' | 'maxInFlightRequests'> = {},
): Producer {
  return kafka.producer({ ...options, idempotent: true, maxInFlightRequests: 1 })
}
