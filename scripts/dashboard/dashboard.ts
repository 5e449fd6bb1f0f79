/**
 * The bridge's Grafana dashboard as code, built with the Grafana Foundation SDK
 * (`@grafana/grafana-foundation-sdk`), so that panels and queries are typed. `npm run dashboard` writes it
 * to helm/file-import-bridge/files/dashboard.json (the chart ships it as a ConfigMap for Grafana's
 * dashboard sidecar); `npm run dashboard -- --check` fails when that file is stale.
 *
 * The data source is the template variable `${datasource}` (any Prometheus data source, chosen on the
 * dashboard), so the JSON imports into any Grafana as it is. Every query filters on the `namespace` and
 * `job` variables, which Prometheus Operator's ServiceMonitor scrape sets. Panels follow what an operator
 * looks for first: during a migration its progress and ETA (the Backfill row) and what failed, was skipped
 * or moved; then throughput in and out, consumer lag, work in flight and backpressure, latency, the
 * import API's answers, the DLQ; then the process.
 */
import * as common from '@grafana/grafana-foundation-sdk/common'
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'
import { MIGRATION_ROWS } from './backfill-row.ts'
import { DATASOURCE, type PanelOptions, quantile, rate, sel } from './queries.ts'

/** A time series panel on the `${datasource}` data source with a legend table and a shared tooltip. */
function panel(options: PanelOptions): timeseries.PanelBuilder {
  const builder = new timeseries.PanelBuilder()
    .title(options.title)
    .description(options.description)
    .datasource(DATASOURCE)
    .unit(options.unit)
    .min(0)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    )
  if (options.stepped) builder.lineInterpolation(common.LineInterpolation.StepAfter)
  if (options.max !== undefined) builder.max(options.max)
  options.queries.forEach((q, i) => {
    builder.withTarget(
      new prometheus.DataqueryBuilder()
        .refId(String.fromCharCode(65 + i))
        .datasource(DATASOURCE)
        .expr(q.expr)
        .legendFormat(q.legend)
        .range(),
    )
  })
  return builder
}

/** A query variable over the label values of the bridge's own metric, all values selected by default. */
function labelVariable(name: string, label: string, query: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .includeAll(true)
    .multi(true)
    .allValue('.*')
    .current({ text: 'All', value: '$__all' })
}

