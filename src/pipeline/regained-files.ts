import { compareOffsets } from '../kafka/offset-tracker.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { partitionKey } from '../model/assignment.ts'
import type { PendingFile } from '../model/files.ts'
import type { RecordPosition } from '../model/records.ts'

/** Offsets of records published on partitions not owned now that are remembered, at most. */
const DONE_KEPT = 100_000

/** What one expected record is waiting for. */
interface Expected {
  jobId: string
  /** The job's result events were acknowledged before the record came again. */
  published: boolean
}

/** The records expected on one partition. */
interface PartitionExpected {
  /** Offset -> what the record waits for. */
  byOffset: Map<string, Expected>
  /**
   * The offsets of `byOffset` ascending (by {@link compareOffsets}), from `head` on not yet passed by a
   * consumed record; null after entries were added, sorted again by the next {@link RegainedFiles.take}.
   * Records come in ascending order, so each take only moves `head` on: amortised O(1) per record.
   */
  order: string[] | null
  head: number
}

/** What {@link RegainedFiles.take} says about a consumed record. */
export type Regained =
  /** Not a file of a followed job: it goes the normal way (the key sequencer, the batcher). */
  | 'new'
  /** A file of a job this process still follows: its job's results will settle it; not admitted again. */
  | 'taken'
  /** A file of a job whose results were acknowledged since the rebalance: settle it now. */
  | 'published'

/**
 * Files of import jobs this process still follows (submitted or adopted, not concluded) on partitions
 * that were revoked and then assigned to it again (a rebalance storm: KEDA flapping, a rolling deploy).
 * The consumer fetches such a partition again from its committed offset, so the files come again; they
 * are taken back ({@link take}) instead of being admitted to the pipeline, where they would wait in
 * the key sequencer behind their own first copy and then be submitted a second (or third) time. A taken
 * record stays tracked by the offset tracker, and the job's results settle it like any other record
 * of the partition; one whose job's results were acknowledged before it came again is settled at once.
 *
 * The same holds for records of a partition whose results this process published but did not commit
 * before the partition was revoked (the commit interval, or a job that concluded after the revoke,
 * which without the job log publishes its results anyway): when the partition is assigned back, they
 * are settled as they come again instead of being imported a second time (`published`).
 *
 * Works with and without the job log: these are the replica's own jobs, which it follows anyway.
 * Not thread-safe (one event loop). Each expected record costs a map entry and an array slot until it
 * comes, its partition is revoked again, or a later offset of its partition comes first (then it lay
 * below the committed offset: another replica published it and committed). O(1) amortised per
 * {@link take}, plus a sort of a partition's expected offsets on the first take after some were added.
 */
export class RegainedFiles {
  readonly #metrics: Metrics
  readonly #logger: Logger
  /** Partition key -> the records expected on that partition. */
  readonly #expected = new Map<string, PartitionExpected>()
  /**
   * Partitions not owned now: partition key -> offsets of records whose results this process published
   * (settled but not committed when the partition was revoked, or published since). At most
   * {@link DONE_KEPT} offsets in all; the oldest partition's go first.
   */
  readonly #done = new Map<string, Set<string>>()
  #doneCount = 0
  #isOwned: (p: RecordPosition) => boolean = () => false

  constructor(deps: { metrics: Metrics; logger: Logger }) {
    this.#metrics = deps.metrics
    this.#logger = deps.logger
  }

