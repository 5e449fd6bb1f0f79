import type { RecordHeader } from '../model/records.ts'

/** Headers in which Apicurio's Kafka serializers put the value's schema id (8-byte big-endian long). */
const APICURIO_ID_HEADER = /^apicurio\.(?:value\.|registry\.)(?:globalId|contentId)$/

/**
 * The DLQ hint for a value Apicurio's serializer wrote with `apicurio.registry.headers.enabled=true`:
 * the schema id is in a header and the value is the bare Avro body, which no Confluent-compatible
 * consumer can read. With `apicurio.registry.headers.enabled=false` the serializer writes the Confluent
 * framing (magic byte 0, then the id in 4 bytes) when its id handler writes 4-byte ids: Apicurio 3
 * serdes do by default (`apicurio.registry.id-handler=io.apicurio.registry.serde.Default4ByteIdHandler`,
 * `apicurio.registry.use-id=contentId`); Apicurio 2 serdes need `apicurio.registry.as-confluent=true`
 * (Apicurio Registry documentation, "Kafka client serializer/deserializer configuration";
 * `KafkaSerdeHeaders` for the header names).
 * @returns the hint, or undefined when the record has no such header
 */
export function apicurioHint(headers: readonly RecordHeader[]): string | undefined {
  if (headers.length === 0) return undefined
  const found = headers.find(([name]) => APICURIO_ID_HEADER.test(name))
  if (found === undefined) return undefined
  const [name, raw] = found
  const id = raw?.length === 8 ? ` ${raw.readBigInt64BE()}` : ''
  return (
    `the schema id is in the record header ${name}${id}, not in the value: Apicurio's serializer ` +
    'wrote it with apicurio.registry.headers.enabled=true. Set apicurio.registry.headers.enabled=false ' +
    'on the producer to write the Confluent framing (magic byte 0 and a 4-byte schema id): the default ' +
    'of Apicurio 3 serdes (apicurio.registry.id-handler=io.apicurio.registry.serde.Default4ByteIdHandler, ' +
    'apicurio.registry.use-id=contentId); Apicurio 2 serdes also need apicurio.registry.as-confluent=true'
  )
}
