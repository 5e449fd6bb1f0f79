import type { PendingFile } from '../model/files.ts'
import type { RecordPosition } from '../model/records.ts'

/**
 * One file per `systemName` + `externalId` in flight at a time. Livingdocs matches imports on that pair
 * ([F] §1.1, [IA]) and does not document what two concurrent imports of one pair do, so a later event
 * for a pair waits until the earlier one has its result event; then it is imported in turn (and sees
 * the earlier import: `skipped: already exists` for the same content, or an update). Events of one
 * pair thus come out in the order they were consumed.
 */
export class KeySequencer {
  /**
   * `externalId`s in flight, by `systemName`: two lookups of strings each file already has, rather than
   * one of a key concatenated per call (a new string to flatten and hash, twice per file).
   */
  readonly #inFlight = new Map<string, Set<string>>()
  /** Parked files by `systemName`, then `externalId`, in consumption order. */
  readonly #waiting = new Map<string, Map<string, PendingFile[]>>()
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

  /** The files of the pair parked behind an earlier one, in consumption order (the admin API's lookup). */
  parkedOf(systemName: string, externalId: string): readonly PendingFile[] {
    return this.#waiting.get(systemName)?.get(externalId) ?? []
  }

  /** Passes `file` on now, or parks it behind an earlier file of its pair. */
  admit(file: PendingFile): void {
    const { systemName, externalId } = file.event
    let ids = this.#inFlight.get(systemName)
    if (ids === undefined) {
      ids = new Set()
      this.#inFlight.set(systemName, ids)
    }
    // One lookup: the set grows unless the id is in flight already.
    const size = ids.size
    ids.add(externalId)
    if (ids.size === size) {
      let bySystem = this.#waiting.get(systemName)
      if (bySystem === undefined) {
        bySystem = new Map()
        this.#waiting.set(systemName, bySystem)
      }
      const list = bySystem.get(externalId)
      if (list === undefined) bySystem.set(externalId, [file])
      else list.push(file)
      this.#parked++
      return
    }
    this.#release(file)
  }

  /** Marks `file` done (result published, or dropped); the next file of its pair, if any, goes on. */
  done(file: PendingFile): void {
    const { systemName, externalId } = file.event
    const bySystem = this.#waiting.get(systemName)
    const list = bySystem?.get(externalId)
    const next = list?.shift()
    if (list !== undefined && list.length === 0) {
      bySystem?.delete(externalId)
      if (bySystem?.size === 0) this.#waiting.delete(systemName)
    }
    if (next === undefined) {
      // Emptied sets stay: a bridge sees few systemNames, and each keeps coming.
      this.#inFlight.get(systemName)?.delete(externalId)
      return
    }
    this.#parked--
    this.#release(next)
  }

  /**
   * Drops parked files of partitions no longer owned (after a rebalance).
   * @returns the files dropped
   */
  dropPartitions(isOwned: (position: RecordPosition) => boolean): PendingFile[] {
    const dropped: PendingFile[] = []
    for (const [systemName, bySystem] of this.#waiting) {
      for (const [externalId, list] of bySystem) {
        const kept: PendingFile[] = []
        for (const f of list) (isOwned(f.position) ? kept : dropped).push(f)
        if (kept.length === 0) bySystem.delete(externalId)
        else bySystem.set(externalId, kept)
      }
      if (bySystem.size === 0) this.#waiting.delete(systemName)
    }
    this.#parked -= dropped.length
    return dropped
  }
}
