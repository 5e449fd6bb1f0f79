/**
 * The PromQL helpers and panel options of the dashboard (scripts/dashboard/dashboard.ts): every selector
 * filters on the dashboard's namespace and job variables.
 */

/** The panel and query data source: the dashboard's `datasource` variable (Grafana's syntax, not JS's). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable reference, meant literally
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' }
/** The label matchers of the namespace and job variables, for every selector. */
const SCOPE = 'namespace=~"$namespace", job=~"$job"'

/** `metric{namespace=~"$namespace", job=~"$job"[, extra]}`. */
export const sel = (metric: string, extra?: string) => `${metric}{${SCOPE}${extra ? `, ${extra}` : ''}}`
/** Per-second rate of a counter over Grafana's rate interval. */
export const rate = (metric: string, extra?: string) => `rate(${sel(metric, extra)}[$__rate_interval])`
/** The q-quantile of a histogram's buckets summed over pods (and `by`, when given). */
export const quantile = (q: number, histogram: string, by: string[] = []) =>
  `histogram_quantile(${q}, sum by (${['le', ...by].join(', ')}) (${rate(`${histogram}_bucket`)}))`

/** One line of a panel: a PromQL expression and its legend. */
export interface Query {
  expr: string
  legend: string
}

/** What differs from one panel to the next. */
export interface PanelOptions {
  title: string
  description: string
  unit: string
  queries: Query[]
  /** Draw steps (for 0/1 gauges). */
  stepped?: boolean
  max?: number
}
