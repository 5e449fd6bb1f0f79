/**
 * The dashboard's rows for a migration (issue 22), first on the dashboard: the "Backfill" row answers
 * "how far are we, and when will it be done?" from the whole consumer group's offsets as Kafka has them
 * (every replica reports every partition, so each query takes the max over pods per partition before it
 * sums partitions); the next row answers "what is failing, did we skip anything, did the group rebalance?".
 */
import { CLASSES_NOT_OF_THE_FILE } from '../../src/model/failure-reasons.ts'
import { type PanelOptions, rate, sel } from './queries.ts'

/** Per partition of the input topic, the value of a whole-group gauge (the same on every pod). */
const perPartition = (metric: string) => `max by (topic, partition) (${sel(metric)})`
/** Summed over the partitions of each input topic. */
const perTopic = (metric: string) => `sum by (topic) (${perPartition(metric)})`
/** Increase of a counter over Grafana's rate interval, summed over pods (`by` labels kept). */
const increase = (metric: string, by: string) => `sum by (${by}) (increase(${sel(metric)}[$__rate_interval]))`

export const MIGRATION_ROWS: Array<{ title: string; panels: PanelOptions[] }> = [
  {
    title: 'Backfill',
    panels: [
      {
        title: 'Progress',
        description:
          "Share of the input topic's records the consumer group has settled (a result, a DLQ record, or filtered): committed minus log start over log end minus log start, all partitions, read from Kafka. Also: npm run status.",
        unit: 'percent',
        max: 100,
        queries: [
          {
            expr: `100 * ${perTopic('bridge_backlog_done_records')} / (${perTopic('bridge_backlog_done_records')} + ${perTopic('bridge_backlog_records')})`,
            legend: '{{topic}}',
          },
        ],
      },
      {
        title: 'Records behind',
        description:
          "Log-end offset minus the consumer group's committed offset, per input partition and in total, over every replica.",
        unit: 'short',
        queries: [
          { expr: perTopic('bridge_backlog_records'), legend: '{{topic}}' },
          { expr: perPartition('bridge_backlog_records'), legend: '{{topic}} [{{partition}}]' },
        ],
      },
      {
        title: 'Settle rate',
        description:
          "Records the consumer group settles per second: the committed offsets' advance, averaged over BACKLOG_RATE_WINDOW_MS (5 minutes by default).",
        unit: 'ops',
        queries: [
          { expr: `max by (topic) (${sel('bridge_backlog_records_per_second')})`, legend: '{{topic}}' },
        ],
      },
      {
        title: 'Time to drain (ETA)',
        description:
          'Records behind divided by the settle rate: when the backlog is expected to be empty at the present pace. No value while nothing is settled.',
        unit: 's',
        queries: [{ expr: `max by (topic) (${sel('bridge_backlog_eta_seconds')})`, legend: '{{topic}}' }],
      },
      {
        title: 'Oldest record in flight',
        description:
          'Age of the oldest record each pod consumed and has not settled (its file waits behind the same id, in a batch, in an import job, or publishing). Alert: FileImportBridgeOldestInFlight.',
        unit: 's',
        queries: [{ expr: `max by (pod) (${sel('bridge_oldest_in_flight_seconds')})`, legend: '{{pod}}' }],
      },
    ],
  },
  {
    title: 'Failures, skips, rebalances and memory',
    panels: [
      {
        title: 'FAILED results by reason class',
        description: `FAILED result events per second by the class of their reason (a closed set). ${CLASSES_NOT_OF_THE_FILE.join(', ')} are not the file's fault (alert: FileImportBridgeFailedNotByFile); npm run consume -- --reason <class> lists them.`,
        unit: 'ops',
        queries: [
          {
            expr: `sum by (reason_class) (${rate('bridge_failed_files_total')})`,
            legend: '{{reason_class}}',
          },
        ],
      },
      {
        title: 'Records skipped (lost to retention)',
        description:
          "Records deleted before the bridge read them: the committed offset, or a pod's fetch position, was below the log start and the consumer went on from there. They have no result. Alert: FileImportBridgeOffsetsSkipped; the error log line names the partition and both offsets.",
        unit: 'short',
        queries: [
          {
            expr: increase('bridge_offsets_skipped_total', 'position'),
            legend: 'from the {{position}} offset',
          },
        ],
      },
      {
        title: 'Rebalances and partitions moved',
        description:
          'Joins of the consumer group per pod (one per rebalance), and input partitions assigned to or revoked from the pods. Alert: FileImportBridgeRebalancing.',
        unit: 'short',
        queries: [
          { expr: increase('bridge_rebalances_total', 'pod'), legend: '{{pod}} joins' },
          { expr: increase('bridge_partition_changes_total', 'change'), legend: 'partitions {{change}}' },
        ],
      },
      {
        title: 'Bytes of events held',
        description:
          'Bytes of the file entries each pod holds in flight (consumed, not settled): the memory large events take, bounded by MAX_FILES_IN_FLIGHT.',
        unit: 'bytes',
        queries: [{ expr: `sum by (pod) (${sel('bridge_bytes_in_flight')})`, legend: '{{pod}}' }],
      },
    ],
  },
]
