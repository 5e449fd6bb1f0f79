/**
 * Which DLQ records `npm run redrive -- dlq` produces again, and as what (pure; docs/redrive.md). A
 * selector sees every record of the DLQ topic once, in the order read, and keeps only those selected.
 */
import { REDRIVE_ATTEMPT_HEADER, redriveAttempt } from '../../src/events/redrive-guard.ts'
import type { OutgoingMessage } from '../../src/kafka/producer.ts'
import { type ConsumedRecord, headerText, type RecordHeader } from '../../src/model/records.ts'
import { DLQ_HEADERS, DLQ_PREVIOUS_PREFIX, withPreviousFailure } from '../../src/outcome/dlq-record.ts'

/** The loop guard's reason: redriven only when named (`--reason REDRIVE_LIMIT_REACHED`). */
const LIMIT_REASON = 'REDRIVE_LIMIT_REACHED'

/** What to select; every given condition must hold. Times are epoch ms, offsets inclusive. */
export interface DlqSelection {
  /** `dlq.reason` codes, or every reason but `REDRIVE_LIMIT_REACHED` (`--all`). */
  reasons: ReadonlySet<string> | 'all'
  /** `dlq.failed.at` at or after this. */
  sinceMs?: number | undefined
  /** `dlq.failed.at` before this. */
  untilMs?: number | undefined
  /** `dlq.source.partition`. */
  partition?: number | undefined
  /** `dlq.source.offset` at least / at most. */
  fromOffset?: bigint | undefined
  toOffset?: bigint | undefined
  /** The input topic: records of another source topic are never sent to it. */
  inputTopic: string
}

/**
 * A record chosen to go back: where it came from, where to read it now (`at`: its DLQ position, or for
 * a FAILED result its source position), and what it failed with. Small: the record itself is read
 * again when it is sent, so a redrive of millions of records holds no values in memory.
 */
export interface Pick {
  /** Its source position: the partition it goes back to, and where it was. */
  source: { topic: string; partition: number; offset: string }
  /** Where the record is read when it is sent. */
  at: { partition: number; offset: string }
  /** The `redrive.attempt` it will carry: one more than the record has. */
  attempt: number
  /** What it failed with (`dlq.reason`, or the FAILED result's reason). */
  reason: string
  /** One line about where it comes from, for a dry run's listing. */
  readonly origin: string
}

/** A record to produce again onto the input topic, as it is sent (partition named). */
export interface Redrive {
  pick: Pick
  message: OutgoingMessage & { partition: number }
}

/** Why a record read is not sent: its count in the summary. */
export const DLQ_SKIPS = {
  notSelected: 'not selected',
  limitReached: 'REDRIVE_LIMIT_REACHED (redriven only when --reason names it)',
  otherTopic: 'from another source topic than the input topic',
  duplicate: 'a second DLQ record of the same source record',
  superseded: 'redriven before and failed again (the later DLQ record is the one sent)',
  valueOmitted: 'written without its value (dlq.omitted): nothing to send',
  notDlq: 'without dlq.reason and source headers: not a DLQ record of the bridge',
} as const
export type DlqSkip = keyof typeof DLQ_SKIPS

/** What a selector found: the records to send (by source partition, then offset) and the counts. */
export interface DlqSelectionResult {
  selected: Pick[]
  /** Records read and selected, by `dlq.reason`. */
  byReason: Map<string, { read: number; selected: number }>
  skipped: Record<DlqSkip, number>
  read: number
}

/**
 * Collects the DLQ records to redrive under `selection`. Each source record goes back at most once
 * per run: a second DLQ record of the same source position (the bridge writes at least once) is a
 * duplicate, and a record that was redriven and failed again is represented by its latest DLQ record
 * alone (the one whose `previous.dlq.source.*` names it supersedes it), so the chain of one record's
 * failures sends one copy. Records the loop guard stopped are left alone unless their reason is named.
 */
