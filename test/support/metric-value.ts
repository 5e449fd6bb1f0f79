import type { Registry } from 'prom-client'

/**
 * The value of `series` in a Prometheus text exposition: `name` or `name{label="value",…}`, summed over
 * every series of that name whose labels include the given ones (so `bridge_files_total{state="FAILED"}`
 * counts every kind). 0 when none is there.
 */
export function metricValue(text: string, series: string): number {
  const wanted = parseSeries(series)
  let sum = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue
    const space = line.lastIndexOf(' ')
    const found = parseSeries(line.slice(0, space))
    if (found.name !== wanted.name) continue
    if (Object.entries(wanted.labels).every(([k, v]) => found.labels[k] === v))
      sum += Number(line.slice(space + 1))
  }
  return sum
}

function parseSeries(series: string): { name: string; labels: Record<string, string> } {
  const brace = series.indexOf('{')
  if (brace < 0) return { name: series, labels: {} }
  const labels: Record<string, string> = {}
  for (const m of series.slice(brace).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
    labels[m[1] as string] = m[2] as string
  return { name: series.slice(0, brace), labels }
}

/**
 * `series` on the `/metrics` of a running bridge (in-process or a child process), as {@link metricValue}
 * reads it from one scrape over HTTP.
 */
export async function scrapeMetric(target: { metricsUrl: string }, series: string): Promise<number> {
  return metricValue(await (await fetch(target.metricsUrl)).text(), series)
}

/**
 * `series` in the exposition of `registry` (in-process, no HTTP), as {@link metricValue} reads it: summed
 * over the matching series, 0 when none of the metric's series matches.
 *
 * @throws Error when the registry has no metric of that name (a misspelt name must not read as 0)
 */
export async function registryMetric(registry: Registry, series: string): Promise<number> {
  const name = series.split('{')[0] as string
  const family = name.replace(/_(bucket|sum|count)$/, '')
  if (registry.getSingleMetric(name) === undefined && registry.getSingleMetric(family) === undefined)
    throw new Error(`no metric ${name} in the registry`)
  return metricValue(await registry.metrics(), series)
}
