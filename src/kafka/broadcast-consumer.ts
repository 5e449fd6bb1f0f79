import type { Consumer, Kafka } from 'kafkajs'
import type { Logger } from '../logging.ts'
import type { ConsumedRecord } from '../model/records.ts'
import { raceTimeout } from '../timeouts.ts'
import { RESTART_ONLY_AFTER_HICCUPS, watchCrashes } from './consumer-crashes.ts'
import { decodedHeaders } from './record-format.ts'

/** Options of {@link createBroadcastConsumer}. Durations in ms. */
export interface BroadcastConsumerOptions {
  topic: string
  /**
   * A consumer group id used by this process alone (e.g. `<group>.job-notifications.<host>-<random>`),
   * so that this member is assigned every partition of the topic.
   */
  groupId: string
  /** How long {@link BroadcastConsumer.start} waits for the first group join before it goes on. */
  joinTimeoutMs?: number
  /**
   * Read the topic from its earliest offset instead of the latest (a compacted topic whose whole
   * content is the state, e.g. the job log); see {@link BroadcastConsumer.waitCaughtUp}.
   */
  fromBeginning?: boolean
}

/**
 * Reads every record of a topic in this process, from the latest offset on: an internal "broadcast"
 * channel between the replicas of the bridge.
 *
 * Why a consumer group of its own: kafkajs 2.x has no manual partition assignment (`assign()`, which
 * the Java client has; tulios/kafkajs#373 is open) and `consumer.run` needs a group id. A group id
 * unique to this process makes it the group's only member, so the range assigner gives it every
 * partition, and a partition added later is picked up on the next metadata refresh. Offsets are never
 * committed: with no committed offset a group starts at the latest offset (`fromBeginning: false`),
 * which is what a live notification channel wants, and a group that is empty and has no offsets is
 * removed by the broker on its own (the group coordinator's expiry of empty groups), so restarts leave
 * no state behind. A rejoin (coordinator moved, broker restart) starts at the latest offset again;
 * records published during the gap are missed, which callers must tolerate.
 *
 * @param deps.onRecord called for each record in partition order; must not throw (errors are logged
 *   and the record is skipped, never retried)
 * @param deps.onFatal called once the consumer crashed for good (as the group consumer's,
 *   `watchCrashes` in src/kafka/consumer-crashes.ts); the bridge then stops and the process exits
 */
export function createBroadcastConsumer(
  kafka: Kafka,
  options: BroadcastConsumerOptions,
  deps: { logger: Logger; onRecord: (record: ConsumedRecord) => void; onFatal?: (err: unknown) => void },
) {
  const log = deps.logger.child({ component: 'broadcast-consumer', topic: options.topic })
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    allowAutoTopicCreation: false,
    // Nothing to hand over on a rebalance (one member, no commits): leave and rejoin quickly.
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    // A fetch answers as soon as a record arrives; a short long-poll only makes disconnect() quick
    // (it waits for the fetch in progress), at the price of two empty fetches a second.
    maxWaitTimeInMs: 500,
    retry: RESTART_ONLY_AFTER_HICCUPS,
  })
  let joined = false
  let crashed: Error | null = null
  let stopping = false
  /** Highest offset handed to `onRecord`, per partition. */
  const seen = new Map<number, bigint>()
  const joinedOnce = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      joined = true
      crashed = null
      log.info(
        { groupId: options.groupId, partitions: event.payload.memberAssignment[options.topic] ?? [] },
        'broadcast consumer joined its group',
      )
      resolve()
    })
  })
  watchCrashes(
    consumer,
    { logger: log, onFatal: deps.onFatal ?? (() => undefined), isStopping: () => stopping },
    (err) => {
      crashed = err
    },
  )

  return {
    /**
     * Connects, subscribes and waits (at most `joinTimeoutMs`, default 30 s) for the group join, so
     * that records published after start() returns are read.
     * @throws kafkajs errors when the broker cannot be reached
     */
    async start(): Promise<void> {
      await consumer.connect()
      await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning ?? false })
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const headers = decodedHeaders(message)
          try {
            deps.onRecord({
              topic,
              partition,
              offset: message.offset,
              key: message.key,
              value: message.value,
              headers,
              timestamp: Number(message.timestamp),
            })
          } catch (err) {
            log.warn({ err, partition, offset: message.offset }, 'broadcast record handler failed; skipped')
          }
          seen.set(partition, BigInt(message.offset))
        },
      })
      const timeoutMs = options.joinTimeoutMs ?? 30_000
      const timedOut = await raceTimeout(
        joinedOnce.then(() => false),
        timeoutMs,
        true,
      )
      if (timedOut) log.warn({ timeoutMs }, 'broadcast consumer has not joined its group yet; going on')
    },
    /**
     * Waits until every record that was in the topic when this was called has been handed to
     * `onRecord` (the high watermarks of that moment, from the admin client), at most `timeoutMs`.
     * Meant for a `fromBeginning` reader of a compacted topic, before the state is used.
     * @returns true when caught up; false after the timeout (e.g. the last record was compacted away)
     */
    async waitCaughtUp(timeoutMs: number): Promise<boolean> {
      const admin = kafka.admin()
      await admin.connect()
      let targets: Array<{ partition: number; last: bigint }>
      try {
        const offsets = await admin.fetchTopicOffsets(options.topic)
        targets = offsets
          .filter((o) => BigInt(o.high) > BigInt(o.low))
          .map((o) => ({ partition: o.partition, last: BigInt(o.high) - 1n }))
      } finally {
        await admin.disconnect()
      }
      const deadline = Date.now() + timeoutMs
      const caughtUp = () => targets.every((t) => (seen.get(t.partition) ?? -1n) >= t.last)
      while (!caughtUp()) {
        if (Date.now() > deadline) {
          log.warn({ timeoutMs }, 'broadcast consumer did not reach the end of the topic in time')
          return false
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      return true
    },
    /** True once the member joined its group and has not crashed since. */
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

export type BroadcastConsumer = ReturnType<typeof createBroadcastConsumer>
