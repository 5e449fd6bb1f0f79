import avsc from 'avsc'

/**
 * Avro logical types that denote an instant, read as epoch milliseconds whatever unit the writer
 * schema chose (Avro 1.12 specification, "Logical Types": `timestamp-millis`, `timestamp-micros`,
 * `timestamp-nanos`, `local-timestamp-*`, `date`). The bridge's own schemas use `timestamp-millis`, but a
 * legacy producer's writer schema may declare `occurredAt` in micro- or nanoseconds; read as plain
 * longs, those became dates in the year 58884.
 *
 * - `timestamp-millis` and `local-timestamp-millis` are already ms: no class, avsc reads the long as it is
 *   (so the common case costs nothing).
 * - `*-micros` and `*-nanos` are divided down to whole ms, rounding toward the past (floor), read through a
 *   64-bit long type of their own: nanoseconds since 1970 pass 2^53 after 104 days and microseconds after
 *   the year 2255, where avsc's own long type refuses the value ("potential precision loss").
 * - `local-timestamp-*` has no time zone ("regardless of what specific time zone is considered local"):
 *   read as UTC, the only reading that needs no guess.
 * - `date` (days since 1970-01-01): midnight UTC of that day.
 *
 * Values out of the range an event may hold are left to the decoder's validation
 * (src/events/event-fields.ts: RFC 3339 range), which names the field.
 *
 * Encoding (the registry library's `encode`, never used for these types by the bridge) takes epoch ms.
 *
 * @returns avsc's `logicalTypes` option, passed to `Type.forSchema` through the registry client
 */
export function instantLogicalTypes(): Record<string, typeof avsc.types.LogicalType> {
  return {
    'timestamp-micros': scaledBy(1_000n),
    'timestamp-nanos': scaledBy(1_000_000n),
    'local-timestamp-micros': scaledBy(1_000n),
    'local-timestamp-nanos': scaledBy(1_000_000n),
    date: DateAsMs,
  }
}

const MIN_INT64 = -(2n ** 63n)
const MAX_INT64 = 2n ** 63n - 1n

/** A 64-bit long read as a BigInt (avsc's own long type stops at 2^53). */
const BIGINT_LONG = avsc.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
  toBuffer: (value: bigint) => {
    const buffer = Buffer.alloc(8)
    buffer.writeBigInt64LE(value)
    return buffer
  },
  fromJSON: (value: number | bigint | string) => BigInt(value),
  toJSON: (value: bigint) => Number(value),
  isValid: (value: unknown) => typeof value === 'bigint' && value >= MIN_INT64 && value <= MAX_INT64,
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
})

/** `n / d` rounded toward negative infinity (BigInt division truncates toward zero). */
function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d
  return n % d !== 0n && n < 0n ? q - 1n : q
}

/** A logical type over a long counting `perMs` units per millisecond; values are epoch ms numbers. */
function scaledBy(perMs: bigint): typeof avsc.types.LogicalType {
  return class ScaledInstant extends avsc.types.LogicalType {
    constructor(schema: avsc.Schema, opts?: avsc.ForSchemaOptions) {
      // The underlying long is the BigInt one, for this schema only; other types keep the options' hooks.
      const hook = opts?.typeHook
      super(schema, {
        ...opts,
        typeHook: (s: avsc.Schema, o: avsc.ForSchemaOptions) => (s === schema ? BIGINT_LONG : hook?.(s, o)),
      })
    }
    override _fromValue(value: bigint): number {
      return Number(floorDiv(value, perMs))
    }
    override _toValue(ms: unknown): bigint | undefined {
      return typeof ms === 'number' && Number.isSafeInteger(ms) ? BigInt(ms) * perMs : undefined
    }
    override _resolve(type: avsc.Type): ((value: unknown) => unknown) | undefined {
      // Same logical type written by another schema: its values are already what this type stores.
      if (
        avsc.Type.isType(
          type,
          `logical:${(this as unknown as { _logicalTypeName: string })._logicalTypeName}`,
        )
      )
        return (v) => v
      return undefined
    }
  }
}

const DAY_MS = 86_400_000

/** `date`: days since the epoch (an int), as epoch ms of midnight UTC. */
class DateAsMs extends avsc.types.LogicalType {
  override _fromValue(days: number): number {
    return days * DAY_MS
  }
  override _toValue(ms: unknown): number | undefined {
    return typeof ms === 'number' && Number.isInteger(ms) ? Math.floor(ms / DAY_MS) : undefined
  }
}
