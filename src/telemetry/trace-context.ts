/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) for the bridge while tracing is off (no OTLP
 * endpoint, src/telemetry/sdk.ts): a `traceparent` (and its `tracestate`) on an input record continues
 * into the import request of the record's batch, onto the result event (the intake copies the headers,
 * src/pipeline/intake.ts), and into the batch's log lines.
 *
 * Then the bridge records no spans of its own, so it forwards a valid `traceparent` unchanged, as §3.2
 * allows a participant that does not record: a parent-id of a span nobody records would break the
 * trace in the backend. A batch holds files of many traces but an HTTP request carries one
 * `traceparent`: the first file with a valid one wins; the log line of the submitted batch lists every
 * file's `traceparent`, so each file can be followed. With tracing on, the requests and the result
 * events carry the context of the bridge's own spans instead (src/telemetry/bridge-tracing.ts).
 */

import { headerText, type RecordHeader } from '../model/records.ts'

/** A parsed `traceparent` header (§3.2). Hex fields are lowercase. */
export interface TraceParent {
  version: string
  /** 32 hex digits, not all zero. */
  traceId: string
  /** 16 hex digits, not all zero: the caller's span. */
  parentId: string
  /** 2 hex digits; bit 0 is `sampled`. */
  flags: string
}

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/
// A later version may append fields after the fourth (§3.2.4: parse the first four, ignore the rest).
const FUTURE_VERSION = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
/** tracestate is a list of at most 32 members; a header over 512 characters may be dropped (§3.3.1.1). */
const MAX_TRACESTATE_LENGTH = 512

/**
 * Parses a `traceparent` header value.
 * @returns the fields, or null when the value is invalid by §3.2 (wrong length or case, version `ff`,
 *   an all-zero trace-id or parent-id, version 00 with extra fields)
 */
export function parseTraceparent(value: string | undefined): TraceParent | null {
  if (value === undefined) return null
  const v = value.trim()
  const m00 = VERSION_00.exec(v)
  if (m00 !== null) return valid('00', m00[1], m00[2], m00[3])
  const m = FUTURE_VERSION.exec(v)
  if (m === null || m[1] === '00' || m[1] === 'ff') return null
  return valid(m[1] as string, m[2], m[3], m[4])
}

function valid(
  version: string,
  traceId: string | undefined,
  parentId: string | undefined,
  flags: string | undefined,
): TraceParent | null {
  if (traceId === undefined || parentId === undefined || flags === undefined) return null
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return null
  return { version, traceId, parentId, flags }
}

/** What a batch carries of its files' trace context. */
export interface BatchTrace {
  /** Headers for the import request: `traceparent` (and `tracestate`) of the first traced file; empty when none. */
  headers: Record<string, string>
  /** Trace id of that file, for the batch's log lines; undefined when no file is traced. */
  traceId: string | undefined
  /** Every file's valid `traceparent`, in batch order (duplicates kept once). */
  traceparents: string[]
}

/**
 * Picks the trace context of a batch from its files' record headers.
 * @param files each with the `traceparent`/`tracestate` headers copied from its input record (the first
 *   of each name counts, read as UTF-8)
 */
export function batchTrace(files: ReadonlyArray<{ headers?: readonly RecordHeader[] }>): BatchTrace {
  const headers: Record<string, string> = {}
  const traceparents = new Set<string>()
  let traceId: string | undefined
  for (const file of files) {
    const raw = headerText(file.headers, 'traceparent')
    const parsed = parseTraceparent(raw)
    if (parsed === null || raw === undefined) continue
    traceparents.add(raw.trim())
    if (traceId !== undefined) continue
    traceId = parsed.traceId
    headers.traceparent = raw.trim()
    const state = headerText(file.headers, 'tracestate')?.trim()
    if (state !== undefined && state !== '' && state.length <= MAX_TRACESTATE_LENGTH)
      headers.tracestate = state
  }
  return { headers, traceId, traceparents: [...traceparents] }
}
