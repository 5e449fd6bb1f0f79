// The input decoder: Confluent wire format or plain JSON, validated into a FileCreatedEvent or a DLQ reason.
import { describe, expect, it } from 'vitest'
import { BridgeError } from '../../../src/errors.ts'
import { createEventDecoder, type EventDecoderOptions } from '../../../src/events/decode.ts'
import { DEFAULT_MEDIA_KINDS } from '../../../src/events/media-kind.ts'
import { fileEntryBytes } from '../../../src/import/file-entry.ts'
import type { DecodeResult, FileCreatedEvent } from '../../../src/model/files.ts'
import type { SchemaCodec } from '../../../src/registry/registry.ts'
import { UNKNOWN_WRITER } from '../../../src/registry/wire-format.ts'

/** A SchemaCodec whose decode() resolves to `result` or throws it when it is an Error. */
function fakeCodec(result: unknown): SchemaCodec & { calls: Buffer[] } {
  const calls: Buffer[] = []
  return {
    calls,
    async register() {
      return 1
    },
    async encode() {
      return Buffer.alloc(0)
    },
    async decode(buffer: Buffer) {
      calls.push(buffer)
      if (result instanceof Error) throw result
      return result
    },
  }
}

const WIRE = Buffer.from([0, 0, 0, 0, 7, 1, 2, 3])

const validEvent = {
  externalId: 'ext-1',
  url: 'https://files.example/a.pdf',
  fileName: 'a.pdf',
  mediaType: 'report',
  kind: 'file' as const,
  metadata: { title: 'A' },
  systemName: 'archive',
  occurredAt: 1_700_000_000_000,
}

function decoder(options: Partial<EventDecoderOptions> = {}, codec: SchemaCodec = fakeCodec(validEvent)) {
  return createEventDecoder(codec, {
    defaultSystemName: undefined,
    mediaKinds: DEFAULT_MEDIA_KINDS,
    ...options,
  })
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value))

