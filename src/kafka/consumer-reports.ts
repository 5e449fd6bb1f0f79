import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { Assignment } from '../model/assignment.ts'
import type { PositionReset } from './fetch-positions.ts'

/**
 * What the group consumer says about the events of its consumer group that change what an operator
 * must do: one log line and a metric each, worded here so that `consumer.ts` keeps the control flow.
 */

/**
 * A join of the consumer group (the end of a rebalance, or the first join): `bridge_rebalances_total`,
 * the partitions of `topic` assigned and revoked since the previous join
 * (`bridge_partition_changes_total{change}`), the partitions owned now (`bridge_partitions_owned`), and
 * one line naming them.
 */
export function reportJoin(
  log: Logger,
  metrics: Metrics,
  join: { topic: string; memberId: string; before: Assignment; after: Assignment },
): void {
  const { topic, before, after } = join
  const owned = after.partitionsOf(topic)
  const assigned = owned.filter((p) => !before.has(topic, p))
  const revoked = before.partitionsOf(topic).filter((p) => !after.has(topic, p))
  metrics.rebalances.inc()
  metrics.partitionChanges.inc({ change: 'assigned' }, assigned.length)
  metrics.partitionChanges.inc({ change: 'revoked' }, revoked.length)
  metrics.partitionsOwned.set(owned.length)
  log.info({ memberId: join.memberId, topic, owned, assigned, revoked }, 'joined consumer group')
}

/**
 * kafkajs reset the fetch position of a partition (OffsetOutOfRange): `bridge_offset_resets_total`, the
 * records skipped (`bridge_offsets_skipped_total`), and one line naming the partition, both offsets and
 * the records lost to retention (error) or read again (warn).
 */
export function reportReset(log: Logger, metrics: Metrics, topic: string, reset: PositionReset): void {
  const { partition, from, to, skipped, position } = reset
  // Constant messages, the facts in the fields: oldOffset, newOffset and lost (newOffset − oldOffset).
  metrics.offsetResets.inc({ position })
  const fields = {
    topic,
    partition,
    position,
    oldOffset: String(from),
    newOffset: String(to),
    lost: Number(skipped),
  }
  if (skipped > 0n) {
    metrics.offsetsSkipped.inc({ position }, Number(skipped))
    log.error(fields, 'offset out of range: records deleted by retention before they were read are skipped')
  } else log.warn(fields, 'offset out of range: records are read again')
}
