import avsc from 'avsc'

/**
 * What a mapping's expressions see of an Avro value: plain JSON as the writer schema describes it, the
 * way a user reads the schema (docs/mapping.md). avsc decodes most of it so already:
 * records as objects of their fields, maps as objects, arrays, enums as their symbol, `null`, numbers,
 * strings, and the logical types of src/registry/logical-types.ts (timestamps and dates as epoch ms). Two
 * things are not JSON and are converted here:
 *
 * - a union avsc cannot decode to the bare value (an ambiguous one, e.g. two records or `int` and
 *   `long`: avsc's `wrapUnions: 'auto'` wraps those as `{"<branch name>": value}`) becomes the bare value,
 *   as for every other union;
 * - `bytes` and `fixed` (a Buffer) become their base64 text.
 *
 * The conversion is planned once per writer schema (a record type, from the decoded record's own
 * constructor) and cached: a schema without either costs one WeakMap lookup per event and no copy, and
 * a JSON event (a plain object) none.
 *
 * @param value what the record reader gave (src/events/decode.ts `createRecordReader`)
 * @returns `value` itself when it is plain JSON already, else a converted copy
 */
export function toPlainJson(value: unknown): unknown {
  const type = avroTypeOf(value)
  if (type === undefined) return value
  const convert = converterOf(type)
  return convert === null ? value : convert(value)
}

/** A conversion of values of one Avro type; null where values are plain JSON already. */
type Convert = ((value: unknown) => unknown) | null

const plans = new WeakMap<avsc.Type, Convert>()

/** The avsc type of a decoded record (or wrapped union branch): its constructor's `type`. */
function avroTypeOf(value: unknown): avsc.Type | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const type = (value.constructor as { type?: unknown } | undefined)?.type
  return avsc.Type.isType(type) ? (type as avsc.Type) : undefined
}

function converterOf(type: avsc.Type): Convert {
  const known = plans.get(type)
  if (known !== undefined || plans.has(type)) return known ?? null
  // A recursive schema meets its own type again while planning: that inner use looks the plan up when
  // it runs, so it may convert (at worst a copy more, never a wrong value).
  plans.set(type, (v) => (plans.get(type) ?? identity)(v))
  const plan = planOf(type)
  plans.set(type, plan)
  return plan
}

const identity = (v: unknown) => v
const base64 = (v: unknown) => (v as Buffer).toString('base64')

function planOf(type: avsc.Type): Convert {
  const name = type.typeName
  if (name === 'bytes' || name === 'fixed') return base64
  if (name === 'record' || name === 'error') {
    const fields = (type as avsc.types.RecordType).fields.map((f) => ({
      name: f.name,
      convert: converterOf(f.type),
    }))
    if (fields.every((f) => f.convert === null)) return null
    return (v) => {
      const record = v as Record<string, unknown>
      const out: Record<string, unknown> = {}
      for (const f of fields) out[f.name] = f.convert === null ? record[f.name] : f.convert(record[f.name])
      return out
    }
  }
  if (name === 'array') {
    const items = converterOf((type as avsc.types.ArrayType).itemsType)
    return items === null ? null : (v) => (v as unknown[]).map(items)
  }
  if (name === 'map') {
    const values = converterOf((type as avsc.types.MapType).valuesType)
    if (values === null) return null
    return (v) => {
      const out: Record<string, unknown> = {}
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) out[k] = values(item)
      return out
    }
  }
  if (name === 'union:wrapped') {
    // Every branch value is an object {branch name: value} of the branch type's own class.
    for (const branch of (type as avsc.types.WrappedUnionType).types) converterOf(branch)
    return unwrapBranch
  }
  if (name === 'union:unwrapped') {
    const branches = (type as avsc.types.UnwrappedUnionType).types
    if (branches.every((b) => converterOf(b) === null)) return null
    // Unambiguous by construction (avsc wraps otherwise): a Buffer, an array or an object has one branch.
    const byBucket = (test: (b: avsc.Type) => boolean) => {
      const branch = branches.find(test)
      return branch === undefined ? null : converterOf(branch)
    }
    const buffer = byBucket((b) => b.typeName === 'bytes' || b.typeName === 'fixed')
    const array = byBucket((b) => b.typeName === 'array')
    const map = byBucket((b) => b.typeName === 'map')
    return (v) => {
      if (v === null || typeof v !== 'object') return v
      if (Buffer.isBuffer(v)) return buffer === null ? v : buffer(v)
      if (Array.isArray(v)) return array === null ? v : array(v)
      const record = avroTypeOf(v)
      if (record !== undefined) return toPlainJson(v)
      return map === null ? v : map(v)
    }
  }
  return null
}

function unwrapBranch(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v
  const branch = (v.constructor as unknown as { type: avsc.Type }).type
  const inner = (v as { unwrap(): unknown }).unwrap()
  const convert = converterOf(branch)
  return convert === null ? inner : convert(inner)
}
