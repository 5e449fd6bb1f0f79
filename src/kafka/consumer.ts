import { setImmediate } from 'node:timers/promises'
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { Assignment } from '../model/assignment.ts'
import type { CommittableOffset, ConsumedRecord, RecordPosition } from '../model/records.ts'
import { RESTART_ONLY_AFTER_HICCUPS, watchCrashes } from './consumer-crashes.ts'
import { reportJoin, reportReset } from './consumer-reports.ts'
import { FetchPositions } from './fetch-positions.ts'
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
  /**
   * Called when a rebalance starts, before this member rejoins, while `owned` (its last join's
   * partitions) is still its own: a commit begun synchronously here goes out before the rejoin, under
   * the generation that owns them (the Java consumer's `onPartitionsRevoked`). Not called when it owns
   * nothing.
   */
  onRevoking?(owned: Assignment): void
  /** Called when a rebalance starts: nothing is owned until the next {@link onAssignment}. */
  onRebalancing?(): void
  /**
   * Offsets up to and including `position.offset` hold no record to hand over: a fetch returned only
   * control records (a transaction's commit or abort marker, KIP-98) or records of aborted transactions,
   * which kafkajs filters out and moves past by itself.
   */
  onEmptyRange(position: RecordPosition): void
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
 * A consumer group member on one topic. Auto-commit and auto-resolve are off: `resolveOffset` only
 * moves the fetch position once a record is handed to the pipeline; offsets are committed explicitly
 * with {@link GroupConsumer.commit}, from the offset tracker (kafkajs docs, Consuming.md "eachBatch").
 *
 * Each join is counted (`bridge_rebalances_total`, partitions assigned and revoked) and logged in one
 * line. Before the first fetch of newly assigned partitions their committed offsets are read
 * (`deps.readCommitted`, the partitions paused meanwhile), so that a reset of the fetch position by
 * kafkajs (OffsetOutOfRange: records deleted by retention before they were read) is seen, counted
 * (`bridge_offsets_skipped_total`) and logged with both offsets ({@link FetchPositions}).
 *
 * @param deps.onFatal called once the consumer crashed for good (see {@link watchCrashes}); the bridge
 *   then stops and the process exits
 * @param deps.readCommitted the group's committed offsets of partitions of the topic (null: none)
 */
