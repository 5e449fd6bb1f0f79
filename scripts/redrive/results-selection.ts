/**
 * Which FAILED files `npm run redrive -- results` produces again (pure; docs/redrive.md): a selector
 * sees every result event of the results topic in the order read, and keeps each file whose latest
 * result is a selected FAILED one. The records themselves are read afterwards at their source
 * positions on the input topic (`redriveOfRecord` of ./dlq-selection.ts, with {@link pickOfFile}).
 */
import { FAILURE_CLASSES, type FailureClass, failureClass } from '../../src/model/failure-reasons.ts'
import type { FileImportResult } from '../../src/outcome/outcome-event.ts'
import { bySource, type Pick } from './dlq-selection.ts'

/** What to select; every given condition must hold. Times are epoch ms (the result's `completedAt`). */
export interface ResultsSelection {
  /** Reason classes (`failureClass` of src/model/failure-reasons.ts), or every class (`--all`). */
  classes: ReadonlySet<FailureClass> | 'all'
  sinceMs?: number | undefined
  untilMs?: number | undefined
  /** The input topic: results of records of another topic are never sent to it. */
  inputTopic: string
}

/** A file whose latest result is a selected FAILED one. */
export interface FailedFile {
  result: FileImportResult
  /** Its source record, where the result says it was. */
  source: { topic: string; partition: number; offset: string }
}

/** Why a FAILED result read is not redriven: its count in the summary. */
export const RESULT_SKIPS = {
  notSelected: 'FAILED, not selected',
  otherTopic: 'FAILED, of a record of another topic than the input topic',
  superseded: 'FAILED, but the file has a later result',
  duplicate: 'the same result published twice',
} as const
export type ResultSkip = keyof typeof RESULT_SKIPS

/** What a selector found: the files (by source partition, then offset) and the counts. */
export interface ResultsSelectionResult {
  selected: FailedFile[]
  /** FAILED results read and files selected, by reason class, every class listed. */
  byClass: Map<FailureClass, { failed: number; selected: number }>
  skipped: Record<ResultSkip, number>
  /** Results read, by state. */
  states: Record<FileImportResult['state'], number>
}

/**
 * Collects the files to redrive under `selection`. One file (`systemName` + `externalId`) is sent at
 * most once per run, for its latest result (all results of a file share a partition of the results
 * topic, keyed `systemName:externalId`, so the order read is the order published): a FAILED result
 * followed by a SUCCESS, a SKIPPED or another FAILED of a class not selected is superseded. So a second
 * run after a successful redrive finds nothing to send.
 */
export class FailedResultSelector {
  readonly #selection: ResultsSelection
  readonly #files = new Map<string, FailedFile | null>()
  readonly #byClass = new Map<FailureClass, { failed: number; selected: number }>(
    FAILURE_CLASSES.map((c) => [c, { failed: 0, selected: 0 }]),
  )
  readonly #skipped: Record<ResultSkip, number> = {
    notSelected: 0,
    otherTopic: 0,
    superseded: 0,
    duplicate: 0,
  }
  readonly #states = { SUCCESS: 0, SKIPPED: 0, FAILED: 0 }

  constructor(selection: ResultsSelection) {
    this.#selection = selection
  }

  /** Takes one result event, in the order of its partition. */
  add(result: FileImportResult): void {
    this.#states[result.state]++
    const file = `${result.systemName}\u0000${result.externalId}`
    const earlier = this.#files.get(file)
    const source = {
      topic: result.sourceTopic,
      partition: result.sourcePartition,
      offset: String(result.sourceOffset),
    }
    if (earlier !== undefined && earlier !== null && samePosition(earlier.source, source)) {
      // The bridge publishes at least once: the same record's result again.
      this.#skipped.duplicate++
      if (result.state !== 'FAILED') this.#supersede(file)
      return
    }
    if (result.state !== 'FAILED') {
      if (earlier) this.#supersede(file)
      return
    }
    const cls = failureClass(result.reason)
    ;(this.#byClass.get(cls) as { failed: number }).failed++
    const skip = this.#skipOf(cls, result)
    if (skip !== undefined) {
      this.#skipped[skip]++
      if (earlier) this.#supersede(file)
      return
    }
    if (earlier) this.#skipped.superseded++
    this.#files.set(file, { result, source })
  }

  /** The files to redrive, in source order per partition, and the counts. */
  finish(): ResultsSelectionResult {
    const selected = [...this.#files.values()].filter((f): f is FailedFile => f !== null)
    for (const f of selected)
      (this.#byClass.get(failureClass(f.result.reason)) as { selected: number }).selected++
    selected.sort(bySource)
    return { selected, byClass: this.#byClass, skipped: this.#skipped, states: this.#states }
  }

  #supersede(file: string): void {
    this.#files.set(file, null)
    this.#skipped.superseded++
  }

  #skipOf(cls: FailureClass, result: FileImportResult): ResultSkip | undefined {
    const s = this.#selection
    if (s.classes !== 'all' && !s.classes.has(cls)) return 'notSelected'
    if (!(result.completedAt >= (s.sinceMs ?? -Infinity) && result.completedAt < (s.untilMs ?? Infinity)))
      return 'notSelected'
    if (result.sourceTopic !== s.inputTopic) return 'otherTopic'
    return undefined
  }
}

/**
 * What goes back for a FAILED file: its source record, read at its source position. Its `attempt` is 0
 * (not known before the record is read; a listing shows none).
 */
export function pickOfFile(file: FailedFile): Pick {
  const { result } = file
  return {
    source: file.source,
    at: { partition: file.source.partition, offset: file.source.offset },
    attempt: 0,
    reason: result.reason ?? 'unknown',
    origin: `${result.systemName}/${result.externalId}  ${failureClass(result.reason)}  ${JSON.stringify(result.reason)}`,
  }
}

function samePosition(a: FailedFile['source'], b: FailedFile['source']): boolean {
  return a.topic === b.topic && a.partition === b.partition && a.offset === b.offset
}
