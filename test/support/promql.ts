import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
])

/**
 * The metric names a PromQL expression reads: identifiers that are not functions (followed by `(`),
 * keywords, label names (inside `{}` or `by (...)`), durations or numbers. Grafana variables (`$job`,
 * `$__rate_interval`) are ignored. Not a full PromQL parser: enough for the shipped dashboard and alerts.
 */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
  const names = new Set<string>()
  for (const m of s.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = m
    if (call !== undefined || name === undefined || KEYWORDS.has(name.toLowerCase())) continue
    names.add(name)
  }
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
