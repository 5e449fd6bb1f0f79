/**
 * Where the consumer of one topic fetches next in each partition it owns, to see when kafkajs moved that
 * position itself: after an OffsetOutOfRange answer (the committed offset, or the position of a
 * partition being read, is below the log start because retention or `deleteRecords` removed those
 * records, or above the log end) kafkajs commits "earliest" and fetches from the log start, logging
 * neither offset. The bridge never seeks, so a fetch that starts anywhere but the expected position
 * is such a reset; the records between are lost to retention when it moved forward.
 */

/** Longest the first fetch of newly assigned partitions waits for their committed offsets, ms. */
export const COMMITTED_READ_TIMEOUT_MS = 10_000

/** A reset of the fetch position of one partition, as {@link FetchPositions.fetched} sees it. */
export interface PositionReset {
  partition: number
  /** The position before: the group's committed offset, or where this member was reading. */
  from: bigint
  /** Where the fetch started instead. */
  to: bigint
  /** Records skipped (`to − from` when it moved forward, else 0: records read again). */
  skipped: bigint
  /** `committed`: the committed offset of a partition this member just got; `fetch`: its own position. */
  position: 'committed' | 'fetch'
}

/**
 * The expected next fetch offset per owned partition of one topic: set from the group's committed
 * offset when a partition is assigned (read before its first fetch), then moved past every record the
 * consumer takes or passes over. Per fetch batch, not per record.
 */
export class FetchPositions {
  readonly #positions = new Map<number, { offset: bigint; position: PositionReset['position'] }>()
  /** Newly assigned partitions whose committed offsets are being read: not to be fetched meanwhile. */
  readonly #probing = new Set<number>()
  /** Bumped at each join: a read of an earlier join no longer applies. */
  #join = 0

  /** The partitions whose committed offsets are being read (keep them paused). */
  get probing(): number[] {
    return [...this.#probing]
  }

  /** True while the committed offset of `partition` is being read. */
  isProbing(partition: number): boolean {
    return this.#probing.has(partition)
  }

  /**
   * Reads the committed offsets of newly assigned `partitions` with `read` before their first fetch
   * (the caller keeps {@link probing} partitions paused), at most {@link COMMITTED_READ_TIMEOUT_MS}:
   * kafkajs commits "earliest" over an out-of-range committed offset, so it cannot be read afterwards.
   * @param events.onDone called once the read is over (resume the partitions); `onFailed` before it when
   *   the read failed or timed out (their resets then go unreported)
   */
  probe(
    partitions: number[],
    read: (partitions: number[]) => Promise<Map<number, bigint | null>>,
    events: { onDone: () => void; onFailed: (err: unknown) => void },
  ): void {
    const join = this.#join
    for (const p of partitions) this.#probing.add(p)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${COMMITTED_READ_TIMEOUT_MS} ms`)),
        COMMITTED_READ_TIMEOUT_MS,
      )
    })
    void Promise.race([read(partitions), timeout])
      .then(
        (committed) => {
          if (join !== this.#join) return
          for (const p of partitions) this.committed(p, committed.get(p) ?? null)
        },
        (err: unknown) => {
          if (join === this.#join) events.onFailed(err)
        },
      )
      .finally(() => {
        clearTimeout(timer)
        if (join !== this.#join) return
        for (const p of partitions) this.#probing.delete(p)
        events.onDone()
      })
  }

  /**
   * Keeps the positions of the partitions still owned after a join and forgets the others.
   * @returns the owned partitions without a position (newly assigned): read their committed offsets
   */
  retain(owned: readonly number[]): number[] {
    this.#join++
    this.#probing.clear()
    const keep = new Set(owned)
    for (const partition of this.#positions.keys())
      if (!keep.has(partition)) this.#positions.delete(partition)
    return owned.filter((p) => !this.#positions.has(p))
  }

  /** The group's committed offset of a newly assigned partition (null: none, it starts at the log start). */
  committed(partition: number, offset: bigint | null): void {
    if (offset === null || offset < 0n || this.#positions.has(partition)) return
    this.#positions.set(partition, { offset, position: 'committed' })
  }

  /**
   * A fetch of `partition` started at `offset`.
   * @returns the reset when it is not where the partition was expected to be read, else null
   */
  fetched(partition: number, offset: bigint): PositionReset | null {
    const known = this.#positions.get(partition)
    this.#positions.set(partition, { offset, position: 'fetch' })
    if (known === undefined || known.offset === offset) return null
    // A rejoin fetches a kept partition again from the committed offset, behind this member's own
    // position: those records are in hand (redeliveries), not a reset.
    if (offset < known.offset && known.position === 'fetch') return null
    return {
      partition,
      from: known.offset,
      to: offset,
      skipped: offset > known.offset ? offset - known.offset : 0n,
      position: known.position,
    }
  }

  /** Records up to `next − 1` of `partition` were taken or passed over: the next fetch starts at `next`. */
  advance(partition: number, next: bigint): void {
    this.#positions.set(partition, { offset: next, position: 'fetch' })
  }
}
