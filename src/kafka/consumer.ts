import { setImmediate } from 'node:timers/promises'
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import type { Logger } from '../logging.ts'
import { Assignment } from '../model/assignment.ts'
import type { CommittableOffset, ConsumedRecord } from '../model/records.ts'
import { isBrokerHiccup } from './kafka-errors.ts'
import { decodedHeaders } from './record-format.ts'

/**
 * Records handed to the pipeline between two turns of the event loop. Measured in the benchmark
 * (instant jobs, V8's default heap): without yielding, API responses and webhooks waited behind whole
 * fetch responses, the files in flight sat at MAX_FILES_IN_FLIGHT and p50 event-to-result latency was
 * ~300 ms; every 64 records: ~50 ms and up to 10% more events/s (16 and 32: as 64; 256, 512: no gain).
 * With the Helm chart's heap flags (old space capped) ~8% fewer events/s when CPU-bound; kept for the
 * latency (docs/benchmark.md).
 */
const YIELD_EVERY_RECORDS = 64

/** What the consumer asks of the pipeline. */
export interface RecordHandler {
  /**
   * Takes one record. Must return quickly (never await an import job): kafkajs heartbeats only between
   * batches. May reject only for a transient problem, after which the record is fetched again.
   * @returns false when the pipeline takes no more records now (shutting down): the record and the rest
   *   of the batch stay unresolved and are fetched again by the next owner
   */
  onRecord(
    record: ConsumedRecord,
    control: { heartbeat(): Promise<void>; isRunning(): boolean },
  ): boolean | Promise<boolean>
  /** Called after each join of the consumer group with the partitions now owned (a rebalance). */
  onAssignment(assignment: Assignment): void
}

/** Options of {@link createGroupConsumer}. */
export interface GroupConsumerOptions {
  groupId: string
  topic: string
  /** Where a new consumer group starts: from the earliest offset (a backfill loses nothing). */
  fromBeginning?: boolean
  /** Group session timeout, ms (default 30000): how long a member that vanished keeps its partitions. */
  sessionTimeoutMs?: number
  /** Heartbeat interval, ms (default a third of the session timeout, at most 3000). */
  heartbeatIntervalMs?: number
  /** Most bytes one fetch response may carry, over all partitions (default 10 MiB; KIP-74 `max_bytes`). */
  fetchMaxBytes?: number
  /** Most bytes one fetch response may carry per partition (default 1 MiB). */
  fetchMaxBytesPerPartition?: number
  /** Longest a fetch waits on the broker for data, and kafkajs' sleep while all partitions are paused (ms). */
  maxWaitTimeMs?: number
}

/**
 * kafkajs' consumer option deciding whether a crashed consumer is started again (`retry.restartOnFailure`,
 * asked after a retriable crash): only when the crash was a broker hiccup (src/kafka/kafka-errors.ts),
 * which passes once the broker is back. Anything else (an error from the pipeline or from kafkajs'
 * own parsing, retried to exhaustion) would crash again on the same record: no restart, so the crash
 * reaches `onFatal` instead of looping forever.
 */
export const RESTART_ONLY_AFTER_HICCUPS = {
  restartOnFailure: async (err: Error): Promise<boolean> => isBrokerHiccup(err),
}

/**
 * Sees a consumer's crashes (kafkajs' `consumer.crash` event): one that kafkajs restarts is logged and
 * leaves the consumer not ready until it rejoins; one it does not restart (`restart: false`, e.g. a
 * compression codec it lacks, or a crash {@link RESTART_ONLY_AFTER_HICCUPS} refused) ends the consumer
 * for good and goes to `onFatal`, unless the consumer is stopping anyway.
 * @param onCrash told of every crash (the consumer's not-ready state)
 */
export function watchCrashes(
  consumer: Consumer,
  deps: { logger: Logger; onFatal: (err: unknown) => void; isStopping: () => boolean },
  onCrash: (err: Error) => void,
): void {
  consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload
    onCrash(error)
    if (restart) deps.logger.warn({ err: error }, 'consumer crashed; kafkajs starts it again')
    else if (deps.isStopping()) deps.logger.warn({ err: error }, 'consumer crashed while stopping')
    else deps.onFatal(error)
  })
}

/**
 * A consumer group member on one topic. Auto-commit and auto-resolve are off: `resolveOffset` only
 * moves the fetch position once a record is handed to the pipeline; offsets are committed explicitly
 * with {@link GroupConsumer.commit}, from the offset tracker (kafkajs docs, Consuming.md "eachBatch").
 *
 * @param deps.onFatal called once the consumer crashed for good (see {@link watchCrashes}); the bridge
 *   then stops and the process exits
 */