  /** Records expected, over all partitions. */
  get size(): number {
    let n = 0
    for (const e of this.#expected.values()) n += e.byOffset.size
    return n
  }

  /**
   * After each join of the consumer group: forgets the expected records of partitions no longer owned,
   * and expects the files of `followed` jobs on partitions newly assigned (`isNew`), which the consumer
   * fetches again from the committed offset.
   * @param followed the files of the jobs this process follows, with their job ids (the job tracker's
   *   `followedFiles`)
   * @returns the number of records newly expected
   */
  onAssignment(
    followed: Iterable<{ jobId: string; file: PendingFile }>,
    isOwned: (p: RecordPosition) => boolean,
    isNew: (p: RecordPosition) => boolean,
  ): number {
    this.#isOwned = isOwned
    let done = 0
    for (const [k, offsets] of this.#done) {
      const [topic, partition] = k.split('\u0000')
      const p = { topic: topic as string, partition: Number(partition), offset: '0' }
      if (!isOwned(p)) continue
      this.#done.delete(k)
      this.#doneCount -= offsets.size
      if (!isNew(p)) continue
      const byOffset = this.#partition(k)
      for (const o of offsets) byOffset.set(o, { jobId: '', published: true })
      done += offsets.size
    }
    if (done > 0)
      this.#logger.info(
        { files: done },
        'rebalance: partitions assigned back to this replica hold records whose results it published after their last commit; settling them when they come again',
      )
    for (const [k, e] of this.#expected) {
      const [topic, partition] = k.split('\u0000')
      if (!isOwned({ topic: topic as string, partition: Number(partition), offset: '0' }))
        this.#expected.delete(k)
      else if (e.byOffset.size === 0) this.#expected.delete(k)
    }
    let added = 0
    const jobs = new Set<string>()
    for (const { jobId, file } of followed) {
      const p = file.position
      if (!isNew(p)) continue
      this.#partition(partitionKey(p.topic, p.partition)).set(p.offset, { jobId, published: false })
      jobs.add(jobId)
      added++
    }
    if (added > 0)
      this.#logger.info(
        { files: added, jobs: jobs.size },
        'rebalance: partitions assigned back to this replica hold files of import jobs it still follows; taking them back when they come again, without a new submit',
      )
    return added
  }

  /**
   * Says what to do with a consumed record (call for every record decoded as a file, after the offset
   * tracker took it, in partition order). Expected records of its partition below it are forgotten:
   * they lay below the committed offset.
   */
  take(position: RecordPosition): Regained {
    if (this.#expected.size === 0) return 'new'
    const k = partitionKey(position.topic, position.partition)
    const e = this.#expected.get(k)
    if (e === undefined) return 'new'
    const byOffset = e.byOffset
    const offset = position.offset
    const expected = byOffset.get(offset)
    if (expected !== undefined) byOffset.delete(offset)
    if (byOffset.size > 0) {
      // Forget the expected offsets below this one (already passed ones are deleted again, harmlessly).
      if (e.order === null) {
        e.order = [...byOffset.keys()].sort(compareOffsets)
        e.head = 0
      }
      const order = e.order
      while (e.head < order.length && compareOffsets(order[e.head] as string, offset) < 0)
        byOffset.delete(order[e.head++] as string)
    }
    if (byOffset.size === 0) this.#expected.delete(k)
    if (expected === undefined) return 'new'
    this.#metrics.filesRegained.inc()
    return expected.published ? 'published' : 'taken'
  }

  /**
   * After {@link onAssignment}: records of newly owned partitions whose results were published (the job
   * log marks them, whoever published them) but not yet committed: each is settled when it comes again
   * ({@link take} says `published`), neither submitted nor published again.
   * @returns the number of records newly expected
   */
  expectPublished(positions: readonly RecordPosition[]): number {
    let added = 0
    for (const p of positions) {
      if (!this.#isOwned(p)) continue
      const byOffset = this.#partition(partitionKey(p.topic, p.partition))
      const expected = byOffset.get(p.offset)
      if (expected === undefined) {
        byOffset.set(p.offset, { jobId: '', published: true })
        added++
      } else expected.published = true
    }
    return added
  }

  /**
   * The result events of `files` were acknowledged (or their results left to another replica): an
   * expected record among them that has not come again yet is settled when it comes.
   */
  published(files: readonly PendingFile[]): void {
    for (const f of files) {
      const k = partitionKey(f.position.topic, f.position.partition)
      if (!this.#isOwned(f.position)) {
        this.#remember(k, [f.position.offset])
        continue
      }
      const expected = this.#expected.get(k)?.byOffset.get(f.position.offset)
      if (expected !== undefined) expected.published = true
    }
  }

  /**
   * After a join that revoked partitions: the records of each that were settled but not committed (the
   * offset tracker's `retainOnly`). Their results are published; if the partition is assigned back
   * they are settled when they come again ({@link take} says `published`), not imported again.
   */
  revoked(settled: ReadonlyArray<{ topic: string; partition: number; offsets: readonly string[] }>): void {
    for (const s of settled) this.#remember(partitionKey(s.topic, s.partition), s.offsets)
  }

  /**
   * The expected records of partition `k` (created empty when none), to add entries to: the next
   * {@link take} on it sorts its offsets again.
   */
  #partition(k: string): Map<string, Expected> {
    let e = this.#expected.get(k)
    if (e === undefined) {
      e = { byOffset: new Map(), order: null, head: 0 }
      this.#expected.set(k, e)
    } else e.order = null
    return e.byOffset
  }

  #remember(k: string, offsets: readonly string[]): void {
    let set = this.#done.get(k)
    if (set === undefined) {
      set = new Set()
      this.#done.set(k, set)
    }
    for (const o of offsets) {
      const size = set.size
      set.add(o)
      this.#doneCount += set.size - size
    }
    while (this.#doneCount > DONE_KEPT) {
      const [oldest, dropped] = this.#done.entries().next().value as [string, Set<string>]
      this.#done.delete(oldest)
      this.#doneCount -= dropped.size
    }
  }
}
