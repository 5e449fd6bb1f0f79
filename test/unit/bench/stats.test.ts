// The benchmark's report math: nearest-rank percentiles, the Prometheus text parser, and percentiles
// interpolated inside histogram buckets (as PromQL's histogram_quantile does).
import { describe, expect, it } from 'vitest'
import { histogramPercentiles, parseMetrics, percentiles, sumOf } from '../../../scripts/bench/stats.ts'

describe('percentiles', () => {
  it('takes the nearest rank of 1..100 and zeros for no values', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i)
    expect(percentiles(values)).toEqual({ p50: 50, p95: 95, p99: 99 })
    expect(percentiles([7])).toEqual({ p50: 7, p95: 7, p99: 7 })
    expect(percentiles([])).toEqual({ p50: 0, p95: 0, p99: 0 })
  })
})

describe('parseMetrics and sumOf', () => {
  const text = [
    '# HELP bridge_api_requests_total x',
    '# TYPE bridge_api_requests_total counter',
    'bridge_api_requests_total{endpoint="submit",status="200"} 20',
    'bridge_api_requests_total{endpoint="status",status="200"} 22',
    'bridge_api_requests_total{endpoint="status",status="429"} 3',
    'nodejs_heap_size_used_bytes 123456',
  ].join('\n')

  it('reads names, labels and values, and sums by label', () => {
    const samples = parseMetrics(text)
    expect(samples).toHaveLength(4)
    expect(sumOf(samples, 'bridge_api_requests_total')).toBe(45)
    expect(sumOf(samples, 'bridge_api_requests_total', { endpoint: 'status' })).toBe(25)
    expect(sumOf(samples, 'nodejs_heap_size_used_bytes')).toBe(123456)
    expect(sumOf(samples, 'missing')).toBe(0)
  })
})

describe('histogramPercentiles', () => {
  it('interpolates linearly inside the bucket holding the rank', () => {
    // 100 observations: 50 in (0, 1], 40 in (1, 2], 10 in (2, 5].
    const samples = parseMetrics(
      [
        'h_bucket{le="1"} 50',
        'h_bucket{le="2"} 90',
        'h_bucket{le="5"} 100',
        'h_bucket{le="+Inf"} 100',
        'h_sum 120',
        'h_count 100',
      ].join('\n'),
    )
    const p = histogramPercentiles(samples, 'h')
    expect(p.p50).toBeCloseTo(1, 6)
    expect(p.p95).toBeCloseTo(2 + (3 * 5) / 10, 6)
    expect(p.p99).toBeCloseTo(2 + (3 * 9) / 10, 6)
  })

  it('answers the highest finite bound for ranks in +Inf, and zeros for an empty histogram', () => {
    const inf = parseMetrics(['h_bucket{le="1"} 1', 'h_bucket{le="+Inf"} 10'].join('\n'))
    expect(histogramPercentiles(inf, 'h').p99).toBe(1)
    expect(histogramPercentiles([], 'h')).toEqual({ p50: 0, p95: 0, p99: 0 })
  })
})
