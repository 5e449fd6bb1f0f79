/**
 * What the dry run (`npm run map`, scripts/map.ts) prints: per event the import entry it becomes, or why
 * it would be filtered or dead-lettered, and a summary line. Kept apart from the CLI so that tests
 * check the example of docs/mapping.md against exactly this output.
 */
import { basename } from 'node:path'
import type { DecodeResult, Filtered, MediaKind } from '../src/model/files.ts'
import type { ConsumedRecord } from '../src/model/records.ts'

/** One event's report, printed as indented JSON. */
export type EventReport =
  | {
      at: string
      outcome: 'import'
      /** The import the entry goes to (docs/import-api.md, "Images, videos and files"). */
      kind: MediaKind
      systemName: string
      /** ISO 8601 (the result event's `eventTime`, as the bridge reads `occurredAt`). */
      occurredAt: string
      /** The `files[]` entry exactly as the import request carries it. */
      entry: Record<string, unknown>
    }
  | { at: string; outcome: 'filtered'; reason: Filtered['filtered'] }
  | { at: string; outcome: 'dlq'; reason: string; field?: string; message: string }

/** The report of one record's `result` (what the bridge's mapped decoder made of it) read at `at`. */
export function reportOf(at: string, result: DecodeResult | Filtered): EventReport {
  if (result.ok) {
    return {
      at,
      outcome: 'import',
      kind: result.event.kind,
      systemName: result.event.systemName,
      occurredAt: new Date(result.event.occurredAt).toISOString(),
      entry: JSON.parse(result.entry.toString('utf8')) as Record<string, unknown>,
    }
  }
  if ('filtered' in result) return { at, outcome: 'filtered', reason: result.filtered }
  const { reason, field, message } = result.failure
  return { at, outcome: 'dlq', reason, ...(field === undefined ? {} : { field }), message }
}

/** One report as printed: indented JSON, so that a nested entry reads at a glance. */
export function formatReport(report: EventReport): string {
  return JSON.stringify(report, null, 2)
}

/** Counts of reports, and the summary line `map: events=N import=N filtered=N dlq=N`. */
export class Tally {
  readonly counts = { import: 0, filtered: 0, dlq: 0 }
  add(report: EventReport): void {
    this.counts[report.outcome]++
  }
  get events(): number {
    return this.counts.import + this.counts.filtered + this.counts.dlq
  }
  summary(): string {
    const { counts } = this
    return `map: events=${this.events} import=${counts.import} filtered=${counts.filtered} dlq=${counts.dlq}`
  }
}

/**
 * The records of an export file: one JSON value a line (blank lines skipped), each the value of a
 * record as the bridge would consume it: `$topic` is the file's name, `$partition` 0, `$offset` the
 * line's index (from 0), `$timestamp` `now`, no key and no headers.
 * @returns each record with its place, `file:line`
 */
export function exportRecords(
  file: string,
  text: string,
  now: number,
): Array<{ at: string; record: ConsumedRecord }> {
  const out: Array<{ at: string; record: ConsumedRecord }> = []
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return
    out.push({
      at: `${file}:${index + 1}`,
      record: {
        topic: basename(file),
        partition: 0,
        offset: String(index),
        key: null,
        value: Buffer.from(line, 'utf8'),
        headers: [],
        timestamp: now,
      },
    })
  })
  return out
}
