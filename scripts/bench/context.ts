/**
 * What every run of one bench shares: the repository root the children start in, and the bench's
 * context (Kafka client, broker and registry addresses, run id, log folder, options, cleanups).
 */
import { fileURLToPath } from 'node:url'
import type { Kafka } from '../../src/kafka/client.ts'
import type { BenchOptions } from './options.ts'

/** The repository root (with a trailing slash): the working directory of every child process. */
export const root = fileURLToPath(new URL('../..', import.meta.url))

/** One bench's shared state, built once by {@link runBench} and passed to every run. */
export interface BenchContext {
  kafka: Kafka
  kafkaEnv: { brokers: string; registryUrl: string }
  /** Prefix of every topic and consumer group of this bench, `bench-<base-36 ms>`. */
  runId: string
  /** Folder of the children's logs and the mapping file. */
  logDir: string
  options: BenchOptions
  /** Run in reverse order when the bench ends, whether it succeeded or not (children stopped here). */
  cleanups: Array<() => Promise<unknown> | unknown>
}
