// Property tests of the event decoder (fast-check): whatever bytes arrive, decode() resolves to a valid
// event or to a DLQ reason from the closed set, and rejects only for a transient registry problem.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DLQ_REASONS, isBridgeError } from '../../../src/errors.ts'
import { createEventDecoder } from '../../../src/events/decode.ts'
import { DEFAULT_MEDIA_KINDS } from '../../../src/events/media-kind.ts'
import { toFileEntry } from '../../../src/import/file-entry.ts'
import type { DecodeResult } from '../../../src/model/files.ts'
import type { SchemaCodec } from '../../../src/registry/registry.ts'
import { createWireFormatReader } from '../../../src/registry/wire-format.ts'
import { fileCreatedType, wire } from './avro-fixtures.ts'

const SCHEMA_ID = 1
const RUNS = { numRuns: 400 }

/** A codec over the real wire-format reader; the "registry" knows only SCHEMA_ID (404 otherwise). */
function codecWith(fetchSchema: (id: number) => Promise<unknown>): SchemaCodec {
  return {
    register: async () => SCHEMA_ID,
    encode: async () => Buffer.alloc(0),
    decode: createWireFormatReader({ fetchSchema }),
  }
}

const knownRegistry = codecWith(async (id) => {
  if (id === SCHEMA_ID) return fileCreatedType
  throw Object.assign(new Error(`Schema ${id} not found.`), { status: 404 })
})

const decodeKnown = createEventDecoder(knownRegistry, {
  defaultSystemName: undefined,
  mediaKinds: DEFAULT_MEDIA_KINDS,
})

/**
 * The decoder's contract for one input: it resolves (never rejects while the registry answers), and
 * the answer is either an event that passes every rule or a failure with a closed-set reason and a
 * readable message.
 */
async function expectContract(input: Buffer | null): Promise<DecodeResult> {
  const result = await decodeKnown(input)
  if (result.ok) {
    const { event, bytes, entry } = result
    const entryJson = entry.toString('utf8')
    for (const id of [event.externalId, event.systemName, event.mediaType]) {
      expect(id.length).toBeGreaterThan(0)
      expect(hasControlCharacter(id)).toBe(false)
    }
    expect(event.fileName.length).toBeGreaterThan(0)
    expect(['http:', 'https:']).toContain(new URL(event.url).protocol)
    expect(event.metadata).toBeTypeOf('object')
    expect(Array.isArray(event.metadata)).toBe(false)
    // RFC 3339's range, 0001-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z
    expect(Number.isSafeInteger(event.occurredAt)).toBe(true)
    expect(event.occurredAt).toBeGreaterThanOrEqual(-62_135_596_800_000)
    expect(event.occurredAt).toBeLessThanOrEqual(253_402_300_799_999)
    // a valid URI (RFC 3986): only allowed characters, every % an escape (HEXDIG of either case, §2.1:
    // an escape that came is kept as it came, src/events/url.ts; a bit flip made `%8A` `%8a` in one run)
    expect(event.url).toMatch(/^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#[\]]|%[0-9A-Fa-f]{2})*$/)
    // The entry sent is the event's entry as JSON (Avro metadata text kept as it came), and its size
    expect(JSON.parse(entryJson)).toEqual(toFileEntry(event))
    expect(bytes).toBe(Buffer.byteLength(entryJson) + 1)
  } else {
    expect(DLQ_REASONS).toContain(result.failure.reason)
    expect(result.failure.message).toMatch(/\S/)
  }
  return result
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

/** Arbitrary strings, including control characters, lone surrogates and non-BMP characters. */
const anyString = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }))

/** Values that are sometimes right for a field and often wrong. */
const fieldValue = fc.oneof(
  anyString,
  fc.constantFrom('https://files.example/a.pdf', 'http://x/y', 'ftp://x/y', 'javascript:alert(1)', ''),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
)

