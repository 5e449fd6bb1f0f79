/**
 * Waiting with a bound: a promise raced against a timer, and the drain of a set of sends in progress
 * (shutdown of the publishers and of the job log).
 */

/**
 * Resolves with what `promise` resolves to, or with `onTimeout` once `timeoutMs` pass first. The timer
 * is cleared either way; `promise` itself goes on (nothing is cancelled). Rejects when `promise` rejects
 * first.
 */
export async function raceTimeout<T, U>(
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: U,
): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), timeoutMs)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Waits until `inFlight` is empty, including promises added to it while waiting (their owners remove
 * them once settled), at most `timeoutMs`.
 * @returns true when it emptied; false after the timeout
 */
export function drainInFlight(inFlight: ReadonlySet<Promise<unknown>>, timeoutMs: number): Promise<boolean> {
  const all = (async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    return true
  })()
  return raceTimeout(all, timeoutMs, false)
}

/**
 * A condition others wait for with a bound, e.g. "no job queued or in flight". Its owner calls
 * {@link check} after every change that can make it true; waiters share one promise.
 */
export class Condition {
  readonly #holds: () => boolean
  #waiting: PromiseWithResolvers<true> | null = null

  /** @param holds whether the condition holds now (cheap: asked at each {@link check}) */
  constructor(holds: () => boolean) {
    this.#holds = holds
  }

  /** Resolves true once the condition holds, or with whether it holds after `timeoutMs`. */
  async wait(timeoutMs: number): Promise<boolean> {
    if (this.#holds()) return true
    this.#waiting ??= Promise.withResolvers<true>()
    return (await raceTimeout(this.#waiting.promise, timeoutMs, false)) || this.#holds()
  }

  /** Wakes the waiters if the condition holds now. */
  check(): void {
    if (this.#waiting === null || !this.#holds()) return
    this.#waiting.resolve(true)
    this.#waiting = null
  }
}
