import type { Metrics } from '../metrics.ts'

/** Options of {@link JobSlots}. */
export interface JobSlotsOptions {
  /**
   * Most import jobs submitted and not finished at once (`MAX_JOBS_IN_FLIGHT`, or this replica's share
   * of it: src/jobs/api-budget.ts), until {@link JobSlots.setLimit} changes it.
   */
  maxJobsInFlight: number
}

/**
 * The one owner of `MAX_JOBS_IN_FLIGHT`: a slot is held by each submit in flight and by each followed
 * job that runs at Livingdocs as far as we know. A job whose webhook said it finished ([F] §2: sent "once
 * the job is done") gives its slot up before its status read concludes it ({@link freedByWebhook}), and
 * takes it back if a read still sees it running ({@link takenBack}). `bridge_jobs_in_flight` shows the
 * followed jobs that hold a slot ({@link running}); the submits in flight are not in it.
 *
 * Counters only: the submit queue asks {@link hasFree} before each submit, the tracker tells it of the
 * jobs it follows; neither asks the other.
 */
export class JobSlots {
  #maxJobsInFlight: number
  readonly #metrics: Metrics
  #submitting = 0
  /** Jobs followed (running or not, until they conclude, time out or are submitted again). */
  #followed = 0
  /** Followed jobs whose webhook said they finished and whose status read has not concluded them yet. */
  #freedByWebhook = 0

  constructor(options: JobSlotsOptions, deps: { metrics: Metrics }) {
    this.#maxJobsInFlight = options.maxJobsInFlight
    this.#metrics = deps.metrics
  }

  /** Submits in flight. */
  get submitting(): number {
    return this.#submitting
  }

  /** Import jobs running at Livingdocs as far as we know: followed, and not finished per their webhook. */
  get running(): number {
    return this.#followed - this.#freedByWebhook
  }

  /** Slots held: submits in flight and running jobs. */
  get inFlight(): number {
    return this.running + this.#submitting
  }

  /** The most slots held at once now. */
  get limit(): number {
    return this.#maxJobsInFlight
  }

  /**
   * Changes the limit at run time (this replica's share of the group's after a rebalance). Nothing in
   * flight is dropped: under a lowered limit no submit starts until fewer slots are held than it allows.
   * @param maxJobsInFlight at least 1
   * @returns true when the limit rose (the caller submits what may go now)
   */
  setLimit(maxJobsInFlight: number): boolean {
    const rose = maxJobsInFlight > this.#maxJobsInFlight
    this.#maxJobsInFlight = Math.max(1, maxJobsInFlight)
    return rose
  }

  /** Whether one more submit may start. */
  get hasFree(): boolean {
    return this.inFlight < this.#maxJobsInFlight
  }

  /** A submit started: it holds a slot until {@link submitEnded}. */
  submitStarted(): void {
    this.#submitting++
  }

  /** A submit ended, whatever its outcome (an accepted one was {@link jobFollowed} before). */
  submitEnded(): void {
    this.#submitting--
  }

  /** A job is followed from now on (submitted and accepted, or adopted): it holds a slot. */
  jobFollowed(): void {
    this.#followed++
    this.#setGauge()
  }

  /**
   * A job is followed no more (concluded, timed out, or lost and submitted again).
   * @param wasFreedByWebhook whether its webhook had freed its slot already
   */
  jobLeft(wasFreedByWebhook: boolean): void {
    this.#followed--
    if (wasFreedByWebhook) this.#freedByWebhook--
    this.#setGauge()
  }

  /** A webhook said a followed job is done: its slot is free while its status read waits. */
  freedByWebhook(): void {
    this.#freedByWebhook++
    this.#setGauge()
  }

  /** A read saw a job still running after its webhook freed its slot: it holds a slot again. */
  takenBack(): void {
    this.#freedByWebhook--
    this.#setGauge()
  }

  #setGauge(): void {
    this.#metrics.jobsInFlight.set(this.running)
  }
}
