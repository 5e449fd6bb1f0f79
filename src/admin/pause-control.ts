import { randomUUID } from 'node:crypto'
import type { Gauge } from 'prom-client'
import { z } from 'zod'
import type { OutgoingMessage } from '../kafka/producer.ts'
import type { Logger } from '../logging.ts'
import type { ConsumedRecord } from '../model/records.ts'

/** Whether the consumer group is paused, as the control topic's last record for the group says. */
export interface PauseState {
  paused: boolean
  /** The operator's reason, as given (at most 500 characters). */
  reason: string
  /** When the pause or resume was asked, epoch ms; 0 when never. */
  at: number
  /** The replica (host name) whose admin API was asked. */
  by: string
}

/** Never paused: the state before any control record. */
const RUNNING: PauseState = { paused: false, reason: '', at: 0, by: '' }

/** A control record's value: the state, and the request id the asking replica waits for. */
const controlValue = z.object({
  paused: z.boolean(),
  reason: z.string().max(500),
  at: z.number(),
  by: z.string().max(300),
  requestId: z.string().max(100).optional(),
})

/** How long a pause or resume waits to read its own control record back before it fails, ms. */
const CONTROL_ROUND_TRIP_TIMEOUT_MS = 15_000

/**
 * The operator's pause of a consumer group, kept in Kafka: the last record keyed by the group id on the
 * compacted control topic (`CONTROL_TOPIC`) is the state, so it applies to every replica that reads the
 * topic (all of them, each with a reader of its own: `createBroadcastConsumer`, from the beginning) and
 * survives restarts, and a replica that starts during a pause reads it before it fetches. Records of
 * other groups' keys are ignored (one topic can serve several bridges); a record that is not a control
 * value is logged and skipped.
 *
 * Each change of state is applied (`deps.apply`), logged once, and shown by the gauges `deps.gauges`
 * (`bridge_paused` 1 while paused; `bridge_paused_since_seconds`, when the pause began, epoch s, 0 while
 * running; declared in src/metrics-migration.ts).
 *
 * @param deps.send produces one record on the control topic (the bridge's idempotent producer)
 * @param deps.apply pauses or resumes fetching and submitting on this replica
 */
export class PauseControl {
  readonly #options: { topic: string; groupId: string; instance: string }
  readonly #deps: {
    send: (topic: string, messages: OutgoingMessage[]) => Promise<unknown>
    apply: (paused: boolean) => void
    logger: Logger
  }
  readonly #gauge: Gauge
  readonly #since: Gauge
  readonly #waiting = new Map<string, () => void>()
  #state: PauseState = RUNNING

  constructor(
    options: { topic: string; groupId: string; instance: string },
    deps: {
      send: (topic: string, messages: OutgoingMessage[]) => Promise<unknown>
      apply: (paused: boolean) => void
      logger: Logger
      gauges: { paused: Gauge; pausedSince: Gauge }
    },
  ) {
    this.#options = options
    this.#deps = deps
    this.#gauge = deps.gauges.paused
    this.#since = deps.gauges.pausedSince
  }

  /** The state in force on this replica. */
  get state(): PauseState {
    return this.#state
  }

  /** Takes one record of the control topic (the broadcast reader's `onRecord`). */
  onRecord(record: ConsumedRecord): void {
    if (record.key?.toString('utf8') !== this.#options.groupId || record.value === null) return
    let parsed: z.infer<typeof controlValue>
    try {
      parsed = controlValue.parse(JSON.parse(record.value.toString('utf8')))
    } catch {
      this.#deps.logger.warn({ offset: record.offset }, 'control record is not a pause state; skipped')
      return
    }
    const { requestId, ...state } = parsed
    const changed = state.paused !== this.#state.paused
    this.#state = state
    if (changed) {
      this.#deps.apply(state.paused)
      this.#gauge.set(state.paused ? 1 : 0)
      this.#since.set(state.paused ? Math.floor(state.at / 1000) : 0)
      const pause = { reason: state.reason, by: state.by, at: new Date(state.at).toISOString() }
      this.#deps.logger.warn(
        { pause },
        state.paused
          ? 'migration paused by an operator: no fetch, no submit; jobs in flight are still followed'
          : 'migration resumed by an operator',
      )
    }
    if (requestId !== undefined) this.#waiting.get(requestId)?.()
  }

  /**
   * Pauses or resumes the whole consumer group: publishes the state on the control topic and waits until
   * this replica has read it back (and so applied it), at most {@link CONTROL_ROUND_TRIP_TIMEOUT_MS}.
   * @returns the state in force afterwards
   * @throws Error when the record cannot be produced or is not read back in time
   */
  async request(
    paused: boolean,
    reason: string,
    timeoutMs = CONTROL_ROUND_TRIP_TIMEOUT_MS,
  ): Promise<PauseState> {
    const requestId = randomUUID()
    const value = {
      paused,
      reason: reason.slice(0, 500),
      at: Date.now(),
      by: this.#options.instance,
      requestId,
    }
    let timer: NodeJS.Timeout | undefined
    const readBack = new Promise<void>((resolve, reject) => {
      this.#waiting.set(requestId, resolve)
      timer = setTimeout(() => reject(new Error('the control record was not read back in time')), timeoutMs)
    })
    try {
      await this.#deps.send(this.#options.topic, [
        { key: this.#options.groupId, value: Buffer.from(JSON.stringify(value)) },
      ])
      await readBack
    } finally {
      clearTimeout(timer)
      this.#waiting.delete(requestId)
    }
    return this.#state
  }
}
