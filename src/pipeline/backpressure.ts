/** Options of {@link BackpressureGate}. */
export interface BackpressureOptions {
  /** Files in flight at which fetching pauses (`MAX_FILES_IN_FLIGHT`). */
  maxFilesInFlight: number
  /**
   * Bytes in flight (of the records consumed and not yet settled) at which fetching pauses
   * (`MAX_BYTES_IN_FLIGHT`; by default a quarter of the heap limit, src/config.ts).
   */
  maxBytesInFlight: number
  /** Fetching resumes once files and bytes in flight both fall to their limit × `resumeRatio` (0 < ratio ≤ 1). */
  resumeRatio: number
}

/**
 * A high/low watermark gate over the files and the bytes in flight (pure: it decides, the caller pauses
 * and resumes the consumer). Pauses when either reaches its high mark; resumes only once both are at
 * their low marks, so that one concluded job does not resume a fetch that the next record pauses again
 * (hysteresis, as kafkajs' docs suggest for pause/resume, Consuming.md "Pause & Resume").
 *
 * The gate judges what is in flight after a record was taken: a record is never refused, so a single
 * record larger than the whole byte budget is taken (fetching then pauses until it is settled), and
 * nothing waits for room that can never come.
 */
export class BackpressureGate {
  readonly #high: number
  readonly #low: number
  readonly #highBytes: number
  readonly #lowBytes: number
  #paused = false

  constructor(options: BackpressureOptions) {
    this.#high = options.maxFilesInFlight
    this.#low = options.maxFilesInFlight * options.resumeRatio
    this.#highBytes = options.maxBytesInFlight
    this.#lowBytes = options.maxBytesInFlight * options.resumeRatio
  }

  /** True while the gate holds fetching paused. */
  get isPaused(): boolean {
    return this.#paused
  }

  /**
   * Judges the files and bytes in flight now.
   * @returns `pause` when either reached its high mark (and the gate was open), `resume` when both fell
   *   to their low marks (and the gate was closed), else null: nothing to change
   */
  update(inFlight: number, bytesInFlight: number): 'pause' | 'resume' | null {
    if (!this.#paused && (inFlight >= this.#high || bytesInFlight >= this.#highBytes)) {
      this.#paused = true
      return 'pause'
    }
    if (this.#paused && inFlight <= this.#low && bytesInFlight <= this.#lowBytes) {
      this.#paused = false
      return 'resume'
    }
    return null
  }
}
