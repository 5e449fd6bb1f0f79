/**
 * How `npm run status` shows a consumer group's progress (src/progress/progress.ts): text lines for a
 * one-shot summary, and progress bars per partition and overall drawn by cli-progress on a terminal.
 */
import { MultiBar, type SingleBar } from 'cli-progress'
import type { PartitionProgress, Progress, TotalProgress } from '../src/progress/progress.ts'

/** Where the rate came from: the committed offsets' advance (live) or the result topics' growth. */
export interface RateSource {
  kind: 'commits' | 'results'
  /** The window, ms: the moving average's time constant, or how far back the result topics were read. */
  windowMs: number
}

/** `4m 34s`, `2h 05m`, `3d 04h`, `12s`; `-` when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '-'
  const s = Math.round(seconds)
  const two = (n: number) => String(n).padStart(2, '0')
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${two(s % 60)}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${two(Math.floor((s % 3600) / 60))}m`
  return `${Math.floor(s / 86_400)}d ${two(Math.floor((s % 86_400) / 3600))}h`
}

/** `41.2/s`, `0.05/s`; `-` when unknown. */
export function formatRate(rate: number | null): string {
  if (rate === null) return '-'
  return `${rate >= 10 ? rate.toFixed(1) : rate.toPrecision(2)}/s`
}

function percent(done: number, total: number): string {
  return `${(total === 0 ? 100 : (100 * done) / total).toFixed(1)}%`
}

function sourceText(source: RateSource): string {
  const minutes =
    source.windowMs < 60_000
      ? `${Math.round(source.windowMs / 1000)} s`
      : `${Math.round(source.windowMs / 60_000)} min`
  return source.kind === 'commits'
    ? `committed offsets, averaged over ${minutes}`
    : `result and DLQ topics, last ${minutes}`
}

/** One line for a partition or the total: done of total (percent), behind, rate, ETA. */
function line(p: PartitionProgress | TotalProgress): string {
  const rate = p.ratePerSecond === null ? '' : `, ${formatRate(p.ratePerSecond)}`
  const eta = p.etaSeconds === null ? '' : `, ETA ${formatDuration(p.etaSeconds)}`
  return `${p.done}/${p.total} done (${percent(p.done, p.total)}), ${p.behind} behind${rate}${eta}`
}

/**
 * The one-shot summary: a header, one line per partition, and the total with the rate's source and the
 * time the backlog is expected to be drained.
 */
export function summaryLines(progress: Progress, source: RateSource): string[] {
  const { total } = progress
  const at =
    total.etaSeconds === null || total.behind === 0
      ? ''
      : ` (about ${new Date(progress.at + total.etaSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z')})`
  const drained = total.behind === 0 ? ' drained' : ''
  return [
    `status: group ${progress.groupId} on ${progress.topic}, ${progress.partitions.length} partitions, read ${new Date(progress.at).toISOString()}`,
    ...progress.partitions.map((p) => `  partition ${p.partition}: ${line(p)}`),
    `total:${drained} ${line(total)}${at}; rate from the ${sourceText(source)}`,
  ]
}

/** The progress as JSON for scripts: {@link Progress} and the rate's source. */
export function summaryJson(progress: Progress, source: RateSource): string {
  return JSON.stringify({ ...progress, rateSource: source }, null, 2)
}

/**
 * Progress bars on a terminal, redrawn in place by cli-progress: a header line, the total, and one bar
 * per partition, each with done/total, percent, rate and ETA.
 */
export function createLiveView(stream: NodeJS.WriteStream) {
  const multibar = new MultiBar({
    stream,
    format: ' {label} {bar} {percentage}% | {done}/{size} | {behind} behind | {rate} | ETA {drain}',
    barCompleteChar: '\u2588',
    barIncompleteChar: '\u2591',
    barsize: 30,
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    autopadding: true,
    // Redrawn when the data changes, not on a timer of its own.
    noTTYOutput: false,
    forceRedraw: true,
  })
  let header: SingleBar | null = null
  let totalBar: SingleBar | null = null
  const bars = new Map<number, SingleBar>()
  const payload = (label: string, p: PartitionProgress | TotalProgress) => ({
    label,
    // Not the bar's own value/total: an empty partition's bar is 1/1 (below), its records 0/0.
    done: p.done,
    size: p.total,
    behind: p.behind,
    rate: formatRate(p.ratePerSecond),
    // Not `eta`: cli-progress computes a token of that name itself, from the bar's own start.
    drain: formatDuration(p.etaSeconds),
  })
  // cli-progress shows an empty bar (0/0) as 0%: a partition without records is drained.
  const sizes = (p: PartitionProgress | TotalProgress) => (p.total === 0 ? [1, 1] : [p.total, p.done])

  return {
    /** Draws `progress`; `source` says where the total rate came from (shown in the header). */
    update(progress: Progress, source: RateSource): void {
      const width = String(Math.max(...progress.partitions.map((p) => p.partition), 0)).length
      // The hint first: cli-progress cuts a line at the terminal's width.
      const title = `${progress.groupId} on ${progress.topic} at ${new Date(progress.at).toTimeString().slice(0, 8)} (Ctrl-C to stop); rate from the ${sourceText(source)}`
      if (header === null) header = multibar.create(1, 0, { title }, { format: ' {title}' })
      else header.update(0, { title })
      const [total, done] = sizes(progress.total)
      if (totalBar === null)
        totalBar = multibar.create(total, done, payload('total'.padEnd(width + 2), progress.total))
      else {
        totalBar.setTotal(total)
        totalBar.update(done, payload('total'.padEnd(width + 2), progress.total))
      }
      for (const p of progress.partitions) {
        const [pt, pd] = sizes(p)
        const label = `p${String(p.partition).padStart(width)}`.padEnd(width + 2)
        const bar = bars.get(p.partition)
        if (bar === undefined) bars.set(p.partition, multibar.create(pt, pd, payload(label, p)))
        else {
          bar.setTotal(pt)
          bar.update(pd, payload(label, p))
        }
      }
    },
    /** Stops redrawing, leaving the last frame on the terminal. */
    stop(): void {
      multibar.stop()
    },
  }
}
