import { describe, expect, it } from 'vitest'
import { familyOf, metricNames } from '../../support/promql.ts'

describe('metricNames (PromQL metric names of the shipped dashboard and alerts)', () => {
  it('finds metrics and ignores functions, keywords, labels, ranges, numbers and Grafana variables', () => {
    const expr =
      'histogram_quantile(0.95, sum by (le, state) (rate(bridge_job_duration_seconds_bucket{job=~"$job", state!="x"}[$__rate_interval]))) > 1e3 and on (job) up'
    expect(metricNames(expr).sort()).toEqual(['bridge_job_duration_seconds_bucket', 'up'])
  })

  it('reads both sides of binary operators and unless', () => {
    const expr =
      'sum by (job) (rate(a_total[15m])) > 0\nunless\n(sum(rate(b_total[15m])) + sum without (pod) (c)) > 0'
    expect(metricNames(expr).sort()).toEqual(['a_total', 'b_total', 'c'])
  })

  it('maps histogram series to their family', () => {
    expect(familyOf('bridge_job_duration_seconds_bucket')).toBe('bridge_job_duration_seconds')
    expect(familyOf('bridge_event_to_result_seconds_count')).toBe('bridge_event_to_result_seconds')
    expect(familyOf('bridge_files_total')).toBe('bridge_files_total')
  })
})