/** JSON objects shaped like events, with each field present or not, of any type. */
const eventLikeObject = fc.record(
  {
    externalId: fieldValue,
    url: fieldValue,
    fileName: fieldValue,
    mediaType: fieldValue,
    metadata: fc.oneof(fieldValue, fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 }))),
    systemName: fieldValue,
    occurredAt: fc.oneof(
      fieldValue,
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    ),
  },
  { requiredKeys: [] },
)

/** Records the Avro schema accepts (types right), whose values may still break the event rules. */
const avroRecord = fc.record({
  externalId: anyString,
  url: fc.oneof(fc.webUrl(), anyString),
  fileName: anyString,
  mediaType: anyString,
  metadata: fc.oneof(fc.json(), anyString),
  systemName: fc.option(anyString, { nil: null }),
  // avsc writes longs up to 2^53 - 2; the edges of RFC 3339's range and past them included.
  occurredAt: fc.oneof(
    fc.integer({ min: -(2 ** 53 - 2), max: 2 ** 53 - 2 }),
    fc.constantFrom(
      0,
      -1,
      -62_135_596_800_000,
      -62_135_596_800_001,
      253_402_300_799_999,
      253_402_300_800_000,
    ),
  ),
})

/** A valid event in its Avro form. */
const validAvroRecord = fc.record({
  externalId: fc.stringMatching(/^[a-zA-Z0-9._-]{1,40}$/),
  url: fc.webUrl(),
  fileName: fc.string({ minLength: 1, maxLength: 100 }).filter((s) => s.length > 0),
  mediaType: fc.constantFrom('file', 'report', 'image'),
  // (a top-level key __proto__ is refused by design; see the decoder's unit tests)
  metadata: fc
    .dictionary(
      fc.string().filter((k) => k !== '__proto__'),
      fc.jsonValue({ maxDepth: 2 }),
    )
    .map((m) => JSON.stringify(m)),
  systemName: fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/),
  occurredAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
})