function failure(result: DecodeResult) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.event)}`)
  return result.failure
}

function event(result: DecodeResult): FileCreatedEvent {
  if (!result.ok) throw new Error(`expected an event, got ${JSON.stringify(result.failure)}`)
  return result.event
}

describe('framing', () => {
  it('null value -> EMPTY_VALUE', async () => {
    expect(failure(await decoder()(null))).toEqual({
      reason: 'EMPTY_VALUE',
      message: 'record value is null (a tombstone)',
    })
  })

  it('empty value -> EMPTY_VALUE', async () => {
    expect(failure(await decoder()(Buffer.alloc(0)))).toEqual({
      reason: 'EMPTY_VALUE',
      message: 'record value is empty (0 bytes)',
    })
  })

  it('a first byte that is neither 0 nor JSON -> UNKNOWN_WIRE_FORMAT naming the byte', async () => {
    const f = failure(await decoder()(Buffer.from('xyz')))
    expect(f.reason).toBe('UNKNOWN_WIRE_FORMAT')
    expect(f.message).toContain('0x78')
  })

  it('a magic byte 1 -> UNKNOWN_WIRE_FORMAT', async () => {
    expect(failure(await decoder()(Buffer.from([1, 0, 0, 0, 1, 2]))).reason).toBe('UNKNOWN_WIRE_FORMAT')
  })

  it('only whitespace -> UNKNOWN_WIRE_FORMAT', async () => {
    expect(failure(await decoder()(Buffer.from('  \n '))).reason).toBe('UNKNOWN_WIRE_FORMAT')
  })

  it('magic byte with fewer than 5 bytes -> UNDECODABLE_AVRO without asking the registry', async () => {
    const codec = fakeCodec(validEvent)
    const f = failure(await decoder({}, codec)(Buffer.from([0, 0, 0, 1])))
    expect(f.reason).toBe('UNDECODABLE_AVRO')
    expect(f.message).toContain('got 4')
    expect(codec.calls).toHaveLength(0)
  })
})

describe('Confluent wire format', () => {
  it('decodes through the codec into an event', async () => {
    // Given a codec that decodes the wire bytes into a valid event
    const codec = fakeCodec(validEvent)
    // When decoding
    const e = event(await decoder({}, codec)(WIRE))
    // Then the codec saw the whole buffer and the event is complete
    expect(codec.calls[0]).toBe(WIRE)
    expect(e).toEqual(validEvent)
  })

  it('accepts the Avro record shape: metadata as a JSON string, systemName null, the default applied', async () => {
    const codec = fakeCodec({ ...validEvent, metadata: '{"title":"A"}', systemName: null })
    const e = event(await decoder({ defaultSystemName: 'dflt' }, codec)(WIRE))
    expect(e).toEqual({ ...validEvent, metadata: { title: 'A' }, systemName: 'dflt' })
  })

  it('unknown schema id -> UNKNOWN_SCHEMA_ID with the codec message', async () => {
    const codec = fakeCodec(new BridgeError('UNKNOWN_SCHEMA_ID', 'schema id 7 is not in the registry'))
    const f = failure(await decoder({}, codec)(WIRE))
    expect(f).toEqual({ reason: 'UNKNOWN_SCHEMA_ID', message: 'schema id 7 is not in the registry' })
  })

  it('undecodable Avro body -> UNDECODABLE_AVRO', async () => {
    const codec = fakeCodec(new BridgeError('UNDECODABLE_AVRO', 'Avro body does not match schema id 7'))
    expect(failure(await decoder({}, codec)(WIRE)).reason).toBe('UNDECODABLE_AVRO')
  })

  it('gives the result at once (no promise) for JSON and for Avro of a known schema id, else a promise', async () => {
    const codec = {
      ...fakeCodec(validEvent),
      decodeKnown: (buffer: Buffer) => (buffer[4] === 7 ? validEvent : UNKNOWN_WRITER),
    }
    const decode = decoder({}, codec)
    expect(decode(Buffer.from(JSON.stringify(validEvent)))).toMatchObject({ ok: true })
    expect(decode(WIRE)).toMatchObject({ ok: true })
    const unknownId = Buffer.from([0, 0, 0, 0, 8, 1])
    const later = decode(unknownId)
    expect(later).toBeInstanceOf(Promise)
    expect(await later).toMatchObject({ ok: true })
    expect(codec.calls).toEqual([unknownId])
  })

  it('a known id whose body does not match -> UNDECODABLE_AVRO at once', () => {
    const codec = {
      ...fakeCodec(validEvent),
      decodeKnown: () => {
        throw new BridgeError('UNDECODABLE_AVRO', 'Avro body does not match schema id 7: truncated')
      },
    }
    expect(decoder({}, codec)(WIRE)).toEqual({
      ok: false,
      failure: { reason: 'UNDECODABLE_AVRO', message: 'Avro body does not match schema id 7: truncated' },
    })
  })

  it('registry unavailable -> the promise rejects with the retryable error (not a DLQ result)', async () => {
    const err = new BridgeError('SCHEMA_REGISTRY_UNAVAILABLE', 'registry down', { retryable: true })
    const codec = fakeCodec(err)
    await expect(decoder({}, codec)(WIRE)).rejects.toBe(err)
  })

  it('an unexpected codec error rejects too', async () => {
    const codec = fakeCodec(new TypeError('boom'))
    await expect(decoder({}, codec)(WIRE)).rejects.toThrow('boom')
  })

  it('a decoded record failing validation -> INVALID_EVENT', async () => {
    const codec = fakeCodec({ ...validEvent, url: 'ftp://files.example/a.pdf' })
    expect(failure(await decoder({}, codec)(WIRE)).reason).toBe('INVALID_EVENT')
  })
})

describe('plain JSON', () => {
  it('decodes a JSON object, with leading whitespace', async () => {
    const e = event(await decoder()(Buffer.from(`\n\t ${JSON.stringify(validEvent)}`)))
    expect(e).toEqual(validEvent)
  })

  it('invalid JSON -> INVALID_JSON', async () => {
    const f = failure(await decoder()(Buffer.from('{"externalId": ')))
    expect(f.reason).toBe('INVALID_JSON')
    expect(f.message).toMatch(/not valid JSON/)
  })

  it('a JSON array -> INVALID_JSON', async () => {
    const f = failure(await decoder()(json([validEvent])))
    expect(f).toEqual({ reason: 'INVALID_JSON', message: 'JSON value is not an object' })
  })
})

describe('validation', () => {
  it.each(['externalId', 'url', 'fileName', 'occurredAt'])(
    'missing %s -> INVALID_EVENT naming it',
    async (field) => {
      const { [field as keyof typeof validEvent]: _, ...rest } = validEvent
      const f = failure(await decoder()(json(rest)))
      expect(f.reason).toBe('INVALID_EVENT')
      expect(f.message).toMatch(new RegExp(`(^|; )${field}: `))
    },
  )

  it('names every bad field at once', async () => {
    const f = failure(await decoder()(json({ url: 'nope', occurredAt: 'yesterday' })))
    expect(f.reason).toBe('INVALID_EVENT')
    for (const field of ['externalId', 'url', 'fileName', 'occurredAt'])
      expect(f.message).toContain(`${field}:`)
  })

  it('an empty externalId -> INVALID_EVENT', async () => {
    expect(failure(await decoder()(json({ ...validEvent, externalId: '' }))).reason).toBe('INVALID_EVENT')
  })

  it.each(['ftp://files.example/a.pdf', 'javascript:alert(1)', 'file:///etc/passwd', 'not a url'])(
    'url %s -> INVALID_EVENT',
    async (url) => {
      const f = failure(await decoder()(json({ ...validEvent, url })))
      expect(f.reason).toBe('INVALID_EVENT')
      expect(f.message).toMatch(/^url: /)
    },
  )

  it('accepts http and https urls', async () => {
    for (const url of ['http://a.example/x', 'https://a.example/x?y=1']) {
      expect(event(await decoder()(json({ ...validEvent, url }))).url).toBe(url)
    }
  })

  it('defaults mediaType to file and metadata to {}', async () => {
    const { mediaType: _m, metadata: _md, ...rest } = validEvent
    const e = event(await decoder()(json(rest)))
    expect(e.mediaType).toBe('file')
    expect(e.metadata).toEqual({})
  })

  it('accepts metadata as an object', async () => {
    const e = event(await decoder()(json({ ...validEvent, metadata: { a: 1, nested: { b: [1] } } })))
    expect(e.metadata).toEqual({ a: 1, nested: { b: [1] } })
  })

  it('accepts metadata as a JSON string of an object (the Avro form)', async () => {
    const e = event(await decoder()(json({ ...validEvent, metadata: '{"title":"T","year":2020}' })))
    expect(e.metadata).toEqual({ title: 'T', year: 2020 })
  })

  it.each(['[1,2]', 'null', '"text"', '42', '{broken'])(
    'metadata string %s -> INVALID_EVENT',
    async (metadata) => {
      const f = failure(await decoder()(json({ ...validEvent, metadata })))
      expect(f.reason).toBe('INVALID_EVENT')
      expect(f.message).toContain('metadata')
    },
  )

  it('metadata as an array -> INVALID_EVENT', async () => {
    expect(failure(await decoder()(json({ ...validEvent, metadata: [1] }))).reason).toBe('INVALID_EVENT')
  })

  it('occurredAt as an ISO string becomes epoch ms', async () => {
    const e = event(await decoder()(json({ ...validEvent, occurredAt: '2024-03-01T12:00:00.500Z' })))
    expect(e.occurredAt).toBe(Date.UTC(2024, 2, 1, 12, 0, 0, 500))
  })

  it('occurredAt as an ISO string with an offset becomes epoch ms', async () => {
    const e = event(await decoder()(json({ ...validEvent, occurredAt: '2024-03-01T14:00:00+02:00' })))
    expect(e.occurredAt).toBe(Date.UTC(2024, 2, 1, 12, 0, 0))
  })

  it('occurredAt as epoch ms is kept', async () => {
    expect(event(await decoder()(json({ ...validEvent, occurredAt: 0 }))).occurredAt).toBe(0)
  })

  it.each([1.5, 'yesterday', '2024-03-01'])('occurredAt %s -> INVALID_EVENT', async (occurredAt) => {
    expect(failure(await decoder()(json({ ...validEvent, occurredAt }))).reason).toBe('INVALID_EVENT')
  })

  it('drops unknown fields', async () => {
    const e = event(await decoder()(json({ ...validEvent, extra: 'x' })))
    expect(e).not.toHaveProperty('extra')
  })
})

describe('hardening', () => {
  it('invalid UTF-8 in a JSON value -> INVALID_JSON (not silently replaced)', async () => {
    // Given a JSON event whose fileName holds the byte 0xff, which is never valid UTF-8
    const text = JSON.stringify({ ...validEvent, fileName: 'Xa' })
    const bytes = Buffer.from(text)
    bytes[bytes.indexOf('Xa') + 1] = 0xff
    // Then it is rejected, naming the encoding
    expect(failure(await decoder()(bytes))).toEqual({
      reason: 'INVALID_JSON',
      message: 'value is not valid UTF-8',
    })
  })

  it('accepts a JSON value with a UTF-8 byte order mark (RFC 8259 §8.1)', async () => {
    const e = event(await decoder()(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(validEvent)])))
    expect(e).toEqual(validEvent)
  })

  it('metadata nested too deeply to serialise -> INVALID_EVENT instead of a stack overflow', async () => {
    // Given metadata 100 000 arrays deep (200 KB of JSON; JSON.stringify overflows the stack on it)
    const depth = 100_000
    const text = `{"externalId":"d","url":"https://a.example/x","fileName":"d","occurredAt":0,"systemName":"s","metadata":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`
    // Then the decoder answers with a DLQ reason and does not throw
    expect(failure(await decoder()(Buffer.from(text)))).toEqual({
      reason: 'INVALID_EVENT',
      message: 'metadata: nested too deeply',
    })
  })

  it.each(['externalId', 'systemName', 'mediaType'])(
    'a control character in %s -> INVALID_EVENT naming the field',
    async (field) => {
      const f = failure(await decoder()(json({ ...validEvent, [field]: 'a\nb' })))
      expect(f.reason).toBe('INVALID_EVENT')
      expect(f.message).toBe(`${field}: must not contain control characters`)
    },
  )

  it('a URL longer than 8000 characters -> INVALID_EVENT', async () => {
    const url = `https://a.example/${'x'.repeat(8000)}`
    const f = failure(await decoder()(json({ ...validEvent, url })))
    expect(f.reason).toBe('INVALID_EVENT')
    expect(f.message).toMatch(/^url: /)
  })

  it.each([
    253_402_300_800_000,
    -62_135_596_800_001,
    8.64e15 + 1,
    Number.MAX_SAFE_INTEGER,
    1e300,
    '0000-12-31T23:59:59Z',
  ])(
    'occurredAt %s outside 0001-01-01 … 9999-12-31 (RFC 3339) -> INVALID_EVENT naming the field',
    async (occurredAt) => {
      const f = failure(await decoder()(json({ ...validEvent, occurredAt })))
      expect(f.reason).toBe('INVALID_EVENT')
      expect(f.message).toBe(
        'occurredAt: must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (RFC 3339)',
      )
    },
  )

  it.each([
    [-62_135_596_800_000, -62_135_596_800_000],
    [253_402_300_799_999, 253_402_300_799_999],
    [-1, -1],
    ['1969-12-31T23:59:59Z', -1000],
  ])('occurredAt %s at or inside the edges of the range is kept', async (occurredAt, ms) => {
    expect(event(await decoder()(json({ ...validEvent, occurredAt }))).occurredAt).toBe(ms)
  })

  it('a metadata key __proto__ -> INVALID_EVENT (it would be dropped silently), as JSON and as the Avro string', async () => {
    const text = '{"__proto__":{"polluted":true},"title":"T"}'
    const asJson = Buffer.from(JSON.stringify(validEvent).replace('{"title":"A"}', text))
    const asString = json({ ...validEvent, metadata: text })
    for (const value of [asJson, asString]) {
      const f = failure(await decoder()(value))
      expect(f.reason).toBe('INVALID_EVENT')
      expect(f.message).toContain('__proto__ is not allowed')
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('keeps a nested __proto__ key of metadata as data', async () => {
    const value = Buffer.from(JSON.stringify(validEvent).replace('{"title":"A"}', '{"a":{"__proto__":1}}'))
    const e = event(await decoder()(value))
    expect(JSON.stringify(e.metadata)).toBe('{"a":{"__proto__":1}}')
  })

  it('unsupported schema from the codec -> UNSUPPORTED_SCHEMA', async () => {
    const codec = fakeCodec(new BridgeError('UNSUPPORTED_SCHEMA', 'schema id 7 is not an Avro schema'))
    expect(failure(await decoder({}, codec)(WIRE))).toEqual({
      reason: 'UNSUPPORTED_SCHEMA',
      message: 'schema id 7 is not an Avro schema',
    })
  })
})

describe('systemName', () => {
  it("uses the event's systemName over the default", async () => {
    expect(event(await decoder({ defaultSystemName: 'dflt' })(json(validEvent))).systemName).toBe('archive')
  })

  it('falls back to defaultSystemName when the event has none or null', async () => {
    const { systemName: _, ...rest } = validEvent
    expect(event(await decoder({ defaultSystemName: 'dflt' })(json(rest))).systemName).toBe('dflt')
    const withNull = { ...validEvent, systemName: null }
    expect(event(await decoder({ defaultSystemName: 'dflt' })(json(withNull))).systemName).toBe('dflt')
  })

  it('without either -> MISSING_SYSTEM_NAME', async () => {
    const { systemName: _, ...rest } = validEvent
    expect(failure(await decoder({ defaultSystemName: undefined })(json(rest))).reason).toBe(
      'MISSING_SYSTEM_NAME',
    )
  })
})

describe('entry size', () => {
  it('carries the size of the entry; a large one is a valid event (the batcher fails it, not the DLQ)', async () => {
    const big = { ...validEvent, metadata: { text: 'x'.repeat(600_000) } }
    const result = await decoder()(json(big))
    expect(result.ok).toBe(true)
    expect(result.ok && result.bytes).toBe(fileEntryBytes(big))
    expect(result.ok && result.bytes).toBeGreaterThan(600_000)
  })
})

describe('the issue’s inputs from other producers', () => {
  it('sends the URL as a valid URI (spaces, IDNA host, UTF-8 path), in the event and its entry JSON', async () => {
    const spaced = await decoder()(
      json({ ...validEvent, url: 'https://files.example.test/in box/report 2026.pdf' }),
    )
    expect(event(spaced).url).toBe('https://files.example.test/in%20box/report%202026.pdf')
    const idn = await decoder()(
      json({ ...validEvent, url: 'https://bücher.example.test/straße/Übersicht.pdf' }),
    )
    expect(event(idn).url).toBe('https://xn--bcher-kva.example.test/stra%C3%9Fe/%C3%9Cbersicht.pdf')
    if (!idn.ok) return
    expect(JSON.parse(idn.entry.toString()).url).toBe(event(idn).url)
  })

  it('a value written by Apicurio with the schema id in headers: the DLQ message says so and names the setting', async () => {
    // Given the bare Avro body (first byte 0x0a: the externalId's length) and Apicurio's id header
    const id = Buffer.alloc(8)
    id.writeBigInt64BE(42n)
    const headers = [
      ['apicurio.value.globalId', id],
      ['apicurio.value.encoding', Buffer.from('BINARY')],
    ] as const
    const f = failure(await decoder()(Buffer.from([0x0a, 0x65, 0x78]), headers))
    // Then it is UNKNOWN_WIRE_FORMAT with the hint
    expect(f.reason).toBe('UNKNOWN_WIRE_FORMAT')
    expect(f.message).toMatch(/^first byte 0x0a is neither/)
    expect(f.message).toContain('the schema id is in the record header apicurio.value.globalId 42')
    expect(f.message).toContain('apicurio.registry.headers.enabled=false')
    expect(f.message.length).toBeLessThanOrEqual(1000)
    // And without the header, no hint
    expect(failure(await decoder()(Buffer.from([0x0a]))).message).not.toContain('apicurio')
  })
})

describe('the checksum (issue 24: CHECKSUM_METADATA_PROPERTY)', () => {
  const withSum = { ...validEvent, checksum: 'sha256:ab12' }
  const metadataOf = (result: DecodeResult) => {
    if (!result.ok) throw new Error(result.failure.message)
    return (JSON.parse(result.entry.toString('utf8')) as { metadata: Record<string, unknown> }).metadata
  }

  it('goes into the entry’s metadata under the configured property, JSON and Avro alike', async () => {
    const decode = decoder({ checksumProperty: 'sourceChecksum' })
    expect(metadataOf(await decode(json(withSum)))).toEqual({ title: 'A', sourceChecksum: 'sha256:ab12' })
    const avro = decoder(
      { checksumProperty: 'sourceChecksum' },
      fakeCodec({ ...withSum, metadata: '{"n": 12345678901234567890}' }),
    )
    const result = await avro(WIRE)
    // the Avro metadata text is kept as it came (the number beyond 2^53 exactly), the checksum added
    expect(result.ok && result.entry.toString('utf8')).toContain(
      '"metadata":{"n": 12345678901234567890,"sourceChecksum":"sha256:ab12"}',
    )
  })

  it('wins over a property of the same name in the metadata, and fills empty metadata', async () => {
    const decode = decoder({ checksumProperty: 'sum' })
    expect(metadataOf(await decode(json({ ...withSum, metadata: { sum: 'old', a: 1 } })))).toEqual({
      a: 1,
      sum: 'sha256:ab12',
    })
    const avro = decoder({ checksumProperty: 'sum' }, fakeCodec({ ...withSum, metadata: '{ }' }))
    expect(metadataOf(await avro(WIRE))).toEqual({ sum: 'sha256:ab12' })
  })

  it('is not sent without the setting, nor when the event has none', async () => {
    expect(metadataOf(await decoder()(json(withSum)))).toEqual({ title: 'A' })
    expect(
      metadataOf(await decoder({ checksumProperty: 'sum' })(json({ ...validEvent, checksum: null }))),
    ).toEqual({ title: 'A' })
  })

  it('must be a non-empty string without control characters', async () => {
    for (const checksum of ['', 'a\nb', 42]) {
      const f = failure(await decoder({ checksumProperty: 'sum' })(json({ ...validEvent, checksum })))
      expect(f.reason).toBe('INVALID_EVENT')
      expect(f.message).toContain('checksum')
    }
  })
})