export function createGroupConsumer(
  kafka: Kafka,
  options: GroupConsumerOptions,
  deps: { logger: Logger; handler: RecordHandler; onFatal?: (err: unknown) => void },
) {
  const log = deps.logger.child({ component: 'consumer' })
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs ?? Math.min(3_000, Math.floor(sessionTimeoutMs / 3)),
    // kafkajs sleeps this long whenever every partition is paused, so it is also the delay before a
    // resume after backpressure takes effect; its default 5000 ms stalled the pipeline for up to 5 s
    // per pause, and 500 ms (the Java consumer's fetch.max.wait.ms) still outlasted the files left in
    // flight at the resume mark (5,000 at ~16k/s are ~300 ms), so the pipeline ran dry after each
    // pause. The price of 100 ms: an idle consumer's long poll returns 10 times a second, not twice.
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 100,
    allowAutoTopicCreation: false,
    // Bounded fetches: one fetch response holds at most this much, whatever the backlog.
    maxBytes: options.fetchMaxBytes ?? 10_485_760,
    maxBytesPerPartition: options.fetchMaxBytesPerPartition ?? 1_048_576,
    retry: RESTART_ONLY_AFTER_HICCUPS,
  })
  let assignment = Assignment.NONE
  let joined = false
  let paused = false
  let crashed: Error | null = null
  let stopping = false
  let sinceYield = 0

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    assignment = new Assignment(
      Object.entries(event.payload.memberAssignment).map(([topic, partitions]) => ({ topic, partitions })),
    )
    joined = true
    crashed = null
    log.info({ generation: event.payload.memberId, assigned: assignment.topics }, 'joined consumer group')
    deps.handler.onAssignment(assignment)
    // A rejoin resumes fetching; keep the pause if backpressure still holds.
    if (paused) consumer.pause([{ topic: options.topic }])
  })
  // A rebalance starts (kafkajs rejoins with the eager protocol: every partition is revoked). Until the
  // next join says what this member owns, it owns nothing: no commit goes out for a partition that may
  // already belong to another member (the coordinator would also fence it by generation).
  consumer.on(consumer.events.REBALANCING, () => {
    if (assignment.size > 0) log.info({ revoked: assignment.topics }, 'rebalance: partitions revoked')
    assignment = Assignment.NONE
  })
  watchCrashes(
    consumer,
    { logger: log, onFatal: deps.onFatal ?? (() => undefined), isStopping: () => stopping },
    (err) => {
      crashed = err
    },
  )

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload
    const control = { heartbeat, isRunning }
    // Resolved once, for the last record taken: kafkajs' resolveOffset does 64-bit arithmetic with Long
    // objects per call, and only the last resolved offset counts (the next fetch starts after it).
    let lastTaken: string | undefined
    // Whether the consumer still runs and the batch is still this member's: asked again after each await
    // only (kafkajs' isStale builds a key string per call; between awaits nothing else runs to change it).
    let current = isRunning() && !isStale()
    try {
      for (const message of batch.messages) {
        // Paused (backpressure, shutdown) or no longer this member's: leave the rest unresolved; it is
        // fetched again from the last resolved offset on resume, or by the next owner. A fetch response
        // already in hand is not pushed into the pipeline, so files in flight stay at the limit.
        if (!current || paused) break
        // At once for most records (no promise per record); a promise when the record waits (a registry
        // lookup, a mapping).
        let taken = deps.handler.onRecord(
          {
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: decodedHeaders(message),
            timestamp: Number(message.timestamp),
          },
          control,
        )
        if (typeof taken !== 'boolean') {
          taken = await taken
          current = isRunning() && !isStale()
        }
        if (!taken) break
        lastTaken = message.offset
        // Let I/O in between (API responses, webhooks, produce acks): a fetch response holds thousands of
        // records, and awaits of settled promises alone never yield to the event loop.
        if (++sinceYield >= YIELD_EVERY_RECORDS) {
          sinceYield = 0
          await setImmediate()
          current = isRunning() && !isStale()
        }
      }
    } finally {
      if (lastTaken !== undefined) resolveOffset(lastTaken)
    }
    await heartbeat()
  }

  return {
    /** Connects, subscribes and starts fetching. @throws kafkajs errors when the broker is unreachable */
    async start(): Promise<void> {
      await consumer.connect()
      await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning ?? true })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch,
      })
    },
    /**
     * Commits offsets (each the next offset to read) for partitions this member owns now; offsets of
     * partitions no longer owned are dropped, never committed.
     * @returns the offsets actually committed
     */
    async commit(offsets: CommittableOffset[]): Promise<CommittableOffset[]> {
      const mine = offsets.filter((o) => assignment.owns(o))
      if (mine.length === 0) return []
      await consumer.commitOffsets(mine)
      return mine
    },
    /** Stops fetching from every partition of the topic (backpressure, shutdown). */
    pause(): void {
      if (paused) return
      paused = true
      consumer.pause([{ topic: options.topic }])
    },
    resume(): void {
      if (!paused) return
      paused = false
      consumer.resume([{ topic: options.topic }])
    },
    get isPaused(): boolean {
      return paused
    },
    /** The partitions owned now ({@link Assignment.NONE} during a rebalance). */
    get assignment(): Assignment {
      return assignment
    },
    /** True once the member joined the group and has not crashed. */
    get isReady(): boolean {
      return joined && crashed === null
    },
    /** Leaves the group and closes connections. */
    async stop(): Promise<void> {
      stopping = true
      await consumer.disconnect()
    },
  }
}

export type GroupConsumer = ReturnType<typeof createGroupConsumer>
