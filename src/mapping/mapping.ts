import type jsonata from 'jsonata'
import type { DecodeFailure, Filtered } from '../model/files.ts'
import type { ConsumedRecord } from '../model/records.ts'
import { toPlainJson } from './avro-json.ts'
import { bindingsFor } from './bindings.ts'
import { builtTooLarge } from './guardrails.ts'
import type { MappingExpressions } from './mapping-file.ts'
import { EXPECTED, hasType, TARGETS, type Target, typeName } from './targets.ts'

/** What {@link Mapping.apply} makes of one event. */
export type MapResult =
  | { ok: true; event: Record<string, unknown> }
  | { ok: false; failure: DecodeFailure }
  | Filtered

// Shared, never mutated: a filtered event allocates nothing.
const REJECTED: Filtered = Object.freeze({ ok: false, filtered: 'rejected' })
const NO_VALUE: Filtered = Object.freeze({ ok: false, filtered: 'no_value' })

/** Longest piece of a wrong value quoted in a `MAPPING_FAILED` message, characters. */
const MAX_QUOTED_CHARS = 120

/**
 * A compiled mapping (src/mapping/compile.ts `compileMapping` makes it): turns a legacy event into the
 * fields of the bridge's input event, which then go through the event validation of an unmapped event
 * (src/events/decode.ts `createEventValidator`). Immutable; one per process, shared by every event.
 */
export class Mapping {
  /** The expressions as written in the file, by field (for logs and the dry run). */
  readonly expressions: Readonly<MappingExpressions>
  readonly #filter: jsonata.Expression | undefined
  readonly #entry: jsonata.Expression
  readonly #single: ReadonlyMap<Target, jsonata.Expression>
  readonly #targets: ReadonlyArray<{
    field: Target
    required: boolean
    type: (typeof TARGETS)[Target]['type']
  }>
  readonly #bind: (record: ConsumedRecord) => Record<string, unknown> | undefined

  /** @param parts what compileMapping built; `variables` are the names the expressions refer to */
  constructor(parts: {
    expressions: MappingExpressions
    filter: jsonata.Expression | undefined
    entry: jsonata.Expression
    single: ReadonlyMap<Target, jsonata.Expression>
    variables: ReadonlySet<string>
  }) {
    this.expressions = Object.freeze({ ...parts.expressions })
    this.#filter = parts.filter
    this.#entry = parts.entry
    this.#single = parts.single
    this.#targets = [...parts.single.keys()].map((field) => ({ field, ...TARGETS[field] }))
    this.#bind = bindingsFor(parts.variables)
  }

  /**
   * Maps one event: the filter first (an event it skips costs nothing more), then every field's
   * expression in one evaluation, then each value's JSON type.
   *
   * @param raw the record's value as read (src/events/decode.ts `createRecordReader`): a JSON object,
   *   or an avsc record, shown to the expressions as plain JSON (src/mapping/avro-json.ts)
   * @param record the consumed record, for `$key`, `$headers`, … (src/mapping/bindings.ts)
   * @returns the input event's fields (`occurredAt` defaulting to the record's timestamp); or
   *   `MAPPING_FAILED` naming the field, for an expression that threw (JSONata's message, code and
   *   place; or the evaluation timeout) or gave a value of the wrong type, or no value for a required
   *   field; or the filter's reason to skip the event
   */
  async apply(raw: unknown, record: ConsumedRecord): Promise<MapResult> {
    const input = toPlainJson(raw)
    const bindings = this.#bind(record)
    if (this.#filter !== undefined) {
      let pass: unknown
      try {
        pass = await this.#filter.evaluate(input, bindings)
      } catch (err) {
        return failed('filter', describeJsonataError(err, this.expressions.filter))
      }
      if (pass !== true) {
        if (pass === false) return REJECTED
        if (pass === undefined || pass === null) return NO_VALUE
        const tooLarge = builtTooLarge(pass)
        return tooLarge === undefined
          ? wrongType('filter', pass, EXPECTED.boolean)
          : failed('filter', tooLarge)
      }
    }
    let values: Record<string, unknown>
    try {
      values = await this.#entry.evaluate(input, bindings)
    } catch (err) {
      return this.#whichFailed(input, bindings, err)
    }
    const event: Record<string, unknown> = {}
    for (const { field, required, type } of this.#targets) {
      const value = values[field]
      if (value === undefined || value === null) {
        if (required) return failed(field, 'gave no value for this event')
        continue
      }
      const tooLarge = builtTooLarge(value)
      if (tooLarge !== undefined) return failed(field, tooLarge)
      if (!hasType(value, type)) return wrongType(field, value, EXPECTED[type])
      event[field] = value
    }
    event.occurredAt ??= record.timestamp
    return { ok: true, event }
  }

  /**
   * The field whose expression threw: each is evaluated alone, in order (only on this rare path), and
   * the first that throws is named with its own error, placed within its own expression.
   */
  async #whichFailed(input: unknown, bindings: Record<string, unknown> | undefined, err: unknown) {
    for (const [field, expression] of this.#single) {
      try {
        await expression.evaluate(input, bindings)
      } catch (own) {
        return failed(field, describeJsonataError(own, this.expressions[field]))
      }
    }
    return failed(undefined, describeJsonataError(err, undefined))
  }
}

function failed(field: string | undefined, message: string): MapResult {
  return {
    ok: false,
    failure: {
      reason: 'MAPPING_FAILED',
      message: field === undefined ? message : `${field}: ${message}`,
      ...(field === undefined ? {} : { field }),
    },
  }
}

function wrongType(field: string, value: unknown, expected: string): MapResult {
  let quoted: string
  try {
    quoted = JSON.stringify(value) ?? String(value)
  } catch {
    quoted = String(value)
  }
  if (quoted.length > MAX_QUOTED_CHARS) quoted = `${quoted.slice(0, MAX_QUOTED_CHARS)}…`
  return failed(field, `gave ${typeName(value)} ${quoted}, but must give ${expected}`)
}

/**
 * A JSONata error as text: `at line L, column C of its expression: message (JSONata CODE)`. JSONata's
 * `position` is the offset just past the offending token, counted from 1; line and column are those of
 * its last character within `source` (a YAML block scalar spans lines). Without a source or a position
 * (a timeout, a stack overflow): the message alone.
 */
export function describeJsonataError(err: unknown, source: string | undefined): string {
  const e = err as { message?: string; code?: string; position?: number }
  const code = typeof e.code === 'string' ? ` (JSONata ${e.code})` : ''
  const message = e.message ?? String(err)
  if (source === undefined || typeof e.position !== 'number') return `${message}${code}`
  const before = source.slice(0, Math.max(0, e.position)).split('\n')
  const line = before.length
  const column = Math.max(1, before[line - 1]?.length ?? 1)
  return `at line ${line}, column ${column} of its expression: ${message}${code}`
}
