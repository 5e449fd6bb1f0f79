/** Small statistics helpers of the benchmark: percentiles and the Prometheus text format. */

/** p50/p95/p99 of `values` (nearest rank), in the unit of the values; zeros for an empty list. */
export function percentiles(values: number[]): { p50: number; p95: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
  return { p50: at(50), p95: at(95), p99: at(99) }
}

/** One sample of the Prometheus text exposition format: name, labels and value. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses Prometheus text exposition (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) })
  }
  return samples
}

/** Sum of every sample named `name` whose labels include `where`. */
export function sumOf(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)
}

/**
 * Percentiles of a Prometheus histogram `name` (its `_bucket` samples), by linear interpolation inside
 * the bucket that holds the rank, as PromQL's histogram_quantile does. Values in the histogram's unit.
 */
export function histogramPercentiles(
  samples: Sample[],
  name: string,
): { p50: number; p95: number; p99: number } {
  const buckets = samples
    .filter((s) => s.name === `${name}_bucket`)
    .map((s) => ({
      le: s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le),
      count: s.value,
    }))
    .sort((a, b) => a.le - b.le)
  const total = buckets.at(-1)?.count ?? 0
  const q = (p: number) => {
    if (total === 0) return 0
    const rank = (p / 100) * total
    let lower = 0
    let below = 0
    for (const b of buckets) {
      if (b.count >= rank) {
        if (!Number.isFinite(b.le)) return lower
        const inBucket = b.count - below
        return inBucket === 0 ? b.le : lower + ((b.le - lower) * (rank - below)) / inBucket
      }
      lower = b.le
      below = b.count
    }
    return lower
  }
  return { p50: q(50), p95: q(95), p99: q(99) }
}
