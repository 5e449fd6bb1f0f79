import { describe, expect, it } from 'vitest'
import { createScenario, produceRecords, sampleExport, useE2eWorld, waitUntil } from '../support/e2e-world.ts'
import { alertExprs, dashboardExprs, exposedFamilies, familyOf, metricNames } from '../support/promql.ts'

const CHART = new URL('../../helm/file-import-bridge/', import.meta.url)

describe('the shipped Grafana dashboard and alerts query metrics the bridge exposes', () => {
  const { world, emulator } = useE2eWorld(
    { images: 6, pdfs: 4 },
    { emulator: { token: 'observability-token' } },
  )

  it('has every metric of the dashboard and the PrometheusRule on /metrics after a run', async () => {
    // Given the metric names in the dashboard's and the alerts' PromQL, read from the shipped files
    const dashboard = await dashboardExprs(new URL('files/dashboard.json', CHART).pathname)
    const alerts = await alertExprs(new URL('files/alerts.yaml', CHART).pathname)
    expect(dashboard.length).toBeGreaterThan(10)
    expect(alerts.map((a) => a.alert)).toContain('FileImportBridgeNoResults')
    const wanted = new Set([...dashboard, ...alerts.map((a) => a.expr)].flatMap(metricNames).map(familyOf))
    expect(wanted).toContain('bridge_consumer_lag')
    expect(wanted).toContain('nodejs_eventloop_lag_p99_seconds')

    // When a bridge imports an export with broken URLs and repeated ids, measuring lag often
    const { topics, results, start } = await createScenario(world, 'observability', emulator)
    // in a plain configuration, as the image check runs it: the optional parts (the admin API, whose
    // pause the dashboard's bridge_paused shows, the job log, tracing) off
    const bridge = await start({ LAG_INTERVAL_MS: '300' })
    const { records } = sampleExport(world, 'obs', { broken: 2, repeats: 2 })
    await produceRecords(world, topics.input, records)
    await results.waitFor((r) => r.length >= records.length, 90_000, 'a result per record')
    let text = ''
    await waitUntil(
      async () => {
        text = await (await fetch(bridge.metricsUrl)).text()
        return /^bridge_consumer_lag\{[^}]*partition="\d+"\} 0$/m.test(text)
      },
      30_000,
      'consumer lag series back at 0 after every result was committed',
    )

    // Then every metric family the dashboard and the alerts query is declared on /metrics
    const exposed = exposedFamilies(text)
    const missing = [...wanted].filter((name) => !exposed.has(name))
    expect(missing).toEqual([])
  })
})
