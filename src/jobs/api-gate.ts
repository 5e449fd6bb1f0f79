import type { ApiEndpoint } from '../errors.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import type { Hold, Refusal, StatusFailureAction } from './api-hold.ts'

/**
 * A look at the holds of one endpoint's requests at one moment ({@link ApiGate.holdMark}): how many had
 * begun, and whether one was in force. Two looks with the same `begun`, the earlier not `inForce`, mean
 * its requests could be made all the time between them.
 */
export interface HoldMark {
  begun: number
  inForce: boolean
}

/** What waits while an endpoint is refused, as the refusal's log line names it. */
const WAITING: Record<ApiEndpoint, string> = {
  submit: 'submits',
  status: 'status reads',
  lookup: 'media library look-ups',
  entry: 'media library reads',
  patch: 'media library updates',
}

/**
 * What the import API told the bridge about all of its requests, shared by the submit queue and the
 * status poller:
 *
 * - a `Retry-After` (bounded by `API_MAX_HOLD_MS`): no request goes out until then ({@link holdAll});
 * - a refusal of our credentials or configuration on an endpoint ({@link refuse}): that endpoint's
 *   requests wait `API_HOLD_RECHECK_MS`, then one asks again (the other endpoint finds out by itself,
 *   with one request); `/readyz` names the problem and the settings to check;
 *   `bridge_api_hold{cause}` is 1 and the shipped alert fires; logged once, at error, naming the setting;
 *   an accepted answer on that endpoint ends it ({@link accepted});
 * - the plan's usage limit ({@link quota}): `bridge_api_hold{cause="quota"}` is 1 while submits back off.
 *
 * It also counts the holds each endpoint's requests were put under ({@link holdsOf}, {@link holdMark}):
 * a job's timeout clock does not run while a hold of the status reads is in force
 * (src/jobs/tracked-job.ts).
 */
export class ApiGate {
  readonly #metrics: Metrics
  readonly #logger: Logger
  readonly #refusals = new Map<ApiEndpoint, Refusal>()
  readonly #recheckAt = new Map<ApiEndpoint, number>()
  readonly #refusalsBegun = new Map<ApiEndpoint, number>()
  #holdAllsBegun = 0
  #heldUntil = 0
  #quota = false

  constructor(deps: { metrics: Metrics; logger: Logger }) {
    this.#metrics = deps.metrics
    this.#logger = deps.logger
  }

