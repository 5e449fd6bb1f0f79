/**
 * What a kafkajs error means for the bridge: one rule for every consumer and the producer.
 *
 * kafkajs errors carry `name` (`KafkaJS…`), `retriable`, and, for a broker's answer, `type` (the protocol
 * error name, e.g. `MESSAGE_TOO_LARGE`; Kafka protocol guide, "Error Codes"); wrappers such as
 * `KafkaJSNumberOfRetriesExceeded` hold the last error in `cause`, and `KafkaJSAggregateError` several in
 * `errors` (tulios/kafkajs `src/errors.js`). Three kinds:
 * - a **broker hiccup**: the original cause is a kafkajs error marked retriable (connection refused or
 *   closed, request timeout, leader or coordinator moving, a retriable protocol error). It passes when
 *   the broker is back: hold and retry.
 * - a **broker answer about our records or settings** (any other protocol error: too large, not
 *   authorized, policy violation, invalid record): asking again gets the same answer until someone
 *   changes the record or the configuration; callers decide (a smaller record, or hold and alert).
 * - **unrecoverable**: the client itself cannot go on: an error that is no kafkajs error at all (a bug
 *   or a response it cannot parse), an unimplemented feature, a violated invariant, or a producer whose
 *   idempotence state the broker rejects for good (sequence, epoch, fencing). Only a new process helps.
 */

interface KafkaErrorLike {
  name?: unknown
  type?: unknown
  retriable?: unknown
  cause?: unknown
  errors?: unknown
}

/** The innermost `cause` of `err` (kafkajs wraps the last attempt's error in its retry errors). */
export function originalCause(err: unknown): unknown {
  let e = err
  for (let depth = 0; depth < 20; depth++) {
    const cause = (e as KafkaErrorLike | null)?.cause
    if (cause === undefined || cause === null) return e
    e = cause
  }
  return e
}

/** Every error in `err`'s cause chain and aggregate lists, `err` first. */
function chain(err: unknown): unknown[] {
  const out: unknown[] = []
  const visit = (e: unknown, depth: number) => {
    if (e === null || e === undefined || depth > 20 || out.includes(e)) return
    out.push(e)
    const { cause, errors } = e as KafkaErrorLike
    visit(cause, depth + 1)
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1)
  }
  visit(err, 0)
  return out
}

/** Protocol error types (the broker's error names) anywhere in `err`. */
export function protocolErrorTypes(err: unknown): string[] {
  return chain(err)
    .map((e) => (e as KafkaErrorLike).type)
    .filter((t): t is string => typeof t === 'string')
}

const isKafkajsError = (e: unknown) => {
  const name = (e as KafkaErrorLike | null)?.name
  return typeof name === 'string' && name.startsWith('KafkaJS')
}

/** True when the failure passes once the broker is reachable again (see the module comment). */
export function isBrokerHiccup(err: unknown): boolean {
  const cause = originalCause(err)
  return isKafkajsError(cause) && (cause as KafkaErrorLike).retriable === true
}

/** The broker refused a record (batch) for its size: `max.message.bytes` of the topic or broker. */
export function isRecordTooLarge(err: unknown): boolean {
  return protocolErrorTypes(err).some((t) => t === 'MESSAGE_TOO_LARGE' || t === 'RECORD_LIST_TOO_LARGE')
}

/** The broker rejects the idempotent producer's state for good (KIP-98, KIP-360). */
const PRODUCER_STATE_LOST = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
  'UNKNOWN_PRODUCER_ID',
])
/** kafkajs errors that say the client cannot handle what it got, whatever the broker does. */
const CLIENT_CANNOT = new Set([
  'KafkaJSNotImplemented',
  'KafkaJSInvariantViolation',
  'KafkaJSUnsupportedMagicByteInMessageSet',
  'KafkaJSInvalidVarIntError',
  'KafkaJSInvalidLongError',
  'KafkaJSServerDoesNotSupportApiKey',
])

/** True when only a new process helps (see the module comment). */
export function isUnrecoverable(err: unknown): boolean {
  if (protocolErrorTypes(err).some((t) => PRODUCER_STATE_LOST.has(t))) return true
  const cause = originalCause(err)
  if (!isKafkajsError(cause)) return true
  return chain(err).some((e) => CLIENT_CANNOT.has(String((e as KafkaErrorLike).name)))
}
