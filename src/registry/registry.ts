/**
 * The schema registry, as the bridge's adapter to it: the project's Avro schemas, and the codec of the
 * Confluent wire format that registers them and reads and writes values with the schema of an id. The
 * decoder (src/events/, src/mapping/) reads input records with it; the outcome publisher writes result
 * events with it.
 */

import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { isBridgeError } from '../errors.ts'
import { retryUntil } from '../retry-until.ts'
import { instantLogicalTypes } from './logical-types.ts'
import { type Registered, registerSchema } from './schema-subject.ts'
import { createWireFormatReader, createWireFormatWriter, type UNKNOWN_WRITER } from './wire-format.ts'

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
   * Registers `schema` under `subject` (the TopicNameStrategy subject `<topic>-value`) and returns its
   * schema id; the subject checks new versions at least `BACKWARD` unless it has a level of its own
   * (src/registry/schema-subject.ts). Registering an identical schema again returns the same id, and a
   * registration that an earlier attempt or start left half-done is completed. A timeout, a refused
   * connection, 408, 429 or 5xx is retried until `options.deadline`.
   * @throws BridgeError `SCHEMA_REGISTRY_UNAVAILABLE` once the deadline passed; `CONFIG_INVALID` when the
   *   registry refuses the schema (e.g. 409: not compatible with the subject's earlier versions)
   */
  register(subject: string, schema: Record<string, unknown>, options?: RegisterOptions): Promise<number>
  /** Encodes `value` with schema `id`. @throws Error when the value does not match the schema */
  encode(id: number, value: unknown): Promise<Buffer>
  /**
   * Encodes `value` at once, without a promise, when the schema of `id` is already known (after the
   * first {@link encode} with it). Optional (test doubles may lack it).
   * @returns {@link UNKNOWN_WRITER} when the id's schema was not fetched yet: then call {@link encode}
   * @throws Error when the value does not match the schema
   */
  encodeKnown?(id: number, value: unknown): Buffer | typeof UNKNOWN_WRITER
  /**
   * Decodes a wire-format buffer.
   * @throws BridgeError `UNKNOWN_SCHEMA_ID` (permanent) when the registry does not know the id,
   *   `UNSUPPORTED_SCHEMA` (permanent) when the id names a schema that is not usable Avro,
   *   `UNDECODABLE_AVRO` (permanent) when the body does not match the writer schema,
   *   `SCHEMA_REGISTRY_UNAVAILABLE` (retryable) when the registry cannot be reached or fails
   */
  decode(buffer: Buffer): Promise<unknown>
  /**
   * Decodes a wire-format buffer at once, without a promise, when the writer schema of its id is already
   * known (the common case: a topic's records share a few ids). Optional (test doubles may lack it).
   * @returns {@link UNKNOWN_WRITER} when the id's schema was not fetched yet: then call {@link decode}
   * @throws BridgeError `UNDECODABLE_AVRO` when the body does not match the writer schema
   */
  decodeKnown?(buffer: Buffer): unknown
}

/** Options of {@link SchemaCodec.register}. */
export interface RegisterOptions {
  /** Epoch ms after which no attempt starts (default: one minute from the call). */
  deadline?: number
  /** Told before each wait for the registry, with the failure and the wait in ms. */
  onWait?: (err: unknown, delayMs: number) => void
  /** Told what the registration found and did (the id, the subject's compatibility level). */
  onRegistered?: (registered: Registered) => void
}

/** How long {@link SchemaCodec.register} retries without a deadline of the caller's, ms. */
const DEFAULT_REGISTER_DEADLINE_MS = 60_000

// The CommonJS build, as the registry client loads it (its types and ours come from different builds).
const { TimeoutMiddleware } = createRequire(import.meta.url)('mappersmith/middleware/timeout') as {
  TimeoutMiddleware: (timeoutMs: number) => never
}

/**
 * Longest one registry request may take before it counts as failed and is asked again, ms, when the
 * caller gives none (the same as the default of `SCHEMA_REGISTRY_REQUEST_TIMEOUT_MS`).
 */
const REGISTRY_REQUEST_TIMEOUT_MS = 10_000