  /** Until when the requests of `endpoint` wait, epoch ms (in the past when none does). */
  heldUntil(endpoint: ApiEndpoint): number {
    return Math.max(this.#heldUntil, this.#recheckAt.get(endpoint) ?? 0)
  }

  /** True while the API refuses our credentials or configuration on `endpoint`. */
  isRefused(endpoint: ApiEndpoint): boolean {
    return this.#refusals.has(endpoint)
  }

  /** The refusals for `/readyz`, one line, or null: `<problem> (check <settings>)`. */
  get problem(): string | null {
    if (this.#refusals.size === 0) return null
    return [...this.#refusals.values()]
      .map((r) => (r.setting === undefined ? r.problem : `${r.problem} (check ${r.setting})`))
      .join('; ')
  }

  /**
   * Every hold in force at `nowMs`, in words (the admin API's status): a refusal (as {@link problem}),
   * a `Retry-After` that holds every request, the quota backoff of submits.
   */
  holds(nowMs = Date.now()): string[] {
    const held =
      this.#heldUntil > nowMs
        ? [`Retry-After: every request waits until ${new Date(this.#heldUntil).toISOString()}`]
        : []
    const problem = this.problem === null ? [] : [`refused: ${this.problem}`]
    return [
      ...problem,
      ...held,
      ...(this.#quota ? ['usage limit reached (429) or payment required (402): submits back off'] : []),
    ]
  }

  /**
   * How many holds of `endpoint`'s requests have begun so far: refusals of it, and holds of every request
   * (a `Retry-After`). A change between two moments means its requests could not be made in between.
   */
  holdsOf(endpoint: ApiEndpoint): number {
    return this.#holdAllsBegun + (this.#refusalsBegun.get(endpoint) ?? 0)
  }

  /**
   * The holds of `endpoint`'s requests at `nowMs`: how many have begun ({@link holdsOf}) and whether one
   * is in force (a refusal, or a `Retry-After` not yet passed). Two marks with the same `begun`, the
   * earlier not `inForce`, mean its requests could be made all the time between them.
   */
  holdMark(endpoint: ApiEndpoint, nowMs = Date.now()): HoldMark {
    return {
      begun: this.holdsOf(endpoint),
      inForce: this.isRefused(endpoint) || this.heldUntil(endpoint) > nowMs,
    }
  }

  /** Holds every request until `untilMs` (epoch ms), or longer if already held longer. */
  holdAll(untilMs: number, nowMs = Date.now()): void {
    if (untilMs > nowMs) this.#holdAllsBegun++
    this.#heldUntil = Math.max(this.#heldUntil, untilMs)
  }

  /**
   * The API refused our credentials or configuration on `endpoint` (`hold`, from `holdFor`): its
   * requests wait `hold.retryInMs`. Logged once per refusal (again only when its problem changes).
   */
  refuse(endpoint: ApiEndpoint, hold: Hold, nowMs = Date.now()): void {
    const { cause, problem, setting, retryInMs: recheckMs } = hold
    const before = this.#refusals.get(endpoint)
    this.#refusalsBegun.set(endpoint, (this.#refusalsBegun.get(endpoint) ?? 0) + 1)
    this.#refusals.set(endpoint, { cause, problem, setting })
    this.#recheckAt.set(endpoint, nowMs + recheckMs)
    this.#updateGauges()
    if (before?.problem === problem) return
    const check = setting === undefined ? '' : `check ${setting}; `
    this.#logger.error(
      { endpoint, cause, setting, problem, recheckMs },
      `import API refused our ${cause}: ${check}${WAITING[endpoint]} wait until it is fixed`,
    )
  }

  /**
   * Puts in force what a failed request of `endpoint` asks of the next ones (`holdFor`,
   * `boundedRetryAfterMs`): a {@link Hold} refuses the endpoint ({@link refuse}); a `holdAllMs` (the
   * bounded `Retry-After`) holds every request, polls and submits alike, until then ({@link holdAll}).
   */
  heed(endpoint: ApiEndpoint, failure: StatusFailureAction, nowMs = Date.now()): void {
    if (failure.action === 'hold') this.refuse(endpoint, failure, nowMs)
    else if (failure.holdAllMs !== undefined) this.holdAll(nowMs + failure.holdAllMs, nowMs)
  }

  /** `endpoint` answered with a job id or a readable status: a refusal of it ends. */
  accepted(endpoint: ApiEndpoint): void {
    this.#recheckAt.delete(endpoint)
    if (!this.#refusals.delete(endpoint)) return
    this.#updateGauges()
    this.#logger.info({ endpoint }, 'import API accepts our requests again')
  }

  /**
   * Sets whether submits back off for the account (`bridge_api_hold{cause="quota"}`): the plan's usage
   * limit (a 429 without `Retry-After`, [F] §5) or a 402 Payment Required (§11, class `quota`).
   */
  quota(isExhausted: boolean, context: Record<string, unknown> = {}): void {
    if (this.#quota === isExhausted) return
    this.#quota = isExhausted
    this.#metrics.apiHold.set({ cause: 'quota' }, isExhausted ? 1 : 0)
    if (isExhausted)
      this.#logger.warn(
        context,
        'import API refuses submits for the account (the usage limit: 429 without Retry-After; or 402 Payment Required); submits back off',
      )
    else this.#logger.info('import API accepts submits again after its usage limit or payment refusal')
  }

  #updateGauges(): void {
    const causes = new Set([...this.#refusals.values()].map((r) => r.cause))
    this.#metrics.apiHold.set({ cause: 'credentials' }, causes.has('credentials') ? 1 : 0)
    this.#metrics.apiHold.set({ cause: 'configuration' }, causes.has('configuration') ? 1 : 0)
  }
}