export function createGroupConsumer(
  kafka: Kafka,
  options: GroupConsumerOptions,
  deps: {
    logger: Logger
    metrics: Metrics
    handler: RecordHandler
    onFatal?: (err: unknown) => void
    readCommitted?: (partitions: number[]) => Promise<Map<number, bigint | null>>
  },
) {
  const log = deps.logger.child({ component: 'consumer' })
  const { metrics } = deps
  const topic = options.topic
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
  /** What the last join assigned (kept through a rebalance, to tell what the next join changed). */
  let joinedWith = Assignment.NONE
  let joined = false
  /** Between the start of a rebalance and the next join: what this member owns is not known. */
  let rebalancing = false
  let paused = false
  /** `consumer.run` was called: kafkajs refuses pause and resume before (an operator's pause at start-up). */
  let running = false
  let crashed: Error | null = null
  let stopping = false
  let sinceYield = 0
  const positions = new FetchPositions()

  /**
   * Pauses the whole topic (backpressure, shutdown), else only the partitions being probed. After a
   * stop, and between a crash and kafkajs' restart, kafkajs has no consumer group and throws: nothing
   * fetches then, and the next join applies the pauses again.
   */
  function applyPauses(): void {
    if (stopping) return
    try {
      if (paused) {
        consumer.pause([{ topic }])
        return
      }
      consumer.resume([{ topic }])
      const probing = positions.probing
      if (probing.length > 0) consumer.pause([{ topic, partitions: probing }])
    } catch (err) {
      log.debug({ err }, 'pauses not applied: the consumer is not running; the next join applies them')
    }
  }

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    assignment = new Assignment(
      Object.entries(event.payload.memberAssignment).map(([t, partitions]) => ({ topic: t, partitions })),
    )
    joined = true
    rebalancing = false
    crashed = null
    const owned = assignment.partitionsOf(topic)
    reportJoin(log, metrics, {
      topic,
      memberId: event.payload.memberId,
      before: joinedWith,
      after: assignment,
    })
    joinedWith = assignment
    deps.handler.onAssignment(assignment)
    const fresh = positions.retain(owned)
    if (deps.readCommitted !== undefined && fresh.length > 0)
      positions.probe(fresh, deps.readCommitted, {
        onFailed: (err) =>
          log.warn(
            { err, partitions: fresh },
            'committed offsets of newly assigned partitions not read; a reset of their position would go unreported',
          ),
        onDone: applyPauses,
      })
    // A rejoin resumes fetching; keep the pause if backpressure still holds.
    applyPauses()
  })
  // A rebalance starts (kafkajs rejoins with the eager protocol: every partition is revoked). What settled
  // is committed first (`onRevoking`), then until the next join says what this member owns, it owns
  // nothing: no commit goes out for a partition that may already belong to another member (the
  // coordinator would also fence it by generation).
  consumer.on(consumer.events.REBALANCING, () => {
    if (assignment.size > 0) {
      log.info({ revoked: assignment.topics }, 'rebalance: partitions revoked')
      // While `assignment` still holds: `commit` keeps the offsets of the partitions owned until now.
      try {
        deps.handler.onRevoking?.(assignment)
      } catch (err) {
        log.warn({ err }, 'rebalance: the settled offsets of the revoked partitions were not committed')
      }
    }
    assignment = Assignment.NONE
    rebalancing = true
    deps.handler.onRebalancing?.()
  })
  // A fetch that held only control records or aborted records: kafkajs does not call eachBatch, moves
  // its fetch position past them by itself and says so in this event (batchSize 0, KIP-98).
  consumer.on(consumer.events.START_BATCH_PROCESS, (event) => {
    const { batchSize, firstOffset, lastOffset, partition } = event.payload
    if (batchSize !== 0 || event.payload.topic !== topic || firstOffset === null) return
    fetchedAt(partition, firstOffset)
    positions.advance(partition, BigInt(lastOffset) + 1n)
    deps.handler.onEmptyRange({ topic, partition, offset: lastOffset })
  })
  watchCrashes(
    consumer,
    { logger: log, onFatal: deps.onFatal ?? (() => undefined), isStopping: () => stopping },
    (err) => {
      crashed = err
    },
  )

  /** A fetch of `partition` started at `offset`: reports a reset of its position (see {@link FetchPositions}). */
  function fetchedAt(partition: number, offset: string): void {
    const reset = positions.fetched(partition, BigInt(offset))
    if (reset !== null) reportReset(log, metrics, topic, reset)
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload
    const control = { heartbeat, isRunning }
    // Resolved once, for the last record taken: kafkajs' resolveOffset does 64-bit arithmetic with Long
    // objects per call, and only the last resolved offset counts (the next fetch starts after it).
    let lastTaken: string | undefined
    // Whether the consumer still runs and the batch is still this member's: asked again after each await
    // only (kafkajs' isStale builds a key string per call; between awaits nothing else runs to change it).
    let current = isRunning() && !isStale()
    if (positions.isProbing(batch.partition)) return
    const fetchedOffset = (batch as { fetchedOffset?: string }).fetchedOffset
    if (fetchedOffset !== undefined) fetchedAt(batch.partition, fetchedOffset)
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
      if (lastTaken !== undefined) {
        resolveOffset(lastTaken)
        // kafkajs resolves the last record of a batch as the batch's last offset (runner.js: the control
        // record of a transaction that follows it is filtered out and could never be resolved): offsets
        // after that record up to there hold no record and are passed over.
        const lastOffset = batch.lastOffset()
        const passedOver = lastTaken === batch.messages.at(-1)?.offset && lastOffset !== lastTaken
        positions.advance(batch.partition, BigInt(passedOver ? lastOffset : lastTaken) + 1n)
        if (passedOver) deps.handler.onEmptyRange({ topic, partition: batch.partition, offset: lastOffset })
      }
    }
    await heartbeat()
  }

  return {
    /** Connects, subscribes and starts fetching. @throws kafkajs errors when the broker is unreachable */
    async start(): Promise<void> {
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch,
      })
      running = true
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
      // Before run, the flag alone: the group join applies it before the first fetch.
      if (running) applyPauses()
    },
    resume(): void {
      if (!paused) return
      paused = false
      if (running) applyPauses()
    },
    get isPaused(): boolean {
      return paused
    },
    /** The partitions owned now ({@link Assignment.NONE} during a rebalance). */
    get assignment(): Assignment {
      return assignment
    },
    /**
     * True from the start of a rebalance until the next join: {@link assignment} is empty then, but
     * which partitions this member will own is not known yet (unlike a join that assigned it none).
     */
    get rebalancing(): boolean {
      return rebalancing
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
