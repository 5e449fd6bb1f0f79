// The chart's alert rules and their promtool unit tests (helm/file-import-bridge/tests/alerts.test.yaml,
// run by scripts/check-deploy): every alert parses and has a case that fires it and one that must not.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { CLASSES_NOT_OF_THE_FILE } from '../../../src/model/failure-reasons.ts'
import { alertExprs, promqlErrors } from '../../support/promql.ts'

const CHART = new URL('../../../helm/file-import-bridge/', import.meta.url)

interface AlertTest {
  eval_time: string
  alertname: string
  exp_alerts?: unknown[]
}
interface RuleTests {
  rule_files: string[]
  tests: Array<{ name: string; alert_rule_test?: AlertTest[] }>
}

const alerts = await alertExprs(new URL('files/alerts.yaml', CHART).pathname)
const ruleTests = parse(await readFile(new URL('tests/alerts.test.yaml', CHART), 'utf8')) as RuleTests
const cases = ruleTests.tests.flatMap((t) => t.alert_rule_test ?? [])

describe('the chart alerts', () => {
  it('are seventeen, each with PromQL that parses', () => {
    expect(alerts.map((a) => a.alert)).toHaveLength(17)
    for (const { alert, expr } of alerts) expect(promqlErrors(expr), alert).toEqual([])
  })

  it.each(alerts.map((a) => a.alert))(
    '%s has a promtool test that fires it and one where it stays quiet',
    (alert) => {
      const own = cases.filter((c) => c.alertname === alert)
      expect(own.some((c) => (c.exp_alerts ?? []).length > 0)).toBe(true)
      expect(own.some((c) => (c.exp_alerts ?? []).length === 0)).toBe(true)
    },
  )

  it.each(alerts.map((a) => a.alert))(
    '%s has its row in the alert table of docs/deploy.md',
    async (alert) => {
      const deployDoc = await readFile(new URL('../../../docs/deploy.md', import.meta.url), 'utf8')
      expect(deployDoc).toMatch(new RegExp(`^\\| \`${alert}\` \\|`, 'm'))
    },
  )

  it("FileImportBridgeFailedNotByFile watches exactly the reason classes that are not the file's fault", () => {
    const expr = alerts.find((a) => a.alert === 'FileImportBridgeFailedNotByFile')?.expr ?? ''
    const watched = /reason_class=~"([^"]+)"/.exec(expr)?.[1]?.split('|') ?? []
    expect([...watched].sort()).toEqual([...CLASSES_NOT_OF_THE_FILE].sort())
  })

  it('have no test of an alert that does not exist', () => {
    const names = new Set(alerts.map((a) => a.alert))
    expect(cases.map((c) => c.alertname).filter((n) => !names.has(n))).toEqual([])
  })
})
