import type { JobStatus } from '../import/import-client.ts'
import type { Batch } from '../model/files.ts'
import type { HoldMark } from './api-gate.ts'
import { judgeStatus, type StatusVerdict } from './job-results.ts'

/** Default of `maxResubmits`: how often a lost job is submitted again before its files fail. */
export const MAX_RESUBMITS = 2

/** What judges a followed job besides its status. Durations in ms. */
export interface TrackedJobPolicy {
  /**
   * How often a lost job (unknown to Livingdocs) is submitted again before its files fail
   * ({@link MAX_RESUBMITS} by default).
   */
  maxResubmits?: number | undefined
  /**
   * How long after its submit a job may be unknown to Livingdocs (404 or `state: "lost"`) without being
   * lost (`JOB_VISIBILITY_GRACE_MS`). A job's status may not be readable at once (the webhook can even
   * come first, [DPA] `handler.js`); the status is read again at the next poll.
   */
  jobVisibilityGraceMs: number
  /**
   * How long a job may run (default: no limit), counted only while the bridge could read it (see
   * {@link TrackedJob}'s clock). A read that sees it running past this gives each file FAILED `timeout`
   * (the files are then looked up before that is published, src/update/).
   */
  jobTimeoutMs?: number | undefined
}

/**
 * What a webhook means for the job's status read now: read it now; read it again once the read in flight
 * returns (that read started before the webhook came); or only noted (a read is in flight and another
 * is already due after it).
 */
export type WebhookMeaning = 'read-now' | 'read-after-current' | 'noted'

const NO_HOLDS: HoldMark = { begun: 0, inForce: false }

/** A verdict that keeps the job followed. */
export type OpenVerdict = Extract<StatusVerdict, { kind: 'running' | 'not-visible' | 'incomplete' }>
/** A verdict that concludes the job. */
export type ConcludedVerdict = Extract<StatusVerdict, { kind: 'concluded' }>

/** The one thing to do after a status read (see {@link TrackedJob.readSaw}). */
export type NextStep =
  /**
   * Keep following: the poller reads it again. `slotTakenBack`: a read saw it running after its webhook
   * had freed its `MAX_JOBS_IN_FLIGHT` slot, so it holds one again.
   */
  | { step: 'keep-following'; verdict: OpenVerdict; slotTakenBack: boolean }
  /** A webhook came while the read was in flight and the job still ran: read again now. */
  | { step: 'read-again' }
  /** It ran for `jobTimeoutMs` (counted time): each file fails with reason `timeout`. */
  | { step: 'time-out' }
  /** Livingdocs does not know it (lost) and resubmits are left: submit its batch again, later. */
  | { step: 'resubmit' }
  /** It finished: conclude it with the verdict's outcomes. */
  | { step: 'finish'; verdict: ConcludedVerdict }

/**
 * One import job the tracker follows ([F] §1): its batch, and what the webhooks and status reads of it
 * said so far. It decides what each webhook and each read means next; it does no I/O and logs nothing
 * (the tracker runs the steps). Times are epoch ms, passed in by the caller.
 *
 * **The job timeout's clock runs only while the bridge can read the job** (issue 24: status reads
 * answered 403 for 30 s timed out jobs of a 15 s `JOB_TIMEOUT_MS` that Livingdocs was still running).
 * One rule for every way a job can reach its timeout: the clock counts from the moment the bridge saw
 * the job running (its submit's answer, or the end of a read that saw it running) to the *start* of
 * the next read that sees it running, and counts nothing across a time it could not read the job:
 *
 * - a read of the job that failed (refused, throttled, no answer, an unreadable answer), or that found
 *   the job not known yet: the clock stops until a read sees it running again;
 * - a hold of the status reads (`holds`, `ApiGate.holdMark('status')`: a refusal of our credentials or
 *   configuration on any job's read, a `Retry-After` of any request): while it lasts no job is read, so
 *   every job's clock stops, not only that of the job whose read was refused; a job seen running while
 *   one is in force (submitted during a refusal of the status reads) starts its clock at its first read
 *   after it;
 * - the time a read itself takes (the client's retries of 429/5xx, a slow answer): counted up to its
 *   start only;
 * - an adopted job (taken over from the job log) was never seen running by this process: its clock
 *   starts at its first read that sees it running, not at the adoption.
 */
export class TrackedJob {
  readonly id: string
  readonly batch: Batch
  /** When its submit started (or it was adopted), epoch ms. */
  readonly submittedAt: number
  /** Times its batch was submitted before and lost. */
  readonly resubmits: number
  readonly #policy: TrackedJobPolicy
  #reading = false
  #askedAt: number
  #recheck = false
  #doneByWebhook = false
  #countedMs = 0
  /** When the job was last seen running (the clock's start), epoch ms; null while the clock is stopped. */
  #seenAt: number | null
  /** The status holds at {@link seenAt} and at the start of the read in flight. */
  #seenHolds: HoldMark
  #readHolds: HoldMark = NO_HOLDS
  #wasReadIncomplete = false

  /**
   * @param job.adopted taken over from the job log: never seen running by this process, so its clock
   *   starts at its first read (a submitted job's starts at `now`, its submit's answer)
   * @param now when it is followed from, epoch ms (its first {@link askedAt})
   * @param holds the status holds now (`ApiGate.holdMark('status')`)
   */
  constructor(
    job: { id: string; batch: Batch; submittedAt: number; resubmits: number; adopted?: boolean },
    policy: TrackedJobPolicy,
    now: number,
    holds: HoldMark = NO_HOLDS,
  ) {
    this.id = job.id
    this.batch = job.batch
    this.submittedAt = job.submittedAt
    this.resubmits = job.resubmits
    this.#policy = policy
    this.#askedAt = now
    this.#seenAt = job.adopted === true ? null : now
    this.#seenHolds = holds
  }

