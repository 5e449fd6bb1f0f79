import { fileEntryJson } from '../../src/import/file-entry.ts'
import { type Batch, batchBytes, type FileCreatedEvent, type PendingFile } from '../../src/model/files.ts'
import type { RecordPosition } from '../../src/model/records.ts'

let nextOffset = 0

/**
 * A consumed, valid file for unit tests of the pure stages, with its whole event (as the decoder gives
 * it; the bridge keeps only a `PendingEvent` of it). Offsets count up per process, so files made one
 * after the other keep partition order.
 */
export function pendingFile(
  externalId: string,
  opts: {
    systemName?: string
    bytes?: number
    partition?: number
    topic?: string
    metadata?: Record<string, unknown>
  } = {},
): PendingFile & { event: FileCreatedEvent } {
  const event: FileCreatedEvent = {
    externalId,
    url: `https://files.example/${externalId}`,
    fileName: `${externalId}.pdf`,
    mediaType: 'file',
    kind: 'file' as const,
    metadata: opts.metadata ?? {},
    systemName: opts.systemName ?? 'archive',
    occurredAt: 1_700_000_000_000,
  }
  return {
    event,
    // As the decoder does: the files[] entry serialised once (src/import/file-entry.ts).
    entry: Buffer.from(fileEntryJson(event)),
    position: { topic: opts.topic ?? 'in', partition: opts.partition ?? 0, offset: String(nextOffset++) },
    consumedAt: Date.now(),
    bytes: opts.bytes ?? 100,
  }
}

/** {@link pendingFile} `externalId` (default options) at offset `offset` of partition `partition` of topic `in`. */
export function fileAt(
  externalId: string,
  partition: number,
  offset: number,
): PendingFile & { event: FileCreatedEvent } {
  return { ...pendingFile(externalId), position: { topic: 'in', partition, offset: String(offset) } }
}

/** The position of offset `offset` of partition `partition` of topic `in`. */
export function pos(partition: number, offset: number): RecordPosition {
  return { topic: 'in', partition, offset: String(offset) }
}

/** Whether a position lies on topic `in`, in one of the partitions `ps` (an owned or newly assigned set). */
export function partitions(...ps: number[]): (p: RecordPosition) => boolean {
  return (p) => p.topic === 'in' && ps.includes(p.partition)
}

/** Starts offsets from 0 again (call in beforeEach when a test relies on them). */
export function resetPendingFileOffsets(): void {
  nextOffset = 0
}

/** Batch `b1` of `archive` files (the file import), closed by its linger time, with its true byte count. */
export function batchOfFiles(files: PendingFile[]): Batch {
  return {
    id: 'b1',
    systemName: 'archive',
    kind: 'file',
    files,
    bytes: batchBytes(files),
    closedBy: 'linger',
  }
}
