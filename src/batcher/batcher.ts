import { TOO_LARGE_REASON_PREFIX } from '../model/failure-reasons.ts'
import { type Batch, ENVELOPE_BYTES, type MediaKind, type PendingFile } from '../model/files.ts'
import type { RecordPosition } from '../model/records.ts'
import type { BridgeTracing } from '../telemetry/bridge-tracing.ts'

/** A batch still taking files. */
interface OpenBatch {
  kind: MediaKind
  systemName: string
  files: PendingFile[]
  bytes: number
  timer: NodeJS.Timeout | null
  /** When its first file came, epoch ms. */
  openedAt: number
}

/** Options of the {@link Batcher}. */
export interface BatcherOptions {
  /** Most files per request. */
  maxFiles: number
  /** Most request body bytes (the sum of entries plus {@link ENVELOPE_BYTES}). */
  maxBytes: number
  /** How long the first file of a batch may wait for more, ms. 0 flushes on the next tick. */
  lingerMs: number
}

/**
 * Accumulates files into batches per import kind and systemName ([F] §7: images, videos and other files
 * have imports of their own; [F] §1.1: `systemName` is per request, so one request carries one
 * systemName; [G] advises keeping it the same for every item). A batch closes when it holds
 * `maxFiles`, when the next file would pass `maxBytes`, or `lingerMs` after its first file arrived;
 * closed batches go to `onBatch` synchronously, files in arrival order (partition order kept).
 * A single lazily armed timer per open batch; no timer runs while nothing is buffered.
 *
 * A file whose entry alone cannot fit `maxBytes` can never be sent: it goes to `onOversized` with the
 * reason, before any request (its FAILED result names the limit).
 *
 * While tracing is on, each closed batch gets its `import batch` span (`Batch.span`), from its first
 * file to its closing.
 */
export class Batcher {
  readonly #options: BatcherOptions
  readonly #onBatch: (batch: Batch) => void
  readonly #onOversized: ((file: PendingFile, reason: string) => void) | undefined
  readonly #tracing: BridgeTracing | undefined
  /** Open batches by systemName, then kind: two lookups of strings each file holds, no key built per file. */
  readonly #open = new Map<string, Map<MediaKind, OpenBatch>>()
  #sequence = 0
  #buffered = 0

  /**
   * @param onOversized takes a file too large for any request, with the reason
   * @param tracing makes each closed batch's span while on
   * @throws Error when `maxBytes` leaves no room for entries
   */
  constructor(
    options: BatcherOptions,
    onBatch: (batch: Batch) => void,
    onOversized?: (file: PendingFile, reason: string) => void,
    tracing?: BridgeTracing,
  ) {
    if (options.maxBytes <= ENVELOPE_BYTES) throw new Error(`maxBytes must be above ${ENVELOPE_BYTES}`)
    this.#options = options
    this.#onBatch = onBatch
    this.#onOversized = onOversized
    this.#tracing = tracing?.on === true ? tracing : undefined
  }

  /** Files buffered in open batches. */
  get buffered(): number {
    return this.#buffered
  }

  /** The files of the pair in open batches (not closed yet), for the admin API's lookup. */
  openFilesOf(systemName: string, externalId: string): PendingFile[] {
    const found: PendingFile[] = []
    for (const open of this.#open.get(systemName)?.values() ?? []) {
      for (const f of open.files) if (f.event.externalId === externalId) found.push(f)
    }
    return found
  }

  /**
   * Adds a file to the open batch of its systemName, closing batches as the limits say; a file too large
   * for any request goes to `onOversized`.
   * @throws Error for such a file when there is no `onOversized`
   */
  add(file: PendingFile): void {
    const { maxFiles, maxBytes, lingerMs } = this.#options
    if (file.bytes + ENVELOPE_BYTES > maxBytes) {
      const reason = `${TOO_LARGE_REASON_PREFIX}${file.bytes} bytes; an import request carries at most ${maxBytes - ENVELOPE_BYTES} bytes of entries (BATCH_MAX_BYTES=${maxBytes}, kept below the Livingdocs server's request body limit, 500 kB by default)`
      if (this.#onOversized === undefined) throw new Error(`${reason}: cannot fit`)
      this.#onOversized(file, reason)
      return
    }
    const { kind, systemName } = file.event
    let bySystem = this.#open.get(systemName)
    if (bySystem === undefined) {
      bySystem = new Map()
      this.#open.set(systemName, bySystem)
    }
    let group = bySystem.get(kind)
    if (group !== undefined && group.bytes + file.bytes > maxBytes) {
      this.#close(group, 'max-bytes')
      group = undefined
    }
    if (group === undefined) {
      const opened: OpenBatch = {
        kind,
        systemName,
        files: [],
        bytes: ENVELOPE_BYTES,
        timer: null,
        openedAt: Date.now(),
      }
      bySystem.set(kind, opened)
      opened.timer = setTimeout(() => this.#close(opened, 'linger'), lingerMs)
      group = opened
    }
    group.files.push(file)
    group.bytes += file.bytes
    this.#buffered++
    if (group.files.length >= maxFiles) this.#close(group, 'max-files')
  }

  /** Closes every open batch now (shutdown, or tests). */
  drain(): void {
    for (const bySystem of [...this.#open.values()])
      for (const group of [...bySystem.values()]) this.#close(group, 'drain')
  }

  /**
   * Drops buffered files whose partition this member no longer owns (after a rebalance): the new owner
   * consumes them again from the committed offset.
   * @returns the files dropped
   */
  dropPartitions(isOwned: (position: RecordPosition) => boolean): PendingFile[] {
    const dropped: PendingFile[] = []
    for (const bySystem of this.#open.values()) {
      for (const [kind, group] of bySystem) {
        const kept: PendingFile[] = []
        for (const f of group.files) (isOwned(f.position) ? kept : dropped).push(f)
        if (kept.length === 0) {
          if (group.timer !== null) clearTimeout(group.timer)
          bySystem.delete(kind)
        } else {
          group.files = kept
          group.bytes = ENVELOPE_BYTES + kept.reduce((sum, f) => sum + f.bytes, 0)
        }
      }
    }
    this.#buffered -= dropped.length
    return dropped
  }

  /** Closes `group` if it is still open (a linger timer may fire for a batch closed since). */
  #close(group: OpenBatch, closedBy: Batch['closedBy']): void {
    const bySystem = this.#open.get(group.systemName)
    if (bySystem?.get(group.kind) !== group) return
    bySystem.delete(group.kind)
    if (group.timer !== null) clearTimeout(group.timer)
    this.#buffered -= group.files.length
    this.#sequence++
    const batch: Batch = {
      id: `b${Date.now().toString(36)}-${this.#sequence}`,
      systemName: group.systemName,
      kind: group.kind,
      files: group.files,
      bytes: group.bytes,
      closedBy,
      openedAt: group.openedAt,
    }
    if (this.#tracing !== undefined) batch.span = this.#tracing.batchSpan(batch)
    this.#onBatch(batch)
  }
}
