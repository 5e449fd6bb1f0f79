import PQueue from 'p-queue'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { TIMEOUT_REASON } from '../model/failure-reasons.ts'
import { ALREADY_EXISTS, type ConcludedJob } from '../model/outcomes.ts'
import { Condition } from '../timeouts.ts'
import type { ApiGate } from './api-gate.ts'
import { isRefusal } from './api-hold.ts'
import {
  type EntryCheckContext,
  entryMetadata,
  lookUpFile,
  type MediaLibraryPort,
  updateEntry,
} from './entry-checks.ts'
import type { HeldCallPolicy } from './held-call.ts'
import { RESUBMIT_DELAY_MS } from './submit-queue.ts'

/** What the bridge does with a file Livingdocs reports `skipped` / `already exists` (`ON_EXISTING`). */
export type OnExisting = 'skip' | 'metadata'

/** Options of {@link ExistingEntries}. Durations in ms. */
export interface ExistingEntriesOptions extends Omit<HeldCallPolicy, 'retryDelayMs'> {
  /** Wait before asking again after a transient failure ({@link RESUBMIT_DELAY_MS} by default, as submits). */
  retryDelayMs?: number | undefined
  /** `skip` (publish SKIPPED `already exists`) or `metadata` (update the entry's metadata first). */
  onExisting: OnExisting
  /** The metadata property that holds the event's `checksum` (`CHECKSUM_METADATA_PROPERTY`), or undefined. */
  checksumProperty: string | undefined
  /** Media library requests at once, at most (`MAX_JOBS_IN_FLIGHT`: the API budget the jobs have too). */
  maxInFlight: number
  /** The `systemName` of the start-up look-up that tells whether the token may read the media library. */
  probeSystemName: string
}

/** What {@link ExistingEntries} works with. */
export interface ExistingEntriesDeps {
  library: MediaLibraryPort
  /** The holds in force, shared with the job tracker (one refusal or `Retry-After` holds both). */
  gate: ApiGate
  metrics: Metrics
  logger: Logger
  /** Receives each concluded job once its files' outcomes are final, to be published. */
  onReady: (job: ConcludedJob) => void
}

type Outcome = ConcludedJob['outcomes'][number]['outcome']

/**
 * The step between a concluded import job and its published results (issue 24): it checks the files
 * whose outcome the media library can still change, then hands the job on (`onReady`).
 *
 * - A job that timed out (`JOB_TIMEOUT_MS`): each file is looked up by `systemName` + `externalId`
 *   (`GET /mediaLibrary?…`, [ML] §11.2). A found entry is SUCCESS with its `mediaId` (the import did
 *   happen; a busy server may just not have said so); only a file that is not there keeps FAILED
 *   `timeout`. The token needs `public-api:read`: without it (under `ON_EXISTING=skip`) the files keep
 *   FAILED `timeout`, as before, and the start-up check (`start`) said so.
 * - Under `ON_EXISTING=metadata`, a file SKIPPED `already exists` gets its entry's metadata made the
 *   event's (`updateEntry`): SKIPPED `metadata updated` or `metadata unchanged` (`; content changed,
 *   bytes not replaced` when the event's checksum differs from the entry's: §11.3), or FAILED `conflict:
 *   …` / `metadata update rejected by the API: …`. A refusal of the read scope holds, as any refusal.
 *
 * Its requests go through the import client (its retries and `API_RATE_LIMIT_PER_SECOND`), at most
 * `maxInFlight` at once (this replica's share of `MAX_JOBS_IN_FLIGHT`, {@link setMaxInFlight}), and hold like the tracker's on refusals and throttling (the shared
 * {@link ApiGate}). A job without such files passes at once. A job waiting here keeps its records
 * unsettled (their offsets uncommitted) until it is published; {@link close} leaves them so.
 */