export class DlqSelector {
  readonly #selection: DlqSelection
  /** By source partition, then source offset (no key string per record: the offset is kept anyway). */
  readonly #candidates = new Map<number, Map<string, DlqPick>>()
  readonly #redriven = new Set<string>()
  /** One string per distinct reason and mapping field: not one per record. */
  readonly #names = new Map<string, string>()
  readonly #byReason = new Map<string, { read: number; selected: number }>()
  readonly #skipped: Record<DlqSkip, number> = {
    notSelected: 0,
    limitReached: 0,
    otherTopic: 0,
    duplicate: 0,
    superseded: 0,
    valueOmitted: 0,
    notDlq: 0,
  }
  #read = 0

  constructor(selection: DlqSelection) {
    this.#selection = selection
  }

  /** Takes one record of the DLQ topic. */
  add(record: ConsumedRecord): void {
    this.#read++
    const h = record.headers
    const reason = headerText(h, DLQ_HEADERS.reason)
    const source = positionOf(h, '')
    if (reason === undefined || source === undefined) {
      this.#skipped.notDlq++
      return
    }
    const counts = this.#byReason.get(reason) ?? { read: 0, selected: 0 }
    if (counts.read === 0) this.#byReason.set(reason, counts)
    counts.read++
    const previous = positionOf(h, 'previous.')
    if (previous !== undefined) this.#redriven.add(keyOf(previous))
    const skip = this.#skipOf(reason, source, h)
    if (skip !== undefined) {
      this.#skipped[skip]++
      return
    }
    let partition = this.#candidates.get(source.partition)
    if (partition === undefined) {
      partition = new Map()
      this.#candidates.set(source.partition, partition)
    }
    if (partition.has(source.offset)) {
      this.#skipped.duplicate++
      return
    }
    const field = headerText(h, DLQ_HEADERS.mappingField)
    partition.set(
      source.offset,
      new DlqPick(
        // Selected records all come from the input topic: one string for all.
        { topic: this.#selection.inputTopic, partition: source.partition, offset: source.offset },
        { partition: record.partition, offset: record.offset },
        redriveAttempt(h) + 1,
        this.#name(reason),
        field === undefined ? undefined : this.#name(field),
        headerText(h, DLQ_HEADERS.failedAt),
      ),
    )
  }

  /** The records to send, in source order per partition, and the counts. */
  finish(): DlqSelectionResult {
    const selected: Pick[] = []
    for (const picks of this.#candidates.values()) {
      for (const pick of picks.values()) {
        if (this.#redriven.has(keyOf(pick.source))) {
          this.#skipped.superseded++
          continue
        }
        const counts = this.#byReason.get(pick.reason)
        if (counts !== undefined) counts.selected++
        selected.push(pick)
      }
    }
    this.#candidates.clear()
    selected.sort(bySource)
    return { selected, byReason: this.#byReason, skipped: this.#skipped, read: this.#read }
  }

  #name(text: string): string {
    const known = this.#names.get(text)
    if (known !== undefined) return known
    this.#names.set(text, text)
    return text
  }

  #skipOf(
    reason: string,
    source: { topic: string; partition: number; offset: string },
    h: readonly RecordHeader[],
  ): DlqSkip | undefined {
    const s = this.#selection
    if (s.reasons === 'all' ? reason === LIMIT_REASON : !s.reasons.has(reason))
      return s.reasons === 'all' ? 'limitReached' : 'notSelected'
    if (s.sinceMs !== undefined || s.untilMs !== undefined) {
      const at = Date.parse(headerText(h, DLQ_HEADERS.failedAt) ?? '')
      if (!(at >= (s.sinceMs ?? -Infinity) && at < (s.untilMs ?? Infinity))) return 'notSelected'
    }
    if (s.partition !== undefined && source.partition !== s.partition) return 'notSelected'
    const offset = BigInt(source.offset)
    if (s.fromOffset !== undefined && offset < s.fromOffset) return 'notSelected'
    if (s.toOffset !== undefined && offset > s.toOffset) return 'notSelected'
    if (source.topic !== s.inputTopic) return 'otherTopic'
    if (headerText(h, DLQ_HEADERS.omitted) !== undefined) return 'valueOmitted'
    return undefined
  }
}

