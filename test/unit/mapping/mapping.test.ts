// One event through a mapping, as the bridge's mapped decoder runs it: the filter, every target field,
// the record's variables, MAPPING_FAILED naming the field, then the validation of an unmapped event.

import { describe, expect, it } from 'vitest'
import { DEFAULT_MEDIA_KINDS } from '../../../src/events/media-kind.ts'
import { loadMappingOrThrow } from '../../../src/mapping/compile.ts'
import { DEFAULT_MAPPING_TIMEOUT_MS } from '../../../src/mapping/guardrails.ts'
import { createMappedDecoder } from '../../../src/mapping/mapped-decoder.ts'
import type { ConsumedRecord } from '../../../src/model/records.ts'
import { tempFile } from '../../support/mapping-example.ts'
import { recordOf, unusedCodec } from './helpers.ts'

const OPTIONS = { defaultSystemName: 'fallback', mediaKinds: DEFAULT_MEDIA_KINDS }

/** A decoder with the mapping `yaml`. */
function decoderOf(yaml: string) {
  return createMappedDecoder(unusedCodec, OPTIONS, loadMappingOrThrow(tempFile('m.yaml', yaml)))
}

const FLAT = `externalId: id\nurl: link\nfileName: title\n`

describe('mapping one event', () => {
  it('maps checksum, stored in CHECKSUM_METADATA_PROPERTY with the mapped metadata (issue 24)', async () => {
    const mapping = loadMappingOrThrow(
      tempFile('m.yaml', `${FLAT}metadata: '{"title": title}'\nchecksum: '"md5:" & md5'\n`),
    )
    const decode = createMappedDecoder(
      unusedCodec,
      { ...OPTIONS, checksumProperty: 'sourceChecksum' },
      mapping,
    )
    const result = await decode(recordOf({ id: '1', link: 'https://f.example/a.pdf', title: 'A', md5: 'ab' }))
    if (!result.ok || !('entry' in result)) throw new Error('expected an event')
    expect(JSON.parse(result.entry.toString('utf8')).metadata).toEqual({
      title: 'A',
      sourceChecksum: 'md5:ab',
    })
  })

  it('gives every target field from its expression', async () => {
    const decode = decoderOf(`externalId: '"x-" & id'
url: 'base & "/" & path'
fileName: $uppercase(title)
mediaType: kind
metadata: '{"tags": tags, "n": $count(tags)}'
systemName: source
occurredAt: $fromMillis(at)
`)
    const result = await decode(
      recordOf({
        id: '7',
        base: 'https://f.example',
        path: 'a b.pdf',
        title: 'hi',
        kind: 'document',
        tags: ['t'],
        source: 'archive',
        at: 1_600_000_000_123,
      }),
    )
    expect(result).toEqual({
      ok: true,
      event: {
        externalId: 'x-7',
        // The URL rules of an unmapped event apply: a space is sent escaped
        url: 'https://f.example/a%20b.pdf',
        fileName: 'HI',
        mediaType: 'document',
        kind: 'file',
        metadata: { tags: ['t'], n: 1 },
        systemName: 'archive',
        occurredAt: 1_600_000_000_123,
      },
      bytes: expect.any(Number),
      entry: Buffer.from(
        '{"id":"x-7","url":"https://f.example/a%20b.pdf","fileName":"HI","mediaType":"document","metadata":{"tags":["t"],"n":1}}',
      ),
    })
  })

  it('gives optional fields their defaults when missing or without a value: file, {}, DEFAULT_SYSTEM_NAME, the record time', async () => {
    const withExpressions = decoderOf(
      `${FLAT}mediaType: kind\nmetadata: meta\nsystemName: src\noccurredAt: at\n`,
    )
    const without = decoderOf(FLAT)
    const event = { id: '1', link: 'https://f.example/1', title: 'One', kind: null }
    const expected = {
      externalId: '1',
      url: 'https://f.example/1',
      fileName: 'One',
      mediaType: 'file',
      metadata: {},
      systemName: 'fallback',
      occurredAt: 1_700_000_000_000,
    }
    expect(await withExpressions(recordOf(event))).toMatchObject({ ok: true, event: expected })
    expect(await without(recordOf(event))).toMatchObject({ ok: true, event: expected })
  })

  it('routes by a mapped mimeType as an unmapped event does: image/jpeg goes to the image import', async () => {
    const decode = decoderOf(`${FLAT}mimeType: type\n`)
    const event = { id: '1', link: 'https://f.example/1', title: 'One' }
    expect(await decode(recordOf({ ...event, type: 'image/jpeg' }))).toMatchObject({
      ok: true,
      event: { kind: 'image' },
    })
    expect(await decode(recordOf({ ...event, type: 'application/pdf' }))).toMatchObject({
      ok: true,
      event: { kind: 'file' },
    })
  })

  it('filters: true imports, false skips as rejected, no value skips as no_value, anything else fails', async () => {
    const decode = decoderOf(`${FLAT}filter: published\n`)
    const event = { id: '1', link: 'https://f.example/1', title: 'One' }
    expect(await decode(recordOf({ ...event, published: true }))).toMatchObject({ ok: true })
    expect(await decode(recordOf({ ...event, published: false }))).toEqual({
      ok: false,
      filtered: 'rejected',
    })
    expect(await decode(recordOf(event))).toEqual({ ok: false, filtered: 'no_value' })
    expect(await decode(recordOf({ ...event, published: null }))).toEqual({ ok: false, filtered: 'no_value' })
    expect(await decode(recordOf({ ...event, published: 'yes' }))).toEqual({
      ok: false,
      failure: {
        reason: 'MAPPING_FAILED',
        field: 'filter',
        message: 'filter: gave string "yes", but must give true or false',
      },
    })
  })

  it('runs the filter first: a skipped event is not mapped, so a field that would fail does not matter', async () => {
    const decode = decoderOf(`externalId: $number(id)\nurl: link\nfileName: title\nfilter: type = "A"\n`)
    expect(await decode(recordOf({ type: 'B', id: 'not a number' }))).toEqual({
      ok: false,
      filtered: 'rejected',
    })
  })

  it('names the field and the place of an expression that throws on this event', async () => {
    const decode = decoderOf(`externalId: id\nurl: link\nfileName: |\n  title &\n    $string(count + 1)\n`)
    expect(
      await decode(recordOf({ id: '1', link: 'https://f.example/1', title: 'T', count: 'three' })),
    ).toEqual({
      ok: false,
      failure: {
        reason: 'MAPPING_FAILED',
        field: 'fileName',
        message:
          'fileName: at line 2, column 17 of its expression: The left side of the "+" operator must evaluate to a number (JSONata T2001)',
      },
    })
    const filter = decoderOf(`${FLAT}filter: $error("not for us")\n`)
    expect(await filter(recordOf({}))).toMatchObject({
      failure: {
        reason: 'MAPPING_FAILED',
        field: 'filter',
        message: expect.stringMatching(/^filter: .*not for us/),
      },
    })
  })

  it('fails a value of the wrong type, and no value for a required field, naming the field', async () => {
    const decode = decoderOf(`${FLAT}metadata: meta\noccurredAt: at\n`)
    const event = { id: 'a', link: 'https://f.example/1', title: 'One' }
    const failure = async (e: object) => {
      const r = await decode(recordOf(e))
      return 'failure' in r ? [r.failure.field, r.failure.message] : r
    }
    expect(await failure({ ...event, id: 42 })).toEqual([
      'externalId',
      'externalId: gave number 42, but must give a string',
    ])
    expect(await failure({ ...event, link: ['https://a', 'https://b'] })).toEqual([
      'url',
      'url: gave array ["https://a","https://b"], but must give a string',
    ])
    expect(await failure({ ...event, title: undefined })).toEqual([
      'fileName',
      'fileName: gave no value for this event',
    ])
    expect(await failure({ ...event, meta: [1] })).toEqual([
      'metadata',
      'metadata: gave array [1], but must give a JSON object',
    ])
    expect(await failure({ ...event, at: true })).toEqual([
      'occurredAt',
      'occurredAt: gave boolean true, but must give epoch ms (a number) or an ISO 8601 date-time string',
    ])
    // A long value is quoted in part
    expect(await failure({ ...event, id: ['x'.repeat(500)] })).toEqual([
      'externalId',
      `externalId: gave array ["${'x'.repeat(118)}…, but must give a string`,
    ])
  })

  it('then validates the mapped event as an unmapped one (INVALID_EVENT, MISSING_SYSTEM_NAME)', async () => {
    const decode = decoderOf(`${FLAT}occurredAt: at\n`)
    expect(await decode(recordOf({ id: 'a', link: 'ftp://f.example/1', title: 'One' }))).toEqual({
      ok: false,
      failure: { reason: 'INVALID_EVENT', message: 'url: must be an http(s) URL' },
    })
    expect(
      await decode(recordOf({ id: 'a', link: 'https://f.example/1', title: 'One', at: '2026-13-01' })),
    ).toMatchObject({
      failure: { reason: 'INVALID_EVENT', message: expect.stringMatching(/^occurredAt: /) },
    })
    const noDefault = createMappedDecoder(
      unusedCodec,
      { defaultSystemName: undefined, mediaKinds: DEFAULT_MEDIA_KINDS },
      loadMappingOrThrow(tempFile('m.yaml', FLAT)),
    )
    expect(await noDefault(recordOf({ id: 'a', link: 'https://f.example/1', title: 'One' }))).toMatchObject({
      failure: { reason: 'MISSING_SYSTEM_NAME' },
    })
  })

  it('reads the value as the plain decoder does: an unreadable value keeps its own DLQ reason', async () => {
    const decode = decoderOf(FLAT)
    expect(await decode(recordOf(Buffer.from('not json')))).toMatchObject({
      failure: { reason: 'UNKNOWN_WIRE_FORMAT' },
    })
    expect(await decode(recordOf(null as unknown as Buffer, { value: null }))).toMatchObject({
      failure: { reason: 'EMPTY_VALUE' },
    })
  })

  it("gives the record's key, headers, topic, partition, offset and timestamp as variables", async () => {
    const decode = decoderOf(`externalId: $key
url: '"https://f.example/" & $headers.path'
fileName: '$join($headerList[name = "tag"].value, ",")'
metadata: |
  {"topic": $topic, "partition": $partition, "offset": $offset, "time": $timestamp,
   "bin": $headers.bin, "binBase64": $headerList[name = "bin"].base64, "none": $headers.none,
   "proto": $headers.__proto__, "all": $count($headerList)}
`)
    const record: ConsumedRecord = recordOf(
      {},
      {
        headers: [
          ['path', Buffer.from('old.pdf')],
          ['tag', Buffer.from('a')],
          ['bin', Buffer.from([0xff, 0xfe])],
          ['tag', Buffer.from('b')],
          ['none', null],
          ['__proto__', Buffer.from('p')],
          ['path', Buffer.from('new.pdf')],
        ],
      },
    )
    expect(await decode(record)).toMatchObject({
      ok: true,
      event: {
        externalId: 'A-1',
        // $headers holds the last value of a name
        url: 'https://f.example/new.pdf',
        // $headerList holds every one, in order
        fileName: 'a,b',
        metadata: {
          topic: 'legacy.dam',
          partition: 2,
          offset: '9007199254740993',
          time: 1_700_000_000_000,
          bin: null,
          binBase64: '//4=',
          none: null,
          proto: 'p',
          all: 7,
        },
      },
    })
    // A key that is not UTF-8 text is null
    expect(await decode({ ...record, key: Buffer.from([0xc3]) })).toMatchObject({
      failure: {
        reason: 'MAPPING_FAILED',
        field: 'externalId',
        message: 'externalId: gave no value for this event',
      },
    })
  })

  it(`fails an expression that runs longer than ${DEFAULT_MAPPING_TIMEOUT_MS} ms instead of holding the consumer`, async () => {
    const decode = decoderOf(
      `externalId: '($f := function($n) { $f($n + 1) }; $f(0))'\nurl: link\nfileName: title\n`,
    )
    expect(await decode(recordOf({}))).toMatchObject({
      failure: {
        reason: 'MAPPING_FAILED',
        field: 'externalId',
        message: expect.stringContaining('Evaluation timeout after 1000 milliseconds'),
      },
    })
  })
})