  /** When its last status read started, or it was followed, epoch ms (the poller's clock). */
  get askedAt(): number {
    return this.#askedAt
  }

  /** A status read is in flight. */
  get isReading(): boolean {
    return this.#reading
  }

  /** A webhook came during the read in flight: read again when it returns unfinished. */
  get recheck(): boolean {
    return this.#recheck
  }

  /**
   * A webhook said Livingdocs finished the job ([F] §2: it is sent "once the job is done") and no status
   * read has said otherwise since: the job holds no `MAX_JOBS_IN_FLIGHT` slot while its read waits.
   */
  get doneByWebhook(): boolean {
    return this.#doneByWebhook
  }

  /** Running time counted toward `jobTimeoutMs`, ms. */
  get countedMs(): number {
    return this.#countedMs
  }

  /**
   * When a read last saw the job running (or its submit was answered), epoch ms: where the timeout's
   * clock runs from; null while it is stopped (a read failed, the job was not known, it was adopted).
   */
  get lastGoodAt(): number | null {
    return this.#seenAt
  }

  /** A finished status listed no result for some files once already. */
  get wasReadIncomplete(): boolean {
    return this.#wasReadIncomplete
  }

  /**
   * A webhook (or a forwarded notice) said the job is done.
   * @returns what it means for the status read, and whether it frees the job's slot now (the first
   *   webhook since a read last saw the job running)
   */
  webhook(): { meaning: WebhookMeaning; freesSlot: boolean } {
    const freesSlot = !this.#doneByWebhook
    this.#doneByWebhook = true
    if (!this.#reading) return { meaning: 'read-now', freesSlot }
    if (this.#recheck) return { meaning: 'noted', freesSlot }
    this.#recheck = true
    return { meaning: 'read-after-current', freesSlot }
  }

  /**
   * A status read starts at `now`, with the status holds `holds` (`ApiGate.holdMark('status')`).
   * @returns false when one is in flight already (start none)
   */
  readStarted(now: number, holds: HoldMark = NO_HOLDS): boolean {
    if (this.#reading) return false
    this.#reading = true
    this.#askedAt = now
    this.#readHolds = holds
    return true
  }

  /** The status read failed: the clock stops until a read sees the job running again. */
  readFailed(): void {
    this.#reading = false
    this.#seenAt = null
  }

  /** Judges `status` (read at `now`) against the batch with `judgeStatus`. */
  judge(status: JobStatus, now: number): StatusVerdict {
    return judgeStatus(status, this.batch, {
      canResubmit: this.resubmits < (this.#policy.maxResubmits ?? MAX_RESUBMITS),
      ageMs: now - this.submittedAt,
      graceMs: this.#policy.jobVisibilityGraceMs,
      wasReadIncomplete: this.#wasReadIncomplete,
    })
  }

  /**
   * The status read ended at `now` with `verdict` ({@link judge}), the status holds then `holds`
   * (`ApiGate.holdMark('status')`):
   *
   * | verdict | state | next step |
   * |---|---|---|
   * | running | counted time reaches `jobTimeoutMs` | time-out |
   * | running | a webhook came during the read | read-again |
   * | running | otherwise | keep-following (slot taken back if its webhook had freed it) |
   * | not-visible | any | keep-following; the time until the next read does not count |
   * | incomplete | any | keep-following; the next such read concludes |
   * | resubmit | any | resubmit |
   * | concluded | any | finish |
   */
  readSaw(verdict: StatusVerdict, now: number, holds: HoldMark = NO_HOLDS): NextStep {
    this.#reading = false
    switch (verdict.kind) {
      case 'running':
        return this.#sawRunning(verdict, now, holds)
      case 'not-visible':
        this.#seenAt = null
        return { step: 'keep-following', verdict, slotTakenBack: false }
      case 'incomplete':
        this.#wasReadIncomplete = true
        return { step: 'keep-following', verdict, slotTakenBack: false }
      case 'resubmit':
        return { step: 'resubmit' }
      case 'concluded':
        return { step: 'finish', verdict }
    }
  }

  #sawRunning(verdict: Extract<StatusVerdict, { kind: 'running' }>, now: number, holds: HoldMark): NextStep {
    // The class's clock rule: from the last sighting to this read's start, unless a hold was in force at
    // the sighting or began between.
    const readable = !this.#seenHolds.inForce && this.#readHolds.begun === this.#seenHolds.begun
    if (this.#seenAt !== null && readable) this.#countedMs += Math.max(0, this.askedAt - this.#seenAt)
    this.#seenAt = now
    this.#seenHolds = holds
    const timeoutMs = this.#policy.jobTimeoutMs
    if (timeoutMs !== undefined && this.#countedMs >= timeoutMs) return { step: 'time-out' }
    if (this.#recheck) {
      // This read started before the webhook came: the next one answers it.
      this.#recheck = false
      return { step: 'read-again' }
    }
    const slotTakenBack = this.#doneByWebhook
    this.#doneByWebhook = false
    return { step: 'keep-following', verdict, slotTakenBack }
  }
}