/**
 * The headers a redriven record carries: its own (the DLQ set of its last failure renamed to
 * `previous.dlq.*`, an older previous set dropped: `withPreviousFailure` of src/outcome/dlq-record.ts),
 * with {@link REDRIVE_ATTEMPT_HEADER} replaced by `attempt`, last.
 */
export function redriveHeaders(headers: readonly RecordHeader[], attempt: number): RecordHeader[] {
  return [
    ...withPreviousFailure(headers).filter(([name]) => name !== REDRIVE_ATTEMPT_HEADER),
    [REDRIVE_ATTEMPT_HEADER, Buffer.from(String(attempt), 'utf8')],
  ]
}

/**
 * The redrive of the record `pick` chose, as read at `pick.at` (from the DLQ, or from the input topic
 * for a FAILED result): its key, value and timestamp, its headers as {@link redriveHeaders} makes them
 * with one attempt more than it carries, to its source partition.
 */
export function redriveOfRecord(pick: Pick, record: ConsumedRecord): Redrive {
  const attempt = redriveAttempt(record.headers) + 1
  return {
    pick: { ...pick, attempt },
    message: {
      key: record.key,
      value: record.value,
      headers: redriveHeaders(record.headers, attempt),
      timestamp: record.timestamp,
      partition: pick.source.partition,
    },
  }
}

/**
 * Orders picks (or anything with a source position, e.g. a FAILED file of ./results-selection.ts) by
 * source partition, then offset: offsets are canonical decimal strings (no leading zeros), so the
 * longer is the larger and equal lengths compare as text; exact for any int64.
 */
export function bySource(a: SourcePosition, b: SourcePosition): number {
  if (a.source.partition !== b.source.partition) return a.source.partition - b.source.partition
  const x = a.source.offset
  const y = b.source.offset
  if (x.length !== y.length) return x.length - y.length
  return x < y ? -1 : x > y ? 1 : 0
}

/** What {@link bySource} orders by: a source partition and offset (a canonical decimal string). */
interface SourcePosition {
  source: { partition: number; offset: string }
}

/** A DLQ record chosen to go back: a few fields; its listing line is made only when asked for. */
class DlqPick implements Pick {
  readonly source: { topic: string; partition: number; offset: string }
  readonly at: { partition: number; offset: string }
  readonly attempt: number
  readonly reason: string
  readonly field: string | undefined
  readonly failedAt: string | undefined

  constructor(
    source: { topic: string; partition: number; offset: string },
    at: { partition: number; offset: string },
    attempt: number,
    reason: string,
    field: string | undefined,
    failedAt: string | undefined,
  ) {
    this.source = source
    this.at = at
    this.attempt = attempt
    this.reason = reason
    this.field = field
    this.failedAt = failedAt
  }

  get origin(): string {
    const field = this.field === undefined ? '' : ` (${this.field})`
    return `dlq ${this.at.partition}/${this.at.offset}  ${this.reason}${field}  failed ${this.failedAt ?? '?'}`
  }
}

/** The source position in the DLQ headers (`dlq.source.*`, or `previous.dlq.source.*`), when complete. */
function positionOf(h: readonly RecordHeader[], group: '' | 'previous.') {
  const at = (header: string) => headerText(h, `${group === '' ? '' : DLQ_PREVIOUS_PREFIX}${header}`)
  const topic = at(DLQ_HEADERS.topic)
  const partition = at(DLQ_HEADERS.partition)
  const offset = at(DLQ_HEADERS.offset)
  if (topic === undefined || !/^\d+$/.test(partition ?? '') || !/^\d+$/.test(offset ?? '')) return undefined
  return { topic, partition: Number(partition), offset: BigInt(offset as string).toString() }
}

function keyOf(p: { topic: string; partition: number; offset: string }): string {
  return `${p.topic}\u0000${p.partition}\u0000${p.offset}`
}
