import type { PendingFile, RecordPosition } from './types.ts'

/**
 * One file per `systemName` + `externalId` in flight at a time. Livingdocs matches imports on that pair
 * ([F] §1.1, [IA]) and does not document what two concurrent imports of one pair do, so a later event
 * for a pair waits until the earlier one has its result event; then it is imported in turn (and sees
 * the earlier import: `skipped: already exists` for the same content, or an update). Events of one
 * pair thus come out in the order they were consumed.
 */
export class KeySequencer {
  readonly #inFlight = new Set<string>()
  readonly #waiting = new Map<string, PendingFile[]>()
  readonly #release: (file: PendingFile) => void
  #parked = 0

  /** @param release called with a file when it may go on to the batcher */
  constructor(release: (file: PendingFile) => void) {
    this.#release = release
  }

  /** Files parked behind an earlier file of the same pair. */
  get parked(): number {
    return this.#parked
  }

  /** Passes `file` on now, or parks it behind an earlier file of its pair. */
  admit(file: PendingFile): void {
    const k = keyOf(file)
    if (this.#inFlight.has(k)) {
      const list = this.#waiting.get(k)
      if (list === undefined) this.#waiting.set(k, [file])
      else list.push(file)
      this.#parked++
      return
    }
    this.#inFlight.add(k)
    this.#release(file)
  }

  /** Marks `file` done (result published, or dropped); the next file of its pair, if any, goes on. */
  done(file: PendingFile): void {
    const k = keyOf(file)
    const list = this.#waiting.get(k)
    const next = list?.shift()
    if (list !== undefined && list.length === 0) this.#waiting.delete(k)
    if (next === undefined) {
      this.#inFlight.delete(k)
      return
    }
    this.#parked--
    this.#release(next)
  }

  /**
   * Drops parked files of partitions no longer owned (after a rebalance).
   * @returns the number dropped
   */
  dropPartitions(isOwned: (position: RecordPosition) => boolean): number {
    let dropped = 0
    for (const [k, list] of this.#waiting) {
      const kept = list.filter((f) => isOwned(f.position))
      dropped += list.length - kept.length
      if (kept.length === 0) this.#waiting.delete(k)
      else this.#waiting.set(k, kept)
    }
    this.#parked -= dropped
    return dropped
  }
}

function keyOf(file: PendingFile): string {
  return `${file.event.systemName}\u0000${file.event.externalId}`
}