/** The dashboard's rows, each with its panels, in reading order: the migration's first. */
const ROWS: Array<{ title: string; panels: PanelOptions[] }> = [
  ...MIGRATION_ROWS,
  {
    title: 'Throughput and lag',
    panels: [
      {
        title: 'Throughput in and out',
        description:
          'Records consumed from the input topic; result events published, by state; DLQ records published. In a steady state consumed = results + DLQ.',
        unit: 'ops',
        queries: [
          { expr: `sum(${rate('bridge_events_consumed_total')})`, legend: 'consumed' },
          { expr: `sum by (state) (${rate('bridge_files_total')})`, legend: 'result {{state}}' },
          { expr: `sum(${rate('bridge_dlq_records_total')})`, legend: 'DLQ' },
        ],
      },
      {
        title: 'Results by import kind',
        description:
          'Result events per Livingdocs import (file, image, video) and state, and SKIPPED re-imports: a systemName/externalId imported before, which Livingdocs does not update (reason "already exists").',
        unit: 'ops',
        queries: [
          { expr: `sum by (kind, state) (${rate('bridge_files_total')})`, legend: '{{kind}} {{state}}' },
          {
            expr: `sum by (kind) (${rate('bridge_reimports_skipped_total')})`,
            legend: '{{kind}} re-import skipped',
          },
        ],
      },
      {
        title: 'Consumer lag',
        description:
          "Log-end offset minus the group's committed offset, per input partition (each replica reports the partitions it owns) and per topic. Alert: FileImportBridgeConsumerLagGrowing.",
        unit: 'short',
        queries: [
          { expr: `sum by (topic) (${sel('bridge_consumer_lag')})`, legend: '{{topic}}' },
          {
            expr: `sum by (topic, partition) (${sel('bridge_consumer_lag')})`,
            legend: '{{topic}} [{{partition}}]',
          },
        ],
      },
    ],
  },
  {
    title: 'Work in flight and backpressure',
    panels: [
      {
        title: 'Files and import jobs in flight',
        description:
          'Files consumed and not yet settled (bounded by MAX_FILES_IN_FLIGHT) and import jobs submitted and not finished (bounded by MAX_JOBS_IN_FLIGHT), per pod.',
        unit: 'short',
        queries: [
          { expr: `sum by (pod) (${sel('bridge_files_in_flight')})`, legend: '{{pod}} files' },
          { expr: `sum by (pod) (${sel('bridge_jobs_in_flight')})`, legend: '{{pod}} import jobs' },
        ],
      },
      {
        title: 'Fetch paused by backpressure',
        description:
          '1 while a pod has paused fetching because MAX_FILES_IN_FLIGHT files are unsettled. Alert after 15 minutes: FileImportBridgeFetchPaused.',
        unit: 'short',
        stepped: true,
        max: 1,
        queries: [{ expr: `max by (pod) (${sel('bridge_fetch_paused')})`, legend: '{{pod}}' }],
      },
    ],
  },
  {
    title: 'Latency',
    panels: [
      {
        title: 'Event to result latency',
        description:
          'From consuming a record to publishing its result event (batch linger, import job, publishing), percentiles interpolated inside the histogram buckets.',
        unit: 's',
        queries: [0.5, 0.95, 0.99].map((q) => ({
          expr: quantile(q, 'bridge_event_to_result_seconds'),
          legend: `p${q * 100}`,
        })),
      },
      {
        title: 'Import job duration',
        description:
          "From submitting an import job to its finished status, by the job's state; the buckets reach JOB_TIMEOUT_MS's maximum (7 days).",
        unit: 's',
        queries: [
          ...[0.5, 0.95].map((q) => ({
            expr: quantile(q, 'bridge_job_duration_seconds'),
            legend: `p${q * 100}`,
          })),
          { expr: quantile(0.95, 'bridge_job_duration_seconds', ['state']), legend: 'p95 {{state}}' },
        ],
      },
    ],
  },
  {
    title: 'Livingdocs import API',
    panels: [
      {
        title: 'API answers by class',
        description:
          'Final answers of the import API per endpoint (after retries), by status class; "no response" is a timeout or a connection error.',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (endpoint, class) (label_replace(label_replace(${rate('bridge_api_requests_total')}, "class", "\${1}xx", "status", "([1-5]).."), "class", "no response", "status", "0"))`,
            legend: '{{endpoint}} {{class}}',
          },
        ],
      },
      {
        title: 'API attempts that failed, and auth failures',
        description:
          'Every attempt that did not answer 2xx, retries included, by endpoint and status (0 = no response); 401/403 answers separately (alert: FileImportBridgeApiAuthFailures).',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (endpoint, status) (${rate('bridge_api_attempts_total', 'status!~"2.."')})`,
            legend: '{{endpoint}} {{status}}',
          },
          { expr: `sum(${rate('bridge_api_auth_failures_total')})`, legend: 'auth failures (401/403)' },
        ],
      },
    ],
  },
  {
    title: 'DLQ and timeouts',
    panels: [
      {
        title: 'DLQ records by reason',
        description:
          'Records sent to the DLQ by reason code (the dlq.reason header), and DLQ records acknowledged by the broker. Alert: FileImportBridgeDlqRecords.',
        unit: 'ops',
        queries: [
          { expr: `sum by (reason) (${rate('bridge_events_invalid_total')})`, legend: '{{reason}}' },
          { expr: `sum(${rate('bridge_dlq_records_total')})`, legend: 'acknowledged' },
        ],
      },
      {
        title: 'Import jobs started and timed out',
        description:
          'Import jobs submitted per second, and jobs given up after JOB_TIMEOUT_MS in the last hour (alert: FileImportBridgeJobsTimingOut).',
        unit: 'short',
        queries: [
          { expr: `sum by (kind) (${rate('bridge_batches_submitted_total')})`, legend: '{{kind}} started/s' },
          {
            expr: `sum(increase(${sel('bridge_jobs_timed_out_total')}[1h]))`,
            legend: 'timed out in the last hour',
          },
        ],
      },
    ],
  },
  {
    title: 'Process',
    panels: [
      {
        title: 'Memory',
        description:
          "Resident set size and V8 heap used per pod; the image's NODE_OPTIONS (or the chart's, from the memory limit) cap the old space.",
        unit: 'bytes',
        queries: [
          { expr: `sum by (pod) (${sel('process_resident_memory_bytes')})`, legend: '{{pod}} RSS' },
          { expr: `sum by (pod) (${sel('nodejs_heap_size_used_bytes')})`, legend: '{{pod}} heap used' },
        ],
      },
      {
        title: 'Event loop lag',
        description: 'How long callbacks wait for the event loop, per pod.',
        unit: 's',
        queries: [
          { expr: `max by (pod) (${sel('nodejs_eventloop_lag_p99_seconds')})`, legend: '{{pod}} p99' },
          { expr: `max by (pod) (${sel('nodejs_eventloop_lag_mean_seconds')})`, legend: '{{pod}} mean' },
        ],
      },
    ],
  },
]

/** The file-import-bridge dashboard, as the Grafana dashboard JSON model (schema of the SDK's Grafana). */
export function buildDashboard(): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder('file-import-bridge')
    .uid('file-import-bridge')
    .description(
      'Kafka file-created events to Livingdocs import jobs and back to result events (file-import-bridge).',
    )
    .tags(['kafka', 'livingdocs', 'file-import-bridge'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .timezone('browser')
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    // Grafana's built-in annotations and alerts, as Grafana itself exports a dashboard.
    .annotation(
      new dashboard.AnnotationQueryBuilder()
        .name('Annotations & Alerts')
        .datasource({ type: 'grafana', uid: '-- Grafana --' })
        .enable(true)
        .hide(true)
        .iconColor('rgba(0, 211, 255, 1)')
        .builtIn(1)
        .type('dashboard'),
    )
    .withVariable(
      new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    )
    .withVariable(
      labelVariable('namespace', 'Namespace', 'label_values(bridge_events_consumed_total, namespace)'),
    )
    .withVariable(
      labelVariable('job', 'Job', 'label_values(bridge_events_consumed_total{namespace=~"$namespace"}, job)'),
    )
  // Panel ids in reading order, rows included: Grafana keys links and "view panel" URLs on them.
  let id = 0
  for (const row of ROWS) {
    builder.withRow(new dashboard.RowBuilder(row.title).id(++id))
    for (const options of row.panels) builder.withPanel(panel(options).id(++id))
  }
  return builder.build()
}

/** {@link buildDashboard} as the file the chart ships: JSON with two-space indents and a final newline. */
export function dashboardJson(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`
}
