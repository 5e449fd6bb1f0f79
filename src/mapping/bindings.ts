import type { ConsumedRecord, RecordHeader } from '../model/records.ts'

/**
 * The record's own facts as JSONata variables (docs/mapping.md), beside the event
 * itself (`$` or plain paths):
 *
 * | variable | value |
 * |---|---|
 * | `$key` | the key as UTF-8 text; null for a null key or one that is not valid UTF-8 (e.g. an Avro key) |
 * | `$headers` | an object: each header name → the text of its **last** value (Kafka's `Headers.lastHeader`), null for a null value or one that is not valid UTF-8 |
 * | `$headerList` | every header in order, repeats kept: `[{"name", "value" (text or null as above), "base64" (the bytes, null for a null value)}]` |
 * | `$topic`, `$partition` | where the record was read |
 * | `$offset` | its offset, a string (Kafka offsets are 64-bit, beyond a JSON number's exact range) |
 * | `$timestamp` | the record's timestamp, epoch ms |
 */
export const BINDINGS = {
  key: (r: ConsumedRecord) => (r.key === null ? null : textOf(r.key)),
  headers: (r: ConsumedRecord) => headersByName(r.headers),
  headerList: (r: ConsumedRecord) =>
    r.headers.map(([name, value]) => ({
      name,
      value: value === null ? null : textOf(value),
      base64: value === null ? null : value.toString('base64'),
    })),
  topic: (r: ConsumedRecord) => r.topic,
  partition: (r: ConsumedRecord) => r.partition,
  offset: (r: ConsumedRecord) => r.offset,
  timestamp: (r: ConsumedRecord) => r.timestamp,
} as const

export type BindingName = keyof typeof BINDINGS

/**
 * The builder of the variables `names` (those the expressions refer to): only they are computed per
 * record, and none at all when the expressions use none.
 * @returns `bind(record)`: the variables, or undefined when none is used
 */
export function bindingsFor(
  names: ReadonlySet<string>,
): (record: ConsumedRecord) => Record<string, unknown> | undefined {
  const used = (Object.keys(BINDINGS) as BindingName[]).filter((n) => names.has(n))
  if (used.length === 0) return () => undefined
  const makers = used.map((name) => [name, BINDINGS[name]] as const)
  return (record) => {
    const out: Record<string, unknown> = {}
    for (const [name, make] of makers) out[name] = make(record)
    return out
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** `bytes` as UTF-8 text; null when they are not valid UTF-8 (a binary value is not guessed at). */
function textOf(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes)
  } catch {
    return null
  }
}

function headersByName(headers: readonly RecordHeader[]): Record<string, string | null> {
  // No prototype: a header named `__proto__` or `constructor` is a header like any other.
  const out = Object.create(null) as Record<string, string | null>
  for (const [name, value] of headers) out[name] = value === null ? null : textOf(value)
  return out
}
