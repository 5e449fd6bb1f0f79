import {
  avroReadFailure,
  createEventValidator,
  createRecordReader,
  type EventDecoderOptions,
  ReadFailure,
} from '../events/decode.ts'
import type { DecodeResult, Filtered } from '../model/files.ts'
import type { ConsumedRecord } from '../model/records.ts'
import type { SchemaCodec } from '../registry/registry.ts'
import type { Mapping } from './mapping.ts'

/**
 * The decoder of a bridge with a mapping (`MAPPING_FILE`), used in place of the plain one
 * (src/events/decode.ts `createEventDecoder`), so that without a mapping nothing of this is on the path:
 * the record's value read as the plain decoder reads it (same DLQ reasons), mapped
 * (src/mapping/mapping.ts: `MAPPING_FAILED`, or filtered), then validated exactly as an unmapped event
 * (`INVALID_EVENT`, `MISSING_SYSTEM_NAME`). The bridge and the dry run (`npm run map`) share it.
 *
 * @returns `decode(record)`, resolving to the event, the reason it goes to the DLQ, or the reason the
 *   filter skipped it; rejects only with a retryable BridgeError (`SCHEMA_REGISTRY_UNAVAILABLE`)
 */
export function createMappedDecoder(codec: SchemaCodec, options: EventDecoderOptions, mapping: Mapping) {
  const read = createRecordReader(codec)
  const validate = createEventValidator(options)
  return async function decodeMapped(record: ConsumedRecord): Promise<DecodeResult | Filtered> {
    let raw = read(record.value, record.headers)
    if (raw instanceof Promise) {
      try {
        raw = await raw
      } catch (err) {
        raw = avroReadFailure(err, record.headers)
      }
    }
    if (raw instanceof ReadFailure) return raw
    const mapped = await mapping.apply(raw, record)
    return mapped.ok ? validate(mapped.event) : mapped
  }
}