describe('event decoder properties', () => {
  it('random bytes: a valid event or a DLQ reason, never a throw', async () => {
    // Prefixes steer part of the inputs into each branch: Confluent header, JSON, BOM + JSON.
    const prefix = fc.constantFrom(
      Buffer.alloc(0),
      Buffer.from([0, 0, 0, 0, SCHEMA_ID]),
      Buffer.from([0]),
      Buffer.from('{'),
      Buffer.from([0xef, 0xbb, 0xbf, 0x7b]),
    )
    await fc.assert(
      fc.asyncProperty(prefix, fc.uint8Array({ maxLength: 600 }), async (head, tail) => {
        await expectContract(Buffer.concat([head, tail]))
      }),
      RUNS,
    )
  })

  it('random JSON values: arrays are INVALID_JSON, scalars UNKNOWN_WIRE_FORMAT, objects are read as events', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const result = await expectContract(Buffer.from(JSON.stringify(value)))
        const reason = result.ok ? null : result.failure.reason
        if (Array.isArray(value)) expect(reason).toBe('INVALID_JSON')
        else if (value === null || typeof value !== 'object') expect(reason).toBe('UNKNOWN_WIRE_FORMAT')
        else expect([null, 'INVALID_EVENT', 'MISSING_SYSTEM_NAME']).toContain(reason)
      }),
      RUNS,
    )
  })

  it('event-like JSON objects with fields of any type: a valid event or INVALID_EVENT / MISSING_SYSTEM_NAME', async () => {
    await fc.assert(
      fc.asyncProperty(eventLikeObject, async (object) => {
        const result = await expectContract(Buffer.from(JSON.stringify(object)))
        if (!result.ok) expect(['INVALID_EVENT', 'MISSING_SYSTEM_NAME']).toContain(result.failure.reason)
      }),
      RUNS,
    )
  })

  it('Avro records of any field values: a valid event or INVALID_EVENT / MISSING_SYSTEM_NAME', async () => {
    await fc.assert(
      fc.asyncProperty(avroRecord, async (record) => {
        const result = await expectContract(wire(SCHEMA_ID, record))
        if (!result.ok) expect(['INVALID_EVENT', 'MISSING_SYSTEM_NAME']).toContain(result.failure.reason)
      }),
      RUNS,
    )
  })

  it('valid Avro events decode to the same event', async () => {
    await fc.assert(
      fc.asyncProperty(validAvroRecord, async (record) => {
        const result = await expectContract(wire(SCHEMA_ID, record))
        expect(result).toMatchObject({
          ok: true,
          event: { ...record, metadata: JSON.parse(record.metadata) },
        })
      }),
      RUNS,
    )
  })

  it('mutated valid Avro (bit flips, truncations, extra bytes): a valid event or a DLQ reason', async () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant('append' as const),
        extra: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      }),
    )
    await fc.assert(
      fc.asyncProperty(
        validAvroRecord,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (record, edits) => {
          let bytes = wire(SCHEMA_ID, record)
          for (const edit of edits) {
            if (edit.kind === 'flip') {
              bytes = Buffer.from(bytes)
              const at = edit.at % bytes.length
              bytes[at] = (bytes[at] ?? 0) ^ (1 << edit.bit)
            } else if (edit.kind === 'truncate') {
              bytes = bytes.subarray(0, edit.at % bytes.length)
            } else {
              bytes = Buffer.concat([bytes, edit.extra])
            }
          }
          await expectContract(bytes)
        },
      ),
      {
        ...RUNS,
        // Found on 2026-12-07 (seed -1776608977): the second flip turns the escape `%8A` into `%8a`
        examples: [
          [
            {
              externalId: 'A',
              url: 'http://aaaaaaaaaaaa.a.aa/a%F2%8A%80%80a',
              fileName: '       ',
              mediaType: 'file',
              metadata: '{}',
              systemName: 'aa0',
              occurredAt: 0,
            },
            [
              { kind: 'flip', at: 522583256, bit: 5 },
              { kind: 'flip', at: 15, bit: 1 },
            ],
          ],
        ],
      },
    )
  })

  it('a schema id the registry does not know -> UNKNOWN_SCHEMA_ID', async () => {
    await fc.assert(
      fc.asyncProperty(
        validAvroRecord,
        fc.integer({ min: 0, max: 0xffff_ffff }).filter((id) => id !== SCHEMA_ID),
        async (record, id) => {
          const bytes = wire(SCHEMA_ID, record)
          bytes.writeUInt32BE(id, 1)
          expect(await expectContract(bytes)).toMatchObject({
            ok: false,
            failure: { reason: 'UNKNOWN_SCHEMA_ID' },
          })
        },
      ),
      RUNS,
    )
  })

  it('with the registry down, decode rejects only with a retryable error, and only for the wire format', async () => {
    // Given a registry that cannot be reached (the client reports it as status 400)
    const down = createEventDecoder(
      codecWith(async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { status: 400 })
      }),
      { defaultSystemName: 'dflt', mediaKinds: DEFAULT_MEDIA_KINDS },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
          validAvroRecord.map((r) => wire(SCHEMA_ID, r)),
        ),
        async (bytes) => {
          const outcome = await Promise.resolve(down(bytes)).then(
            (result) => ({ result }),
            (error: unknown) => ({ error }),
          )
          if ('error' in outcome) {
            // Then a rejection is always the transient registry error, for a header the registry must read
            expect(isBridgeError(outcome.error, 'SCHEMA_REGISTRY_UNAVAILABLE')).toBe(true)
            expect((outcome.error as { retryable: boolean }).retryable).toBe(true)
            expect(bytes[0] === 0 && bytes.length >= 5).toBe(true)
          } else if (!outcome.result.ok) {
            // And a DLQ answer never blames the registry
            expect(DLQ_REASONS).toContain(outcome.result.failure.reason)
            expect(outcome.result.failure.reason).not.toBe('UNKNOWN_SCHEMA_ID')
          }
        },
      ),
      RUNS,
    )
  })
})
