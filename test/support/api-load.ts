import type { RunningLivingdocsEmulator } from './livingdocs-emulator/index.ts'

/** What the import API saw over a span of time: requests and jobs open, as a budget test counts them. */
export interface ApiLoad {
  /** Requests to the import endpoints (submits and status reads) that arrived in the span. */
  requests: number
  /** The most requests that arrived within any one second (a sliding window over arrival times). */
  maxPerSecond: number
  /**
   * What the busiest second held, counted by endpoint and answer (`POST /import/images 200 ×6, …`), to
   * tell a burst of this bridge from another client's requests in the same span.
   */
  busiestSecond: string
  /** Requests per second from the first to the last request of the span. */
  meanPerSecond: number
  /** The most import jobs open (created and not finished) at once. */
  maxJobsOpen: number
  /** Jobs open on average over the span. */
  meanJobsOpen: number
  /** Jobs created in the span, and the files they held. */
  jobs: number
  files: number
}

/**
 * The load `emulator` saw between `from` and `to` (epoch ms), from its request log (arrival times) and
 * its jobs (created at `startedAt`, open until `finishedAt`).
 */
export function apiLoad(emulator: RunningLivingdocsEmulator, from: number, to: number): ApiLoad {
  const log = emulator
    .stats()
    .requestLog.filter((r) => r.at >= from && r.at <= to)
    .sort((a, b) => a.at - b.at)
  const times = log.map((r) => r.at)
  let maxPerSecond = 0
  let busiestFrom = 0
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= 1000) j++
    if (i - j + 1 > maxPerSecond) {
      maxPerSecond = i - j + 1
      busiestFrom = j
    }
  }
  const counts = new Map<string, number>()
  for (const r of log.slice(busiestFrom, busiestFrom + maxPerSecond)) {
    const key = `${r.label} ${r.status}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const busiestSecond = [...counts].map(([key, n]) => `${key} ×${n}`).join(', ')
  const span = Math.max(1, (times.at(-1) ?? from) - (times[0] ?? from))
  const jobs = emulator
    .listJobs()
    .map((j) => ({
      open: new Date(j.startedAt).getTime(),
      done: j.finishedAt === undefined ? to : new Date(j.finishedAt).getTime(),
      files: j.files.length,
    }))
    .filter((j) => j.done >= from && j.open <= to)
  const edges = jobs.flatMap((j) => [
    { at: j.open, d: 1 },
    { at: j.done, d: -1 },
  ])
  edges.sort((a, b) => a.at - b.at || a.d - b.d)
  let open = 0
  let maxJobsOpen = 0
  let openMs = 0
  let last = from
  for (const e of edges) {
    const at = Math.min(to, Math.max(from, e.at))
    openMs += open * (at - last)
    last = at
    open += e.d
    maxJobsOpen = Math.max(maxJobsOpen, open)
  }
  const created = jobs.filter((j) => j.open >= from)
  return {
    requests: times.length,
    maxPerSecond,
    busiestSecond,
    meanPerSecond: ((times.length - 1) * 1000) / span,
    maxJobsOpen,
    meanJobsOpen: openMs / Math.max(1, to - from),
    jobs: created.length,
    files: created.reduce((n, j) => n + j.files, 0),
  }
}
