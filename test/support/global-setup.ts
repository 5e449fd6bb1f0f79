/**
 * vitest globalSetup of the `integration` project (see vitest.config.ts).
 *
 * Runs once, in the main vitest process, before any integration test file:
 * resolves a Kafka broker + schema registry with resolveKafkaEnv() (env vars,
 * else Docker via testcontainers, else `scripts/stack start`) and hands them
 * to the tests through vitest's provide/inject API, under the key `kafka`:
 *
 *   import { inject } from 'vitest'
 *   const { brokers, schemaRegistryUrl } = inject('kafka')
 *
 * This is the only channel: process.env.KAFKA_BROKERS / SCHEMA_REGISTRY_URL are
 * NOT set for test workers (code under test that reads them gets its config
 * from the test, built from inject('kafka')).
 *
 * The returned teardown stops whatever resolveKafkaEnv started (containers, or
 * the local stack if it was not already running).
 */
import type { TestProject } from 'vitest/node'
import { resolveKafkaEnv } from './kafka-env.ts'

/** What `inject('kafka')` returns in integration tests. */
export interface ProvidedKafka {
  /** Bootstrap brokers, `host:port` each. */
  brokers: string[]
  /** Confluent-compatible registry base URL, e.g. `http://127.0.0.1:8081/apis/ccompat/v7`. */
  schemaRegistryUrl: string
  /** Where they came from: 'env' | 'testcontainers' | 'local-stack'. */
  source: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafka: ProvidedKafka
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now()
  const kafka = await resolveKafkaEnv()
  console.error(
    `[global-setup] kafka ${kafka.brokers.join(',')}, registry ${kafka.schemaRegistryUrl} (${kafka.source}, ${Date.now() - started} ms)`,
  )
  project.provide('kafka', {
    brokers: kafka.brokers,
    schemaRegistryUrl: kafka.schemaRegistryUrl,
    source: kafka.source,
  })
  return async () => {
    await kafka.stop()
  }
}
