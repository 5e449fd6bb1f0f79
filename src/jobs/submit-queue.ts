import type { Batch } from '../pipeline/types.ts'

/** A batch waiting to be submitted. */
export interface QueuedBatch {
  batch: Batch
  /** Times this batch was already submitted and its job was lost. */
  resubmits: number
  /** Not before this time, epoch ms (0: at once). */
  notBefore: number
}

/**
 * The batches waiting for a free job slot, in order. At most `maxJobsInFlight` jobs run at once (the
 * caller says how many do); a batch waiting for a later time (a resubmit) keeps every batch behind it
 * waiting too, so batches go out in the order they closed. While the API asked all requests to wait
 * ({@link hold}), nothing is submitted. One timer at most, armed only while something waits for a time.
 */
export class SubmitQueue {
  readonly #maxJobsInFlight: number
  readonly #inFlight: () => number
  readonly #submit: (queued: QueuedBatch) => void
  readonly #queue: QueuedBatch[] = []
  #timer: NodeJS.Timeout | null = null
  #heldUntil = 0
  #closed = false

  /**
   * @param deps.inFlight jobs running or being submitted now
   * @param deps.submit starts submitting `queued`; must count it in `inFlight()` before it returns
   */
  constructor(
    options: { maxJobsInFlight: number },
    deps: { inFlight: () => number; submit: (queued: QueuedBatch) => void },
  ) {
    this.#maxJobsInFlight = options.maxJobsInFlight
    this.#inFlight = deps.inFlight
    this.#submit = deps.submit
  }

  /** Batches waiting. */
  get length(): number {
    return this.#queue.length
  }

  /** Files in the waiting batches. */
  get files(): number {
    let n = 0
    for (const q of this.#queue) n += q.batch.files.length
    return n
  }

  /** Until when every request waits (epoch ms; in the past when none does). */
  get heldUntil(): number {
    return this.#heldUntil
  }

  /** Queues `batch` behind the others and submits what may go now. */
  push(batch: Batch): void {
    this.#queue.push({ batch, resubmits: 0, notBefore: 0 })
    this.pump()
  }

  /** Puts batches back at the head of the queue, in the given order (a failed or split submit). */
  requeue(...queued: QueuedBatch[]): void {
    this.#queue.unshift(...queued)
  }

  /** Holds every submit until `untilMs` (epoch ms), or longer if already held longer. */
  hold(untilMs: number): void {
    this.#heldUntil = Math.max(this.#heldUntil, untilMs)
  }

  /** Submits the head batches while job slots are free and their time has come. */
  pump(): void {
    if (this.#closed) return
    const now = Date.now()
    if (this.#queue.length > 0 && now < this.#heldUntil) {
      this.#arm(this.#heldUntil - now)
      return
    }
    while (this.#queue.length > 0 && this.#inFlight() < this.#maxJobsInFlight) {
      const next = this.#queue[0] as QueuedBatch
      if (next.notBefore > now) {
        this.#arm(next.notBefore - now)
        return
      }
      this.#queue.shift()
      this.#submit(next)
    }
  }

  /** Stops submitting; queued batches stay unsubmitted (their offsets uncommitted). */
  close(): void {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  #arm(delayMs: number): void {
    if (this.#timer !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.pump()
    }, delayMs)
  }
}