/**
 * Creates a {@link SchemaCodec} for the registry at `url` (e.g. `http://host:8081/apis/ccompat/v7`).
 * Writer schemas are parsed with the instant logical types of src/registry/logical-types.ts, so that a
 * timestamp in micro- or nanoseconds is read as epoch ms.
 *
 * Each request gets `requestTimeoutMs` (default {@link REGISTRY_REQUEST_TIMEOUT_MS}). A schema lookup
 * that timed out, failed with 5xx or could not connect is retried `retries` times (default 3, backoff up
 * to 5 s) by the registry client, then fails as the registry being unavailable (retryable for decoding,
 * see {@link createWireFormatReader}). A registration is a step of its own
 * (src/registry/schema-subject.ts), retried as a whole until its deadline, since the registry client's
 * retries cover GET requests only (mappersmith's retry middleware) and its registration refused every
 * later start once a first one had timed out after the schema was taken (issue 26). Without the timeout
 * a request the registry accepted but never answered waited for ever (seen once in CI: a subject
 * registration right after a registry restart).
 */
export function createSchemaCodec(options: {
  url: string
  retries?: number
  requestTimeoutMs?: number
}): SchemaCodec {
  const requestTimeoutMs = options.requestTimeoutMs ?? REGISTRY_REQUEST_TIMEOUT_MS
  const registry = new SchemaRegistry(
    {
      host: options.url,
      retry: {
        retries: options.retries ?? 3,
        maxRetryTimeInSecs: 5,
        // mappersmith's retry middleware: 5xx as by default, and a timed-out attempt too.
        validateRetry: (response: { responseStatus: number; error(): unknown }) =>
          response.responseStatus >= 500 || (response.error() as Error | undefined)?.name === 'TimeoutError',
      } as { retries: number; maxRetryTimeInSecs: number },
      middlewares: [TimeoutMiddleware(requestTimeoutMs)],
    },
    { [SchemaType.AVRO]: { logicalTypes: instantLogicalTypes() } },
  )
  const reader = createWireFormatReader({ fetchSchema: (id) => registry.getSchema(id) })
  const writer = createWireFormatWriter({ fetchSchema: (id) => registry.getSchema(id) })
  return {
    async register(subject, schema, registerOptions = {}) {
      const registered = await retryUntil(
        () => registerSchema({ url: options.url, requestTimeoutMs }, subject, schema),
        {
          deadline: registerOptions.deadline ?? Date.now() + DEFAULT_REGISTER_DEADLINE_MS,
          isTransient: (err) => isBridgeError(err) && err.retryable,
          onWait: registerOptions.onWait ?? (() => undefined),
        },
      )
      registerOptions.onRegistered?.(registered)
      return registered.id
    },
    encode: writer,
    encodeKnown: writer.encodeKnown,
    decode: reader,
    decodeKnown: reader.decodeKnown,
  }
}

/**
 * What a failed registry call says about the registry, in words an operator can act on, from the
 * `context` the registry requests put on their BridgeError (src/registry/schema-subject.ts): `unreachable`
 * (a socket error code, `timeout`, or `bad port`) when no answer came, else the answer's `status`,
 * `request` and `answer` (its body, cut).
 * @returns `reachable: false` when no answer came, `wrongUrl` for a 404 (the URL does not lead to a
 *   Confluent-compatible API) or a port HTTP clients refuse, and the message
 */
export function registryCause(err: unknown): { reachable: boolean; wrongUrl: boolean; message: string } {
  const context: Record<string, unknown> = isBridgeError(err) ? err.context : {}
  const { unreachable, status, request, answer } = context
  if (unreachable === 'bad port')
    return {
      reachable: false,
      wrongUrl: true,
      message: "a port HTTP clients refuse to use (the Fetch standard's bad ports, such as 1, 22 or 25)",
    }
  if (typeof unreachable === 'string')
    return {
      reachable: false,
      wrongUrl: false,
      message: unreachable === 'timeout' ? 'no answer in time' : `no answer (${unreachable})`,
    }
  if (status === 404)
    return {
      reachable: true,
      wrongUrl: true,
      message: `HTTP 404 for ${String(request)}: not a Confluent-compatible schema registry API (for Apicurio Registry 3 the URL ends in /apis/ccompat/v7)`,
    }
  if (typeof status === 'number')
    return {
      reachable: true,
      wrongUrl: false,
      message: `HTTP ${status} for ${String(request)}: ${String(answer)}`,
    }
  return { reachable: true, wrongUrl: false, message: (err as Error)?.message ?? String(err) }
}
