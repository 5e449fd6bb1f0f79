import type { FetchControl } from './intake.ts'

/** Why fetching is paused: the intake's backpressure or shutdown, or an operator's pause (the admin API). */
export type FetchHolder = 'intake' | 'operator'

/**
 * The consumer's fetch switch shared by several holders: fetching is paused while any holder holds it,
 * and resumes only when none does, so that backpressure released during an operator's pause does not
 * resume the fetch (nor a resume by the operator a fetch the backpressure holds).
 */
export class FetchSwitch {
  readonly #fetch: FetchControl
  readonly #held = new Set<FetchHolder>()

  constructor(fetch: FetchControl) {
    this.#fetch = fetch
  }

  /** Pauses (`hold` true) or releases the fetch for `holder`. */
  set(holder: FetchHolder, hold: boolean): void {
    if (hold) {
      this.#held.add(holder)
      this.#fetch.pause()
    } else if (this.#held.delete(holder) && this.#held.size === 0) {
      this.#fetch.resume()
    }
  }

  /** The switch as one holder sees it (the intake's `fetch` port). */
  control(holder: FetchHolder): FetchControl {
    return { pause: () => this.set(holder, true), resume: () => this.set(holder, false) }
  }
}
