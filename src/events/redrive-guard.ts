import type { DecodeResult, Filtered } from '../model/files.ts'
import type { ConsumedRecord, RecordHeader } from '../model/records.ts'

/**
 * The header `npm run redrive` (scripts/redrive.ts) writes on each record it produces again: which
 * redrive of the record this is, a decimal number in UTF-8 (`1` the first time; each redrive writes
 * the number it read plus one, replacing the header). A record never redriven has none.
 */
export const REDRIVE_ATTEMPT_HEADER = 'redrive.attempt'

/** Most digits of an attempt number read: a longer value is read as that many nines (over any limit). */
const MAX_ATTEMPT_DIGITS = 6

/**
 * The redrive attempt a record carries: the largest of its {@link REDRIVE_ATTEMPT_HEADER} values (a
 * header repeated by a hand-made copy cannot hide a higher count); 0 without one. A value that is not a
 * decimal number counts as 0 (a header someone wrote by hand: the record is processed).
 */
export function redriveAttempt(headers: readonly RecordHeader[]): number {
  let attempt = 0
  for (const [name, value] of headers) {
    if (name !== REDRIVE_ATTEMPT_HEADER || value === null) continue
    const text = value.toString('latin1').trim()
    if (!/^\d+$/.test(text)) continue
    const n = text.length > MAX_ATTEMPT_DIGITS ? 10 ** MAX_ATTEMPT_DIGITS - 1 : Number(text)
    if (n > attempt) attempt = n
  }
  return attempt
}

/** What the guard reports: a redriven record processed, or stopped at the limit. */
export type RedriveVerdict = 'processed' | 'limit_reached'

/**
 * The loop guard of redrives (docs/redrive.md): wraps the decoder so that a record whose
 * {@link REDRIVE_ATTEMPT_HEADER} reached `maxAttempts` (`REDRIVE_MAX_ATTEMPTS`) is not processed again
 * but goes to the DLQ with the reason `REDRIVE_LIMIT_REACHED`. With the default 3 a record is processed
 * at most 3 times: when first consumed, and after its first and second redrive; the third redrive is
 * stopped. A redrive that fails again and is redriven again cannot loop for ever, whoever redrives it.
 *
 * Costs one check of the header count per record: records without headers (most) go straight on.
 *
 * @param onRedriven sees each record that carries an attempt header, with the verdict (a metric)
 * @returns the decoder's signature, with the same control argument passed through
 */
export function withRedriveGuard<C>(
  decode: (record: ConsumedRecord, control: C) => DecodeResult | Filtered | Promise<DecodeResult | Filtered>,
  options: { maxAttempts: number },
  onRedriven: (verdict: RedriveVerdict) => void,
): (record: ConsumedRecord, control: C) => DecodeResult | Filtered | Promise<DecodeResult | Filtered> {
  const { maxAttempts } = options
  return (record, control) => {
    if (record.headers.length === 0) return decode(record, control)
    const attempt = redriveAttempt(record.headers)
    if (attempt === 0) return decode(record, control)
    if (attempt < maxAttempts) {
      onRedriven('processed')
      return decode(record, control)
    }
    onRedriven('limit_reached')
    return {
      ok: false,
      failure: {
        reason: 'REDRIVE_LIMIT_REACHED',
        message: `redrive attempt ${attempt} reached REDRIVE_MAX_ATTEMPTS=${maxAttempts}: not processed again; the failure before it is in the previous.dlq.* headers`,
      },
    }
  }
}
