// The decoder's fast path (quickFields) against the zod schema it stands in for: whatever it accepts, the
// schema accepts with the same fields; and it accepts the common events, so that they skip zod.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { quickFields, schemaFields } from '../../../src/events/event-fields.ts'

/** Values near every rule's edges: types, lengths, control characters, URLs, metadata, instants. */
const text = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('', 'a', 'a\u0000b', 'tab\there', 'x'.repeat(max), 'x'.repeat(max + 1), 'del\u007f'),
  )
const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.constant([]),
)
const field = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: valid }, anyValue)
const url = fc.constantFrom(
  'https://files.example/a.pdf',
  'http://files.example/a b.jpg',
  'HTTPS://Files.Example/x',
  'ftp://files.example/a',
  'https://127.1/x',
  'https://xn--bcher-kva.example/a',
  'not a url',
  ` https://files.example/${'y'.repeat(7990)}`,
  `https://files.example/${'y'.repeat(8000)}`,
)
const metadata = fc.oneof(
  fc.constantFrom('{}', '{"a":1}', '{ "b" : [1, 2] }', '[]', 'null', '{"__proto__":{}}', '{bad', '"s"'),
  fc.constantFrom({}, { a: 1 }, [], JSON.parse('{"__proto__":1}')),
  fc
    .dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
    .map((o) => JSON.stringify(o)),
)
const occurredAt = fc.oneof(
  fc.integer({ min: -70_000_000_000_000, max: 260_000_000_000_000 }),
  fc.constantFrom(1.5, Number.NaN, '2026-11-30T08:15:00Z', '2026-11-30T08:15:00', '2026-11-30', 'x'),
)
const raw = fc.record(
  {
    externalId: field(text(1024)),
    url: field(url),
    fileName: field(text(1024)),
    mediaType: field(text(200)),
    metadata: field(metadata),
    systemName: field(text(200)),
    mimeType: field(text(255)),
    occurredAt: field(occurredAt),
    extra: fc.string(),
  },
  // The required fields always there (as undefined or null among other values, too), the others optional
  { requiredKeys: ['externalId', 'url', 'fileName', 'occurredAt'] },
)

describe('quickFields', () => {
  it('accepts nothing the schema refuses, and gives what the schema gives', () => {
    let accepted = 0
    fc.assert(
      fc.property(raw, (r) => {
        const quick = quickFields(r)
        if (quick === undefined) return
        accepted++
        expect(quick).toEqual(schemaFields(r))
      }),
      { numRuns: 20_000 },
    )
    // and the property saw accepted events, not only refusals (about 250 of the 20,000 are valid)
    expect(accepted).toBeGreaterThan(100)
  })

  it('accepts a typical Avro-shaped and a typical JSON event', () => {
    const avro = {
      externalId: 'a-1',
      url: 'https://files.example/r/a-1.pdf?sig=x%2By',
      fileName: 'Report',
      mediaType: 'file',
      metadata: '{"title":"T","tags":["a"]}',
      systemName: null,
      mimeType: null,
      occurredAt: 1_700_000_000_000,
    }
    expect(quickFields(avro)).toEqual(schemaFields(avro))
    expect(quickFields(avro)?.metadata.text).toBe(avro.metadata)
    const json = {
      externalId: 'b',
      url: 'https://f.example/b.png',
      fileName: 'B',
      occurredAt: '2026-11-30T08:15:00Z',
    }
    expect(quickFields(json)).toEqual(schemaFields(json))
    expect(quickFields(json)).toMatchObject({ mediaType: 'file', metadata: { object: {}, text: undefined } })
  })
})
