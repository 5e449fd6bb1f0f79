// Histogram buckets that cover what they measure: an import job may run up to JOB_TIMEOUT_MS; and every
// family the chart's dashboard and alerts query is declared by createMetrics itself.
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.ts'
import { loadMapping } from '../../src/mapping/compile.ts'
import { createMetrics } from '../../src/metrics.ts'
import { alertExprs, dashboardExprs, exposedFamilies, familyOf, metricNames } from '../support/promql.ts'

const BASE = {
  KAFKA_BROKERS: 'kafka-1:9092',
  SCHEMA_REGISTRY_URL: 'http://registry:8081',
  LIVINGDOCS_BASE_URL: 'https://server.livingdocs.io',
  LIVINGDOCS_ACCESS_TOKEN: 'token',
}
const accepts = (jobTimeoutMs: number) => {
  try {
    loadConfig({ ...BASE, JOB_TIMEOUT_MS: String(jobTimeoutMs) }, { loadMapping })
    return true
  } catch {
    return false
  }
}

describe('bridge_job_duration_seconds', () => {
  it('has buckets up to the default and the longest JOB_TIMEOUT_MS the configuration accepts', async () => {
    // Given the configuration's largest JOB_TIMEOUT_MS, 7 days (its default is 1 h)
    const week = 7 * 24 * 3_600_000
    expect(accepts(week)).toBe(true)
    expect(accepts(week + 1)).toBe(false)

    // When a job is observed
    const { jobDuration } = createMetrics()
    jobDuration.observe({ state: 'success' }, 1)
    const bounds = (await jobDuration.get()).values
      .filter((v) => v.metricName === 'bridge_job_duration_seconds_bucket')
      .map((v) => Number((v.labels as { le?: string | number }).le))
      .filter(Number.isFinite)

    // Then a job as long as either timeout lands in a bucket of its own, not only in +Inf
    expect(bounds).toContain(3_600)
    expect(Math.max(...bounds)).toBeGreaterThanOrEqual(week / 1000)
  })
})

describe('createMetrics and the shipped dashboard and alerts', () => {
  it('declares every metric family they query, whatever is configured (the admin API, the job log, tracing off)', async () => {
    // Given the families the chart's dashboard and PrometheusRule query
    const chart = new URL('../../helm/file-import-bridge/files/', import.meta.url).pathname
    const wanted = new Set(
      [
        ...(await dashboardExprs(`${chart}dashboard.json`)),
        ...(await alertExprs(`${chart}alerts.yaml`)).map((a) => a.expr),
      ]
        .flatMap(metricNames)
        .map(familyOf),
    )
    expect(wanted).toContain('bridge_paused')
    // When a fresh registry is exposed, before any component has started
    const exposed = exposedFamilies(await createMetrics().registry.metrics())
    // Then each of them is declared there (a family only optional parts register shows "No data")
    expect([...wanted].filter((name) => !exposed.has(name))).toEqual([])
  })
})
