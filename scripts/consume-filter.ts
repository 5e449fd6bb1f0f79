/**
 * What `npm run consume` keeps and counts of a result topic or a DLQ: the filters by state, reason and
 * externalId, and the counts by state (by reason class for FAILED results, by reason code for DLQ
 * records). Pure, so that it is tested as a table.
 */
import { DLQ_REASONS } from '../src/errors.ts'
import { FILE_STATES } from '../src/metrics.ts'
import { FAILURE_CLASSES, type FailureClass, failureClass } from '../src/model/failure-reasons.ts'

/** The facts of one record the filters look at. */
export interface RecordFacts {
  /** `SUCCESS`, `SKIPPED`, `FAILED` for a result event; undefined for anything else (a DLQ record). */
  state: string | undefined
  /** A result's `reason`, or a DLQ record's `dlq.reason` header. */
  reason: string | undefined
  /** A result's `externalId`, or else the record's key. */
  externalId: string | undefined
  /** True for a DLQ record (it has a `dlq.reason` header). */
  dlq: boolean
}

/** The facts of a record as consume reads it: a decoded result event or text, its key and headers. */
export function factsOf(record: {
  key: string | null
  headers: Record<string, string>
  value: unknown
}): RecordFacts {
  const value =
    typeof record.value === 'object' && record.value !== null ? (record.value as Record<string, unknown>) : {}
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const dlqReason = record.headers['dlq.reason']
  return {
    state: text(value.state),
    reason: text(value.reason) ?? dlqReason,
    externalId: text(value.externalId) ?? record.key ?? undefined,
    dlq: dlqReason !== undefined,
  }
}

/** The filters of consume: each given one must hold. */
export interface Filters {
  /** States to keep (upper case). */
  states?: string[]
  /**
   * A FAILED reason class (`upload`, `timeout`, …: src/model/failure-reasons.ts), a DLQ reason code
   * (`INVALID_EVENT`, …), or else text the reason contains (any case).
   */
  reason?: string
  externalId?: string
}

/** True when `facts` pass every filter of `filters`. */
export function matches(facts: RecordFacts, filters: Filters): boolean {
  if (filters.states !== undefined && (facts.state === undefined || !filters.states.includes(facts.state)))
    return false
  if (filters.externalId !== undefined && facts.externalId !== filters.externalId) return false
  const wanted = filters.reason
  if (wanted === undefined) return true
  if ((FAILURE_CLASSES as readonly string[]).includes(wanted))
    return facts.state === 'FAILED' && failureClass(facts.reason) === wanted
  if ((DLQ_REASONS as readonly string[]).includes(wanted)) return facts.dlq && facts.reason === wanted
  return facts.reason?.toLowerCase().includes(wanted.toLowerCase()) ?? false
}

/** Counts records by state, FAILED ones by reason class, DLQ records by reason code. */
export class StateCounts {
  readonly byState = new Map<string, number>()
  readonly failedBy = new Map<FailureClass, number>()
  readonly dlqBy = new Map<string, number>()
  #other = 0

  add(facts: RecordFacts): void {
    if (facts.dlq) this.dlqBy.set(facts.reason ?? '?', (this.dlqBy.get(facts.reason ?? '?') ?? 0) + 1)
    else if (facts.state === undefined) this.#other++
    else {
      this.byState.set(facts.state, (this.byState.get(facts.state) ?? 0) + 1)
      if (facts.state === 'FAILED') {
        const cls = failureClass(facts.reason)
        this.failedBy.set(cls, (this.failedBy.get(cls) ?? 0) + 1)
      }
    }
  }

  /** `SUCCESS=230 SKIPPED=10 FAILED=12 (upload=10 other=2) DLQ=1 (INVALID_JSON=1)`, parts without records left out. */
  summary(): string {
    const list = (m: Map<string, number>) =>
      [...m]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([k, n]) => `${k}=${n}`)
        .join(' ')
    const parts: string[] = []
    for (const state of FILE_STATES) {
      const n = this.byState.get(state) ?? 0
      if (n > 0 || state !== 'SKIPPED') parts.push(`${state}=${n}`)
    }
    if (this.failedBy.size > 0) parts.push(`(${list(this.failedBy)})`)
    const dlq = [...this.dlqBy.values()].reduce((a, b) => a + b, 0)
    if (dlq > 0) parts.push(`DLQ=${dlq} (${list(this.dlqBy)})`)
    if (this.#other > 0) parts.push(`other=${this.#other}`)
    return parts.join(' ')
  }
}
