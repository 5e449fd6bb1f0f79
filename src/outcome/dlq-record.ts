import { createHash } from 'node:crypto'
import type { OutgoingMessage } from '../kafka/producer.ts'
import type { DecodeFailure } from '../model/files.ts'
import type { ConsumedRecord, RecordHeader } from '../model/records.ts'

/**
 * DLQ header names; values are UTF-8 strings, added after the original headers. The original key,
 * value, headers and timestamp are copied byte for byte (the DLQ headers of an earlier failure the
 * record carried are kept renamed `previous.dlq.*`, see {@link withPreviousFailure}); the `omitted` group is there only
 * when the broker refused that copy as too large (see `OutcomePublisher.publishDlq`,
 * src/outcome/outcome-publisher.ts).
 */
export const DLQ_HEADERS = {
  reason: 'dlq.reason',
  message: 'dlq.message',
  topic: 'dlq.source.topic',
  partition: 'dlq.source.partition',
  offset: 'dlq.source.offset',
  timestamp: 'dlq.source.timestamp',
  failedAt: 'dlq.failed.at',
  /** `MAPPING_FAILED` only: the mapping's field whose expression failed (src/mapping/). */
  mappingField: 'dlq.mapping.field',
  /** What was left out: `value`, or `value,key,headers`. */
  omitted: 'dlq.omitted',
  /** Why: the broker's answer to the full copy. */
  omittedReason: 'dlq.omitted.reason',
  valueSize: 'dlq.value.size',
  valueSha256: 'dlq.value.sha256',
  keySize: 'dlq.key.size',
  keySha256: 'dlq.key.sha256',
  headerCount: 'dlq.headers.count',
} as const

/** Prefix of every DLQ header. */
const DLQ_PREFIX = 'dlq.'
/**
 * Prefix added to the name of each DLQ header of a record's earlier failure: `dlq.reason` of a record
 * that failed before is kept as `previous.dlq.reason`, and so on (see {@link withPreviousFailure}).
 * Outside `dlq.*`, so that a record carries at most one set of `dlq.*` headers (issue 24).
 */
export const DLQ_PREVIOUS_PREFIX = 'previous.'
/** Prefix of the DLQ headers of an earlier failure: `previous.dlq.` */
const OLDER_PREFIX = DLQ_PREVIOUS_PREFIX + DLQ_PREFIX

/**
 * The headers of a record that may carry the DLQ headers of an earlier failure (a DLQ record produced
 * again: by `npm run redrive`, or copied by hand), so that a record failing again keeps exactly one set
 * of `dlq.*` headers: when `headers` hold a `dlq.*` set, that set is renamed to `previous.dlq.*` and put
 * last, in its order, and an older `previous.dlq.*` set is dropped (only the latest earlier failure is
 * kept); the other headers keep their order. Without a `dlq.*` set, `headers` itself is returned (a
 * `previous.dlq.*` set stays as it is).
 */
export function withPreviousFailure(headers: readonly RecordHeader[]): readonly RecordHeader[] {
  if (!headers.some(([name]) => name.startsWith(DLQ_PREFIX))) return headers
  const kept: RecordHeader[] = []
  const previous: RecordHeader[] = []
  for (const header of headers) {
    const [name, value] = header
    if (name.startsWith(OLDER_PREFIX)) continue
    if (name.startsWith(DLQ_PREFIX)) previous.push([DLQ_PREVIOUS_PREFIX + name, value])
    else kept.push(header)
  }
  return [...kept, ...previous]
}

/** Longest `dlq.message`, characters. */
const MAX_DLQ_MESSAGE_CHARS = 1000

/**
 * The DLQ record of `record` at a size `level`: 0 the full copy, 1 without the value, 2 without value,
 * key and original headers (see `OutcomePublisher.publishDlq` in src/outcome/outcome-publisher.ts).
 */
export function dlqCopy(
  record: ConsumedRecord,
  failure: DecodeFailure,
  failedAt: string,
  level = 0,
  refusal?: unknown,
): OutgoingMessage {
  const value = record.value ?? EMPTY
  const text = (name: string, v: string): RecordHeader => [name, Buffer.from(v, 'utf8')]
  // A record that carries the DLQ headers of an earlier failure keeps them as `previous.dlq.*`.
  const headers: RecordHeader[] = level >= 2 ? [] : [...withPreviousFailure(record.headers)]
  headers.push(
    text(DLQ_HEADERS.reason, failure.reason),
    text(DLQ_HEADERS.message, failure.message.slice(0, MAX_DLQ_MESSAGE_CHARS)),
    text(DLQ_HEADERS.topic, record.topic),
    text(DLQ_HEADERS.partition, String(record.partition)),
    text(DLQ_HEADERS.offset, record.offset),
    text(DLQ_HEADERS.timestamp, String(record.timestamp)),
    text(DLQ_HEADERS.failedAt, failedAt),
  )
  if (failure.field !== undefined) headers.push(text(DLQ_HEADERS.mappingField, failure.field))
  if (level >= 1) {
    const why = (refusal as Error | undefined)?.message ?? 'too large'
    headers.push(
      text(DLQ_HEADERS.omitted, level >= 2 ? 'value,key,headers' : 'value'),
      text(DLQ_HEADERS.omittedReason, `the broker refused the copy as too large: ${why}`.slice(0, 500)),
      text(DLQ_HEADERS.valueSize, String(value.length)),
      text(DLQ_HEADERS.valueSha256, sha256(value)),
    )
  }
  if (level >= 2) {
    const key = record.key ?? EMPTY
    headers.push(
      text(DLQ_HEADERS.keySize, record.key === null ? 'null' : String(key.length)),
      text(DLQ_HEADERS.keySha256, sha256(key)),
      text(DLQ_HEADERS.headerCount, String(record.headers.length)),
    )
  }
  return {
    key: level >= 2 ? null : record.key,
    value: level >= 1 ? EMPTY : value,
    headers,
    timestamp: record.timestamp,
  }
}

const EMPTY = Buffer.alloc(0)

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}
