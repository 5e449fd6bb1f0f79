import type { Logger } from './logging.ts'
import type { CommittableOffset } from './model/records.ts'

/** What a stop of the bridge leaves behind, for its one summary line ({@link reportStop}). */
export interface StopSummary {
  /** Result events acknowledged since the start. */
  filesResulted: number
  /** DLQ records acknowledged since the start. */
  dlqRecords: number
  /** Records consumed and not settled at the stop: uncommitted, consumed again by the next owner. */
  filesAbandoned: number
  /** Import jobs not concluded within `SHUTDOWN_GRACE_MS`: their files are submitted again by the next owner. */
  jobsAbandoned: string[]
  /** Whether every job concluded and every send was acknowledged within the grace period. */
  jobsDone: boolean
  sendsDone: boolean
  /** The last offset committed on each partition (the next to read). */
  committed: CommittableOffset[]
  /** Set when a component stopped for good and caused the stop. */
  crashedComponent?: string
}

/**
 * The summary from what the components say at the end of the commit loop's stop: the outcome
 * publisher's acknowledged counts, the files still in flight at intake, the import jobs still open, the
 * committer's last offsets, whether the jobs and sends drained, and the crash that caused the stop.
 */
export function stopSummaryOf(parts: {
  publisher: { published: { results: number; dlq: number } }
  intake: { inFlight: number }
  jobs: { openJobIds: string[] }
  committer: { lastCommitted: CommittableOffset[] }
  drained: { jobs: boolean; sends: boolean }
  crash: { component: string } | null
}): StopSummary {
  return {
    filesResulted: parts.publisher.published.results,
    dlqRecords: parts.publisher.published.dlq,
    filesAbandoned: parts.intake.inFlight,
    jobsAbandoned: parts.jobs.openJobIds,
    jobsDone: parts.drained.jobs,
    sendsDone: parts.drained.sends,
    committed: parts.committer.lastCommitted,
    ...(parts.crash === null ? {} : { crashedComponent: parts.crash.component }),
  }
}

/**
 * Logs the one line that ends a stop, `bridge stopped`, with what was done and what was abandoned: at
 * info when nothing was left, at warn when files or jobs were abandoned or sends were cut short (the
 * next owner consumes those records again: duplicates are possible), at error after a component crash.
 * The offsets are listed as `partition: offset` per topic.
 */
export function reportStop(logger: Logger, summary: StopSummary): void {
  const committed: Record<string, Record<string, string>> = {}
  for (const o of summary.committed) {
    const byPartition = committed[o.topic] ?? {}
    byPartition[String(o.partition)] = o.offset
    committed[o.topic] = byPartition
  }
  const fields = { ...summary, committed }
  const abandoned =
    summary.filesAbandoned > 0 || summary.jobsAbandoned.length > 0 || !summary.jobsDone || !summary.sendsDone
  if (summary.crashedComponent !== undefined) logger.error(fields, 'bridge stopped')
  else if (abandoned) logger.warn(fields, 'bridge stopped')
  else logger.info(fields, 'bridge stopped')
}
