import { Counter, Gauge, type Registry } from 'prom-client'
import { FAILURE_CLASSES } from './model/failure-reasons.ts'

/** What a replica holds in flight, read at each scrape (see {@link createMigrationMetrics}). */
interface InFlightSource {
  /** When the oldest record not settled yet was consumed (epoch ms), or null when none is in flight. */
  oldestAt: number | null
}

/** How partitions changed at a join of the consumer group (`bridge_partition_changes_total{change}`). */
const PARTITION_CHANGES = ['assigned', 'revoked'] as const
/** Which position kafkajs found out of range (`bridge_offsets_skipped_total{position}`). */
export const RESET_POSITIONS = ['committed', 'fetch'] as const

/**
 * The metrics an operator of a migration asks for (issue 22), on the bridge's registry (created by
 * `createMetrics` in src/metrics.ts, which spreads them into its handles): the backlog of the whole
 * consumer group read from Kafka, FAILED results by reason class, rebalances, offsets skipped because a
 * position was out of range, what this replica holds in memory, and an operator's pause (`bridge_paused`
 * and `bridge_paused_since_seconds`, 0 until src/admin/pause-control.ts sets them, and always 0 on a
 * bridge without the admin API: the dashboard and alerts query them on every deployment). Label values
 * come from closed sets or the input topic's partitions.
 *
 * The in-flight gauges are read when scraped, from the source given to `observeInFlight` (nothing per
 * record).
 */
export function createMigrationMetrics(registry: Registry) {
  const registers = [registry]
  let inFlight: (() => InFlightSource) | null = null

  const failedFiles = new Counter({
    name: 'bridge_failed_files_total',
    help: `FAILED result events published, by reason class (a closed set: ${FAILURE_CLASSES.join(', ')}; src/model/failure-reasons.ts).`,
    labelNames: ['reason_class'] as const,
    registers,
  })
  const rebalances = new Counter({
    name: 'bridge_rebalances_total',
    help: 'Joins of the consumer group by this member: one per rebalance it took part in, the first at start-up.',
    registers,
  })
  const partitionChanges = new Counter({
    name: 'bridge_partition_changes_total',
    help: 'Input partitions assigned to or revoked from this member at a join of the consumer group, compared with the previous join.',
    labelNames: ['change'] as const,
    registers,
  })
  const partitionsOwned = new Gauge({
    name: 'bridge_partitions_owned',
    help: 'Input partitions this member owns since the last join of the consumer group.',
    registers,
  })
  const offsetResets = new Counter({
    name: 'bridge_offset_resets_total',
    help: 'Fetch positions the consumer reset to the log start because the committed offset (position="committed") or its own position (position="fetch") was out of range.',
    labelNames: ['position'] as const,
    registers,
  })
  const offsetsSkipped = new Counter({
    name: 'bridge_offsets_skipped_total',
    help: 'Records skipped by those resets: deleted (retention, deleteRecords) before the bridge read them; they get no result.',
    labelNames: ['position'] as const,
    registers,
  })
  const backlogRecords = new Gauge({
    name: 'bridge_backlog_records',
    help: "Records behind in the whole consumer group, per input partition: log-end offset minus the group's committed offset, read from Kafka (every replica reports every partition: take the max over pods).",
    labelNames: ['topic', 'partition'] as const,
    registers,
  })
  const backlogDone = new Gauge({
    name: 'bridge_backlog_done_records',
    help: 'Records of the input topic the consumer group has settled, per partition: committed offset minus log-start offset (progress = done / (done + behind)).',
    labelNames: ['topic', 'partition'] as const,
    registers,
  })
  const backlogRate = new Gauge({
    name: 'bridge_backlog_records_per_second',
    help: "Records the consumer group settles per second over the input topic: the committed offsets' advance, smoothed (EWMA, BACKLOG_RATE_WINDOW_MS).",
    labelNames: ['topic'] as const,
    registers,
  })
  const backlogEta = new Gauge({
    name: 'bridge_backlog_eta_seconds',
    help: 'Estimated time until the consumer group has settled every record of the input topic: records behind divided by the smoothed rate. No series while nothing is settled.',
    labelNames: ['topic'] as const,
    registers,
  })
  const oldestInFlight = new Gauge({
    name: 'bridge_oldest_in_flight_seconds',
    help: 'Age of the oldest record this replica consumed and has not settled yet (no result event or DLQ record acknowledged), to the second; 0 when none is in flight.',
    registers,
    collect() {
      if (inFlight === null) return
      const at = inFlight().oldestAt
      this.set(at === null ? 0 : Math.max(0, (Date.now() - at) / 1000))
    },
  })

  const paused = new Gauge({
    name: 'bridge_paused',
    help: "1 while an operator's pause (the admin API) holds fetching and submitting, else 0.",
    registers,
  })
  const pausedSince = new Gauge({
    name: 'bridge_paused_since_seconds',
    help: "When the operator's pause in force began, epoch seconds; 0 while not paused.",
    registers,
  })
  paused.set(0)
  pausedSince.set(0)

  for (const reasonClass of FAILURE_CLASSES) failedFiles.inc({ reason_class: reasonClass }, 0)
  for (const change of PARTITION_CHANGES) partitionChanges.inc({ change }, 0)
  for (const position of RESET_POSITIONS) {
    offsetResets.inc({ position }, 0)
    offsetsSkipped.inc({ position }, 0)
  }

  return {
    failedFiles,
    rebalances,
    partitionChanges,
    partitionsOwned,
    offsetResets,
    offsetsSkipped,
    backlogRecords,
    backlogDone,
    backlogRate,
    backlogEta,
    oldestInFlight,
    paused,
    pausedSince,
    /** Reads `source` at each scrape for `bridge_oldest_in_flight_seconds`. */
    observeInFlight(source: () => InFlightSource): void {
      inFlight = source
    },
  }
}
