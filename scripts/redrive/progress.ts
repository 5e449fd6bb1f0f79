/**
 * The progress bar of a long redrive (`cli-progress`), on stderr and only when stderr is a terminal:
 * a pipe or a log file gets the summary line alone.
 */
import cliProgress from 'cli-progress'

/** A bar to move forward, then stop (the line stays, complete or not). */
export interface Progress {
  update(value: number): void
  stop(): void
}

const NONE: Progress = { update: () => undefined, stop: () => undefined }

/**
 * Starts a bar labelled `label` over `total` units (records or offsets) on `stream`; a bar that does
 * nothing when `stream` is not a TTY or there is nothing to count.
 */
export function startProgress(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (stream.isTTY !== true || total <= 0) return NONE
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} elapsed, ETA {eta_formatted}`,
      stream,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0)
  return {
    update: (value) => bar.update(Math.min(value, total)),
    stop: () => bar.stop(),
  }
}
