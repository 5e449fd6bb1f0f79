import { readFile } from 'node:fs/promises'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { BridgeError } from '../errors.ts'

/** Paths of the project's Avro schemas (schemas/ at the repository root). */
export const SCHEMA_FILES = {
  fileCreated: new URL('../../schemas/file-created.avsc', import.meta.url),
  fileImportResult: new URL('../../schemas/file-import-result.avsc', import.meta.url),
} as const

/** Reads one of {@link SCHEMA_FILES} as a parsed JSON Avro schema. */
export async function readSchema(name: keyof typeof SCHEMA_FILES): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(SCHEMA_FILES[name], 'utf8')) as Record<string, unknown>
}

/**
 * The Confluent wire format through a Confluent-compatible schema registry: magic byte 0, a 4-byte
 * big-endian schema id, then the Avro binary body. Schemas are fetched once per id and cached.
 */
export interface SchemaCodec {
  /**
   * Registers `schema` under `subject` (the TopicNameStrategy subject `<topic>-value`, passed
   * explicitly because the library's default is the record name) and returns its schema id.
   * Registering an identical schema again returns the same id.
   */
  register(subject: string, schema: Record<string, unknown>): Promise<number>
  /** Encodes `value` with schema `id`. @throws Error when the value does not match the schema */
  encode(id: number, value: unknown): Promise<Buffer>
  /**
   * Decodes a wire-format buffer.
   * @throws BridgeError `UNKNOWN_SCHEMA_ID` (permanent) when the registry does not know the id,
   *   `UNDECODABLE_AVRO` (permanent) when the body does not match the writer schema,
   *   `SCHEMA_REGISTRY_UNAVAILABLE` (retryable) when the registry cannot be reached or fails
   */
  decode(buffer: Buffer): Promise<unknown>
}

/** Creates a {@link SchemaCodec} for the registry at `url` (e.g. `http://host:8081/apis/ccompat/v7`). */
export function createSchemaCodec(options: { url: string; retries?: number }): SchemaCodec {
  const registry = new SchemaRegistry({
    host: options.url,
    retry: { retries: options.retries ?? 3, maxRetryTimeInSecs: 5 },
  })
  return {
    async register(subject, schema) {
      const { id } = await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject },
      )
      return id
    },
    encode(id, value) {
      return registry.encode(id, value)
    },
    async decode(buffer) {
      const id = buffer.readUInt32BE(1)
      try {
        // Fetched once per id and cached by the library; failures here are about the registry.
        await registry.getSchema(id)
      } catch (err) {
        const status = (err as { status?: number }).status
        if (status === 404) {
          throw new BridgeError('UNKNOWN_SCHEMA_ID', `schema id ${id} is not in the registry`, { cause: err })
        }
        throw new BridgeError('SCHEMA_REGISTRY_UNAVAILABLE', `schema registry lookup of id ${id} failed`, {
          retryable: true,
          cause: err,
          context: { status },
        })
      }
      try {
        // The schema is cached now: decode() only parses, so a failure is about the body.
        return await registry.decode(buffer)
      } catch (err) {
        throw new BridgeError(
          'UNDECODABLE_AVRO',
          `Avro body does not match schema id ${id}: ${(err as Error).message}`,
          {
            cause: err,
          },
        )
      }
    },
  }
}
