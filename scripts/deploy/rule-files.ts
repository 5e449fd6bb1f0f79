/**
 * Writes Prometheus rule files for promtool (scripts/check-deploy) to stdout:
 *
 *   node scripts/deploy/rule-files.ts alerts < prometheusrule.yaml   the spec of a rendered PrometheusRule
 *   node scripts/deploy/rule-files.ts dashboard dashboard.json        every query of a Grafana dashboard as
 *                                                                      a recording rule
 *
 * The second one lets promtool's parser, Prometheus' own with its type checks (a range vector where an
 * instant vector belongs, say), judge the dashboard's queries too; Grafana's interval variables become
 * `5m` first, as Grafana substitutes them before sending a query.
 */
import { readFileSync } from 'node:fs'
import { parseAllDocuments, stringify } from 'yaml'
import { asPlainPromql, dashboardExprs } from '../../test/support/promql.ts'

const [mode, file] = process.argv.slice(2)
if (mode === 'alerts') {
  const docs = parseAllDocuments(readFileSync(0, 'utf8')).map(
    (d) => d.toJS() as { kind?: string; spec?: unknown },
  )
  const rule = docs.find((d) => d?.kind === 'PrometheusRule')
  if (rule?.spec === undefined) throw new Error('no PrometheusRule with a spec on stdin')
  process.stdout.write(stringify(rule.spec))
} else if (mode === 'dashboard' && file !== undefined) {
  const exprs = await dashboardExprs(file)
  const rules = exprs.map((expr, i) => ({ record: `dashboard:query_${i + 1}`, expr: asPlainPromql(expr) }))
  process.stdout.write(stringify({ groups: [{ name: 'dashboard-queries', rules }] }))
} else {
  process.stderr.write('usage: rule-files.ts alerts < prometheusrule.yaml | rule-files.ts dashboard FILE\n')
  process.exitCode = 2
}
