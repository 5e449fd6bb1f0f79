import type { Batch, MediaKind, PendingFile } from '../model/files.ts'
import type { PauseState } from './pause-control.ts'

/** What the admin API tells of one import job this replica follows. Times epoch ms, ages ms. */
export interface JobView {
  jobId: string
  batchId: string
  systemName: string
  kind: MediaKind
  files: number
  /** When its (last) submit started, or it was adopted. */
  submittedAt: number
  ageMs: number
  /**
   * `reading`: a status read is in flight; `done-by-webhook`: its webhook said done, the read that
   * concludes it is due; `unreadable`: its last status read failed; `running`: none of these.
   */
  state: 'running' | 'reading' | 'done-by-webhook' | 'unreadable'
  /** Submits of its batch so far (1 + the resubmits after lost jobs). */
  attempts: number
  /** Running time counted toward `JOB_TIMEOUT_MS`. */
  countedMs: number
}

/** The part of a followed job the views read (`TrackedJob` of src/jobs/tracked-job.ts). */
export interface FollowedJob {
  readonly id: string
  readonly batch: Batch
  readonly submittedAt: number
  readonly resubmits: number
  readonly isReading: boolean
  readonly doneByWebhook: boolean
  readonly lastGoodAt: number | null
  readonly countedMs: number
}

/**
 * Where one file of a `systemName` + `externalId` pair is now (a pair may have several events in
 * flight: the later ones wait behind the first, the key sequencer of src/pipeline/):
 * - `waiting`: consumed, in no closed batch yet: `in` says whether it waits behind an earlier file of the
 *   pair (`behind-earlier-file`) or in a batch still open (`open-batch`, closed by its limits or linger);
 * - `batched`: in closed batch `batchId`, queued for its submit (a free job slot, a hold, a pause);
 * - `in-job`: in import job `jobId` of batch `batchId`.
 */
export interface FileWhere {
  systemName: string
  externalId: string
  stage: 'waiting' | 'batched' | 'in-job'
  in?: 'behind-earlier-file' | 'open-batch'
  batchId?: string
  jobId?: string
  partition: number
  offset: string
  /** When the bridge consumed its record, epoch ms, and how long ago. */
  consumedAt: number
  ageMs: number
}

/** What this replica holds, read by the admin API (each stage's own view; src/app.ts wires them). */
export interface AdminSources {
  /** Input partitions this replica owns. */
  partitions(): number[]
  /** Why requests or publishing are held (the API gate, a publish stall), in words; empty when none. */
  holds(): string[]
  inFlight(): { files: number; bytes: number; oldestAt: number | null }
  /** Files of the pair waiting behind an earlier one (the key sequencer). */
  parkedOf(systemName: string, externalId: string): readonly PendingFile[]
  /** Files of the pair in batches still open (the batcher). */
  openFilesOf(systemName: string, externalId: string): readonly PendingFile[]
  /** Batches queued for their submit, and the jobs followed (the job tracker). */
  jobs(): { queued: readonly Batch[]; jobs: readonly FollowedJob[] }
  pause(): PauseState
}

/** The job view of `job` at `now`. */
function jobView(job: FollowedJob, now: number): JobView {
  const state = job.isReading
    ? 'reading'
    : job.doneByWebhook
      ? 'done-by-webhook'
      : job.lastGoodAt === null
        ? 'unreadable'
        : 'running'
  return {
    jobId: job.id,
    batchId: job.batch.id,
    systemName: job.batch.systemName,
    kind: job.batch.kind,
    files: job.batch.files.length,
    submittedAt: job.submittedAt,
    ageMs: now - job.submittedAt,
    state,
    attempts: job.resubmits + 1,
    countedMs: job.countedMs,
  }
}

/** `GET /admin/status`: this replica's partitions, holds, pause, files in flight and jobs, oldest job first. */
export function statusOf(sources: AdminSources, now: number) {
  const { queued, jobs } = sources.jobs()
  const inFlight = sources.inFlight()
  return {
    partitions: sources.partitions(),
    pause: sources.pause(),
    holds: sources.holds(),
    filesInFlight: inFlight.files,
    bytesInFlight: inFlight.bytes,
    oldestInFlightAgeMs: inFlight.oldestAt === null ? null : now - inFlight.oldestAt,
    batchesQueued: queued.length,
    filesQueued: queued.reduce((n, b) => n + b.files.length, 0),
    jobs: jobs.map((j) => jobView(j, now)).sort((a, b) => b.ageMs - a.ageMs),
  }
}

export type AdminStatus = ReturnType<typeof statusOf>

/** `GET /admin/jobs/{jobId}`: the job if this replica follows it, else null. */
export function findJob(sources: AdminSources, jobId: string, now: number): JobView | null {
  const job = sources.jobs().jobs.find((j) => j.id === jobId)
  return job === undefined ? null : jobView(job, now)
}

/**
 * `GET /admin/files/{systemName}/{externalId}`: every place this replica holds a file of the pair, the
 * latest stage first; empty when it holds none.
 */
export function findFile(
  sources: AdminSources,
  systemName: string,
  externalId: string,
  now: number,
): FileWhere[] {
  const matches = (f: PendingFile) => f.event.externalId === externalId && f.event.systemName === systemName
  const where = (f: PendingFile, at: Pick<FileWhere, 'stage' | 'in' | 'batchId' | 'jobId'>): FileWhere => ({
    systemName,
    externalId,
    ...at,
    partition: f.position.partition,
    offset: String(f.position.offset),
    consumedAt: f.consumedAt,
    ageMs: now - f.consumedAt,
  })
  const found: FileWhere[] = []
  const { queued, jobs } = sources.jobs()
  for (const job of jobs) {
    if (job.batch.systemName !== systemName) continue
    for (const f of job.batch.files)
      if (matches(f)) found.push(where(f, { stage: 'in-job', batchId: job.batch.id, jobId: job.id }))
  }
  for (const batch of queued) {
    if (batch.systemName !== systemName) continue
    for (const f of batch.files) if (matches(f)) found.push(where(f, { stage: 'batched', batchId: batch.id }))
  }
  for (const f of sources.openFilesOf(systemName, externalId))
    found.push(where(f, { stage: 'waiting', in: 'open-batch' }))
  for (const f of sources.parkedOf(systemName, externalId))
    found.push(where(f, { stage: 'waiting', in: 'behind-earlier-file' }))
  return found
}
