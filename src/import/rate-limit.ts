import PQueue from 'p-queue'

/** The window of the rate limit, ms: a limit is in requests per second. */
const WINDOW_MS = 1000

/**
 * How long a request may wait behind requests of a higher priority, ms; then it goes before them
 * ({@link AGED_PRIORITY}). Status reads (priority 0) wait behind submits (1) so that Livingdocs gets
 * its next jobs sooner; without a bound, a replica with a backlog whose jobs' webhooks keep freeing
 * slots submitted for as long as the backlog lasted and read no status: no result was published and
 * no offset committed meanwhile, and a replica stopped then left its finished jobs unread (issue 26:
 * in a rebalance storm, a partition committed nothing for 70–93 s).
 */
export const MAX_WAIT_BEHIND_MS = 2 * WINDOW_MS

/**
 * What {@link RateLimit.run} rejects with when its caller no longer wants a request whose turn came: it
 * was never sent, and it took no slot.
 */
export class RequestWithdrawn extends Error {
  override readonly name = 'RequestWithdrawn'
}

/** The priority of a request that waited {@link MAX_WAIT_BEHIND_MS}: above every caller's. */
const AGED_PRIORITY = 1_000_000

/**
 * At most `perSecond` requests per second as the server sees them, with a limit that can change at run
 * time: after a rebalance a replica's share of the group's `API_RATE_LIMIT_PER_SECOND` changes
 * (src/jobs/api-budget.ts), and the requests waiting keep their place. Waiting requests start by
 * priority, then in arrival order; one that waited {@link MAX_WAIT_BEHIND_MS} goes first, so no
 * priority starves another.
 *
 * Each request takes one of `perSecond` slots and holds it until one second after its answer came: a
 * slot's next request therefore reaches the server more than a second after the last one did, however
 * long the way there took (a process busy with a backlog can start a request a few hundred ms before
 * it leaves; counted from the start, two windows' requests then met in one second at the server). So
 * no second at the server holds more than `perSecond` of them, and a slow API gets fewer requests at
 * once: at most `perSecond` are in flight. Between requests answered at once, `perSecond` per second
 * start.
 *
 * Built on p-queue: its `concurrency`, unlike its `intervalCap`, can be changed while tasks wait; a
 * changed limit applies to the next start (a lowered one waits until fewer slots are held than it
 * allows). `0` means no limit.
 */
export class RateLimit {
  readonly #queue: PQueue
  #perSecond: number
  #ids = 0

  /** @param perSecond most requests per second; 0 for none */
  constructor(perSecond: number) {
    this.#perSecond = perSecond
    this.#queue = new PQueue({ concurrency: concurrencyOf(perSecond) })
  }

  /** The most requests per second now; 0: no limit. */
  get perSecond(): number {
    return this.#perSecond
  }

  /** Changes the limit; the requests waiting start under the new one. @param perSecond 0 for none */
  set perSecond(perSecond: number) {
    this.#perSecond = perSecond
    this.#queue.concurrency = concurrencyOf(perSecond)
  }

  /**
   * Runs `request` once a slot is free (at once without a limit), and keeps the slot for one window
   * after it settled.
   * @param priority higher first among the waiting requests (submits 1, status reads 0)
   * @param wanted asked when the request's turn comes (not without a limit: it goes at once then);
   *   false withdraws it unsent, and the slot goes to the next at once
   * @returns what `request` gives, as soon as it gives it
   * @throws what `request` throws; {@link RequestWithdrawn} for a request `wanted` withdrew;
   *   DOMException `AbortError` for a request still waiting when {@link clear} is called
   */
  run<T>(priority: number, request: () => Promise<T>, wanted?: () => boolean): Promise<T> {
    if (this.#perSecond === 0) return request()
    const id = String(++this.#ids)
    // Raised above every priority once it has waited MAX_WAIT_BEHIND_MS (a started request is not
    // waiting: p-queue throws ReferenceError for it, and the timer is cleared when it starts anyway).
    const aging = setTimeout(() => {
      try {
        this.#queue.setPriority(id, AGED_PRIORITY)
      } catch {
        // Started or dropped meanwhile.
      }
    }, MAX_WAIT_BEHIND_MS).unref()
    return new Promise<T>((resolve, reject) => {
      this.#queue
        .add(
          async () => {
            clearTimeout(aging)
            if (wanted !== undefined && !wanted()) {
              reject(new RequestWithdrawn('the request was withdrawn before it was sent'))
              return
            }
            try {
              resolve(await request())
            } catch (err) {
              reject(err)
            }
            // The slot stays taken for one window after the answer; the timer keeps no process alive.
            await holdWindow(performance.now())
          },
          { priority, id },
        )
        .catch((err: unknown) => {
          clearTimeout(aging)
          reject(err)
        })
    })
  }

  /** Drops the waiting requests (their {@link run} rejects); started ones keep their slots. */
  clear(): void {
    this.#queue.clear()
  }
}

/**
 * Waits until {@link WINDOW_MS} have passed since `from` (a `performance.now()` reading). A timer alone
 * can end early: Node counts its delay from the event loop's time, read when the loop turn began, so a
 * timer set late in a busy turn fires up to that turn's length before the real second is over, and the
 * server then saw the slot's next request less than a second after its last (11 requests in a second
 * under a limit of 10). The clock is read again after each timer.
 */
async function holdWindow(from: number): Promise<void> {
  for (let left = WINDOW_MS; left > 0; left = from + WINDOW_MS - performance.now())
    await new Promise((done) => setTimeout(done, Math.ceil(left)).unref())
}

function concurrencyOf(perSecond: number): number {
  return perSecond > 0 ? perSecond : Number.POSITIVE_INFINITY
}
