import type { Logger } from './logging.ts'

/**
 * One step of the bridge's life: what it does at start, and what it does at stop. `stop` gets the ms
 * left of the grace period (0 once it is spent; a step that must run anyway still runs).
 */
export interface LifecycleStep {
  start?: () => Promise<unknown> | unknown
  stop?: (leftMs: number) => Promise<unknown> | unknown
}

/**
 * The start and stop order of the bridge's components, kept in one list. Steps are added in start
 * order; {@link start} runs them in that order and, when one fails, stops the steps already started in
 * reverse before it rethrows; {@link stop} runs every started step's `stop` in reverse, within the
 * grace period, logging a step that fails and going on. So a component that starts after another
 * stops before it, and the start-up rollback and the shutdown can never drift apart (the pattern of
 * fastify's `onClose` hooks and avvio, which close in reverse order of registration).
 *
 * Both are once-only: a second call shares the first call's promise; stop waits for a start in progress.
 */
export class Lifecycle {
  readonly #steps: Array<{ name: string; step: LifecycleStep }> = []
  readonly #logger: Logger
  #started = 0
  #starting: Promise<void> | null = null
  #stopping: Promise<void> | null = null

  constructor(deps: { logger: Logger }) {
    this.#logger = deps.logger
  }

  /** Adds a step after the others (start order). @throws Error once start() was called */
  add(name: string, step: LifecycleStep): this {
    if (this.#starting !== null) throw new Error(`lifecycle step "${name}" added after start`)
    this.#steps.push({ name, step })
    return this
  }

  /**
   * Starts every step in order.
   * @throws the first step's error, after the started steps were stopped again (in reverse)
   */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      for (const { step } of this.#steps) {
        try {
          await step.start?.()
        } catch (err) {
          await this.#stopStarted(Date.now())
          throw err
        }
        this.#started++
      }
    })()
    return this.#starting
  }

  /**
   * Stops the started steps in reverse order, each given the ms left of `graceMs`. Never throws: a
   * failing step is logged at warn with its name and the next one runs.
   */
  stop(graceMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#starting?.catch(() => undefined)
      await this.#stopStarted(Date.now() + graceMs)
    })()
    return this.#stopping
  }

  async #stopStarted(deadline: number): Promise<void> {
    // A step whose start threw counts as started too: it may hold half-open resources.
    const last = Math.min(this.#started, this.#steps.length - 1)
    for (let i = last; i >= 0; i--) {
      const { name, step } = this.#steps[i] as { name: string; step: LifecycleStep }
      try {
        await step.stop?.(Math.max(0, deadline - Date.now()))
      } catch (err) {
        this.#logger.warn({ err, step: name }, 'shutdown step failed')
      }
    }
    this.#started = 0
  }
}
