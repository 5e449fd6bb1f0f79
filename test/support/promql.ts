import { readFile } from 'node:fs/promises'
import { parser } from '@prometheus-io/lezer-promql'
import { parse } from 'yaml'

/** Grafana's interval variables; label-value variables such as `$job` sit inside strings and parse as they are. */
const GRAFANA_INTERVALS =
  /\$(?:__rate_interval|__interval|__range)\b|\$\{(?:__rate_interval|__interval|__range)\}/g

/**
 * A Grafana query as plain PromQL: its interval variables (`$__rate_interval`, `$__interval`,
 * `$__range`) become `5m`, as Grafana substitutes a duration before sending the query.
 */
export function asPlainPromql(expr: string): string {
  return expr.replace(GRAFANA_INTERVALS, '5m')
}

/**
 * The syntax errors of a PromQL expression by the grammar the Prometheus UI uses
 * (`@prometheus-io/lezer-promql`), each as the offending text with its offset; empty when it parses.
 * Grafana's interval variables are accepted ({@link asPlainPromql}). Syntax only: promtool's
 * `check rules` also checks types (scripts/check-deploy runs it on the same expressions).
 */
export function promqlErrors(expr: string): string[] {
  const plain = asPlainPromql(expr)
  const errors: string[] = []
  parser.parse(plain).iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(`at ${node.from}: '${plain.slice(Math.max(0, node.from - 10), node.to + 10)}'`)
    },
  })
  return errors
}

/**
 * The metric names a PromQL expression reads: the names of its vector selectors, found by parsing it
 * with `@prometheus-io/lezer-promql` (functions, keywords, label names, durations and Grafana variables
 * are never taken for metrics).
 * @throws Error when the expression does not parse
 */
export function metricNames(expr: string): string[] {
  const errors = promqlErrors(expr)
  if (errors.length > 0) throw new Error(`PromQL does not parse (${errors.join('; ')}): ${expr}`)
  const plain = asPlainPromql(expr)
  const names = new Set<string>()
  parser.parse(plain).iterate({
    enter: (node) => {
      if (node.name !== 'VectorSelector') return
      const name = node.node.getChild('Identifier')
      if (name !== null) names.add(plain.slice(name.from, name.to))
    },
  })
  return [...names]
}

/** The metric family behind a series name: histogram and summary parts map to their family. */
export function familyOf(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '')
}

/** Every PromQL expression of a Grafana dashboard JSON (panel targets and query variables). */
export async function dashboardExprs(path: string): Promise<string[]> {
  const dashboard = JSON.parse(await readFile(path, 'utf8')) as {
    panels: Array<{ targets?: Array<{ expr?: string }> }>
    templating?: { list: Array<{ query?: unknown }> }
  }
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''))
  for (const v of dashboard.templating?.list ?? []) {
    const q =
      typeof v.query === 'object' && v.query !== null ? (v.query as { query?: string }).query : v.query
    const inner = typeof q === 'string' ? /^label_values\((.*),\s*\w+\)$/.exec(q)?.[1] : undefined
    if (inner !== undefined) exprs.push(inner)
  }
  return exprs.filter((e) => e !== '')
}

/**
 * Every alert expression of the chart's alert rules file (a Helm `tpl` template): Prometheus' own
 * braces written as Go raw strings are unwrapped, Helm values become 0, then the YAML is read.
 */
export async function alertExprs(path: string): Promise<Array<{ alert: string; expr: string }>> {
  const text = (await readFile(path, 'utf8'))
    .replace(/\{\{`(.*?)`\}\}/g, '$1')
    .replace(/\{\{-?\s*\.Values[^}]*\}\}/g, '0')
  const doc = parse(text) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ alert: r.alert, expr: r.expr })))
}

/** Metric families declared on a Prometheus text exposition (`# TYPE <name> <type>` lines). */
export function exposedFamilies(text: string): Set<string> {
  const out = new Set<string>()
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) /.exec(line)
    if (m?.[1] !== undefined) out.add(m[1])
  }
  return out
}
