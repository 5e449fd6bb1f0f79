import type { Metrics } from '../metrics.ts'
import type { Progress } from './progress.ts'

/**
 * Exports a consumer group's progress (the whole group, read from Kafka: every replica reports the same
 * values, dashboards take the max over pods) as `bridge_backlog_records` and `bridge_backlog_done_records`
 * per input partition, and `bridge_backlog_records_per_second` and `bridge_backlog_eta_seconds` for the
 * topic. The ETA series is removed while it is unknown (no rate yet, or nothing settled in the window).
 */
export function exportBacklog(
  metrics: Pick<Metrics, 'backlogRecords' | 'backlogDone' | 'backlogRate' | 'backlogEta'>,
  progress: Progress,
): void {
  const { topic } = progress
  for (const p of progress.partitions) {
    const labels = { topic, partition: String(p.partition) }
    metrics.backlogRecords.set(labels, p.behind)
    metrics.backlogDone.set(labels, p.done)
  }
  const { ratePerSecond, etaSeconds } = progress.total
  if (ratePerSecond === null) metrics.backlogRate.remove({ topic })
  else metrics.backlogRate.set({ topic }, ratePerSecond)
  if (etaSeconds === null) metrics.backlogEta.remove({ topic })
  else metrics.backlogEta.set({ topic }, etaSeconds)
}