export class ExistingEntries {
  readonly #options: ExistingEntriesOptions
  readonly #deps: ExistingEntriesDeps
  readonly #logger: Logger
  readonly #queue: PQueue
  readonly #abort = new AbortController()
  readonly #ctx: EntryCheckContext
  /** Jobs with files being checked. */
  #waiting = 0
  readonly #idle = new Condition(() => this.#waiting === 0)
  /** A refused look-up was logged since the last accepted one. */
  #refusalLogged = false

  constructor(options: ExistingEntriesOptions, deps: ExistingEntriesDeps) {
    this.#options = options
    this.#deps = deps
    this.#logger = deps.logger.child({ component: 'existing-entries' })
    this.#queue = new PQueue({ concurrency: Math.max(1, options.maxInFlight) })
    this.#ctx = {
      library: deps.library,
      policy: { ...options, retryDelayMs: options.retryDelayMs ?? RESUBMIT_DELAY_MS },
      gate: deps.gate,
      logger: this.#logger,
      signal: this.#abort.signal,
    }
  }

  /**
   * Changes how many look-ups and updates run at once (this replica's share of `MAX_JOBS_IN_FLIGHT`
   * after a rebalance, src/jobs/api-budget.ts); those waiting start under the new limit, those running
   * finish. @param maxInFlight at least 1 (a smaller value counts as 1)
   */
  setMaxInFlight(maxInFlight: number): void {
    this.#queue.concurrency = Math.max(1, maxInFlight)
  }

  /** Concluded jobs whose files are being checked. */
  get pending(): number {
    return this.#waiting
  }

  /**
   * Tells once, at start-up, whether the token may read the media library: one look-up of an id no file
   * has (in the background; a start-up never waits for the API). Read allowed: info. Refused: under
   * `ON_EXISTING=metadata` an error (every re-import will hold on it), else a warning (timed-out jobs'
   * files keep FAILED `timeout` without a look-up). No answer: decided at the first need.
   */
  start(): void {
    const { probeSystemName: systemName, onExisting } = this.#options
    void this.#deps.library.lookup(systemName, 'file-import-bridge-read-scope-check', { check: true }).then(
      () =>
        this.#logger.info(
          { onExisting },
          'the token may read the media library: timed-out jobs are looked up',
        ),
      (err: unknown) => {
        if (this.#abort.signal.aborted) return
        // The API's words when it refused the look-up (our credentials or configuration)
        const refused = isRefusal(err) ? err.message : undefined
        if (refused === undefined)
          this.#logger.info(
            { err },
            'could not check whether the token may read the media library; it shows at the first need',
          )
        else if (onExisting === 'metadata')
          this.#logger.error(
            { err: refused },
            `ON_EXISTING=metadata needs the scope public-api:read: ${refused}; re-imports will hold until the token has it`,
          )
        else
          this.#logger.warn(
            { err: refused },
            `the token may not read the media library (${refused}): a timed-out job's files get FAILED timeout without a look-up; give it the scope public-api:read`,
          )
      },
    )
  }

  /** Takes a concluded job: hands it on at once, or once its files are checked. */
  conclude(job: ConcludedJob): void {
    const work = this.#work(job)
    if (work.length === 0) {
      this.#deps.onReady(job)
      return
    }
    this.#waiting++
    const outcomes = [...job.outcomes]
    const tally: Record<string, number> = {}
    const tasks = work.map(({ index, check }) =>
      this.#queue.add(async () => {
        const { file, outcome } = outcomes[index] as (typeof outcomes)[number]
        const next = await check(outcome).catch((err: unknown) => {
          if (this.#abort.signal.aborted) throw err
          // A bug of ours: the file keeps the outcome the job gave it.
          this.#logger.error(
            { err, externalId: file.event.externalId },
            'checking a file against the media library failed; its outcome is kept',
          )
          return { outcome, tallied: 'error' }
        })
        outcomes[index] = { file, outcome: next.outcome }
        tally[next.tallied] = (tally[next.tallied] ?? 0) + 1
      }),
    )
    void Promise.all(tasks)
      .then(
        () => {
          this.#logger.info(
            { jobId: job.jobId, batchId: job.batch.id, ...tally },
            'files of the concluded job checked against the media library',
          )
          this.#deps.onReady({ ...job, outcomes })
        },
        () =>
          this.#logger.debug(
            { jobId: job.jobId },
            'stopped before the files were checked; the job is not published',
          ),
      )
      .finally(() => {
        this.#waiting--
        this.#idle.check()
      })
  }

  /** Resolves once no job waits here, or after `timeoutMs`. @returns true when none waits */
  waitIdle(timeoutMs: number): Promise<boolean> {
    return this.#idle.wait(timeoutMs)
  }

  /** Stops: checks in progress end, their jobs are not published (their offsets stay uncommitted). */
  close(): void {
    this.#abort.abort(new Error('existing entries closed'))
    this.#queue.clear()
  }

  /** The files of `job` to check, and how. */
  #work(job: ConcludedJob) {
    const work: Array<{
      index: number
      check: (o: Outcome) => Promise<{ outcome: Outcome; tallied: string }>
    }> = []
    job.outcomes.forEach(({ file, outcome }, index) => {
      if (job.jobId !== null && outcome.state === 'failed' && outcome.reason === TIMEOUT_REASON)
        work.push({ index, check: (o) => this.#lookUp(file.event.systemName, file.event.externalId, o) })
      else if (
        this.#options.onExisting === 'metadata' &&
        outcome.state === 'skipped' &&
        outcome.reason === ALREADY_EXISTS &&
        outcome.mediaId !== undefined
      ) {
        const mediaId = outcome.mediaId
        work.push({
          index,
          check: (o) => this.#update(mediaId, entryMetadata(file), o, file.event.externalId),
        })
      }
    })
    return work
  }

  /** A timed-out job's file: SUCCESS with the entry found, else FAILED `timeout` as the job gave it. */
  async #lookUp(systemName: string, externalId: string, outcome: Outcome) {
    const refusals = this.#options.onExisting === 'metadata' ? 'hold' : 'throw'
    const found = await lookUpFile(systemName, externalId, refusals, this.#ctx)
    this.#deps.metrics.timeoutLookups.inc({ outcome: found.kind })
    if (found.kind === 'refused') {
      if (!this.#refusalLogged)
        this.#logger.warn(
          { err: found.err },
          "look-up of a timed-out job's file refused (the token needs public-api:read): its files keep FAILED timeout",
        )
      this.#refusalLogged = true
      return { outcome, tallied: 'refused' }
    }
    this.#refusalLogged = false
    if (found.kind === 'not-found') return { outcome, tallied: 'notFound' }
    const imported: Outcome = {
      state: 'imported',
      externalId,
      systemName,
      mediaId: found.mediaId,
      reason: undefined,
    }
    return { outcome: imported, tallied: 'found' }
  }

  /** A file Livingdocs skipped as `already exists`: its entry's metadata made the event's. */
  async #update(mediaId: string, wanted: Record<string, unknown>, outcome: Outcome, externalId: string) {
    const result = await updateEntry(mediaId, wanted, this.#options.checksumProperty, this.#ctx)
    this.#deps.metrics.existingEntries.inc({ outcome: result.kind })
    if (!('patches' in result)) {
      this.#logger.warn(
        { externalId, mediaId, reason: result.reason },
        `existing entry not updated (${result.kind}); the file is FAILED`,
      )
      return { outcome: { state: 'failed' as const, reason: result.reason }, tallied: result.kind }
    }
    if (result.contentChanged) this.#deps.metrics.existingContentChanged.inc()
    this.#logger.debug(
      { externalId, mediaId, patches: result.patches, reason: result.reason },
      'existing entry checked',
    )
    return { outcome: { ...outcome, reason: result.reason }, tallied: result.kind }
  }
}
