/** Options of {@link BackpressureGate}. */
export interface BackpressureOptions {
  /** Files in flight at which fetching pauses (`MAX_FILES_IN_FLIGHT`). */
  maxFilesInFlight: number
  /** Fetching resumes once files in flight fall to `maxFilesInFlight × resumeRatio` (0 < ratio ≤ 1). */
  resumeRatio: number
}

/**
 * A high/low watermark gate over the files in flight (pure: it decides, the caller pauses and resumes
 * the consumer). Pauses at the high mark; resumes only at the low one, so that one concluded job does not
 * resume a fetch that the next record pauses again (hysteresis, as kafkajs' docs suggest for
 * pause/resume, Consuming.md "Pause & Resume").
 */
export class BackpressureGate {
  readonly #high: number
  readonly #low: number
  #paused = false

  constructor(options: BackpressureOptions) {
    this.#high = options.maxFilesInFlight
    this.#low = options.maxFilesInFlight * options.resumeRatio
  }

  /** True while the gate holds fetching paused. */
  get isPaused(): boolean {
    return this.#paused
  }

  /**
   * Judges the files in flight now.
   * @returns `pause` when they reached the high mark (and the gate was open), `resume` when they fell to
   *   the low mark (and the gate was closed), else null: nothing to change
   */
  update(inFlight: number): 'pause' | 'resume' | null {
    if (!this.#paused && inFlight >= this.#high) {
      this.#paused = true
      return 'pause'
    }
    if (this.#paused && inFlight <= this.#low) {
      this.#paused = false
      return 'resume'
    }
    return null
  }
}
