// No event can stall the consumer through its mapping: each kind of runaway expression ends as that
// event's MAPPING_FAILED, naming the field and why, and the next event maps as before.

import jsonata from 'jsonata'
import { describe, expect, it } from 'vitest'
import { DEFAULT_MEDIA_KINDS } from '../../../src/events/media-kind.ts'
import { compileMapping, loadMappingOrThrow } from '../../../src/mapping/compile.ts'
import {
  jsonataOptions,
  LinearRegExp,
  MAX_SEQUENCE,
  MAX_STRING_CHARS,
} from '../../../src/mapping/guardrails.ts'
import { createMappedDecoder } from '../../../src/mapping/mapped-decoder.ts'
import { tempFile } from '../../support/mapping-example.ts'
import { recordOf, unusedCodec } from './helpers.ts'

const OPTIONS = { defaultSystemName: 'fallback', mediaKinds: DEFAULT_MEDIA_KINDS }

/** A decoder whose `fileName` is `expression` (the other fields plain). */
function decoderWithFileName(expression: string) {
  const yaml = `externalId: id\nurl: link\nfileName: ${JSON.stringify(expression)}\n`
  return createMappedDecoder(unusedCodec, OPTIONS, loadMappingOrThrow(tempFile('m.yaml', yaml)))
}

const EVENT = { id: '1', link: 'https://f.example/a.pdf', title: 'a.pdf', n: 30 }

describe('a runaway mapping expression', () => {
  // Each runs away only for an event with n > 0; the same mapping maps an event with n = 0 as usual.
  it.each([
    // kind, expression, what the message says
    [
      'a recursion that is not a tail call',
      '($f := function($k) { 1 + $f($k + 1) }; $f(0))',
      /Stack overflow|stack/i,
    ],
    ['a range of the event’s size', '$string($count([1..n * 1000000]))', /D2014|D2015/],
    [
      'a sequence grown past its bound',
      '$string($count($append([1..n * 2000], [1..n * 2000])))',
      /sequence length .*D2015/,
    ],
    [
      'an endless loop',
      '($f := function($k) { $f($k + 1) }; $f(0))',
      /Evaluation timeout after 1000 milliseconds/,
    ],
    [
      'a string doubled in a loop',
      '($d := function($s, $k) { $k = 0 ? $s : $d($s & $s, $k - 1) }; $d(title, n))',
      /built a string of \d+ characters, more than 4194304/,
    ],
    ['$pad to a width from the event', '$pad(title, n * 1000000)', /\$pad to 30000000 characters/],
    ['$join of many long copies', '$join([1..n].($pad($$.title, 200000)), ",")', /\$join of \d+ characters/],
  ])('%s ends as MAPPING_FAILED naming the field; the next event maps', async (_kind, runaway, message) => {
    const decode = decoderWithFileName(`n = 0 ? title : (${runaway})`)
    const result = await decode(recordOf(EVENT))
    expect(result).toMatchObject({ ok: false, failure: { reason: 'MAPPING_FAILED', field: 'fileName' } })
    expect((result as { failure: { message: string } }).failure.message).toMatch(message)
    expect(await decode(recordOf({ ...EVENT, n: 0, title: 'b.pdf' }))).toMatchObject({
      ok: true,
      event: { fileName: 'b.pdf' },
    })
  })

  it('a result too large to serialise, built without a function, ends as MAPPING_FAILED before it is', async () => {
    // Given metadata that repeats the event's 500 kB field n times (no string is ever copied: each item
    // refers to the same one; n = 30 serialises to 15 MB, n = 90,000 to 45 GB)
    const yaml = `externalId: id\nurl: link\nfileName: title\nmetadata: '{"copies": [1..n].($$.body)}'\n`
    const decode = createMappedDecoder(unusedCodec, OPTIONS, loadMappingOrThrow(tempFile('m.yaml', yaml)))
    const result = await decode(recordOf({ ...EVENT, body: 'b'.repeat(500_000) }))
    // Then it is refused by its size, naming the field
    expect(result).toMatchObject({
      ok: false,
      failure: {
        reason: 'MAPPING_FAILED',
        field: 'metadata',
        message: `metadata: gave more than ${MAX_STRING_CHARS} characters of text`,
      },
    })
  })

  it('a pathological regular expression on a long value runs in linear time and gives the right answer', async () => {
    // Given /^(a+)+$/, which makes a backtracking engine try 2^n ways on "aaa…a!" (n = 40: hours)
    const decode = decoderWithFileName('$contains(title, /^(a+)+$/) ? "catastrophic.pdf" : "linear.pdf"')
    // When the event's title is 40 a's and a "!" (no match), or 40 a's (a match)
    const miss = await decode(recordOf({ ...EVENT, title: `${'a'.repeat(40)}!` }))
    const hit = await decode(recordOf({ ...EVENT, title: 'a'.repeat(40) }))
    // Then both are answered, as a RegExp would answer them
    expect(miss).toMatchObject({ ok: true, event: { fileName: 'linear.pdf' } })
    expect(hit).toMatchObject({ ok: true, event: { fileName: 'catastrophic.pdf' } })
  })

  it.each([
    '$match(title, /(\\w)(\\d)?/i)',
    '$match(title, /^f/im, 1)',
    '$replace(title, /o/, "0")',
    '$replace(title, /(\\w+)\\.(\\w+)/, "$2-$1")',
    '$split(title, /[.]/)',
    '$contains(title, /B\\d/i)',
    '$match("é😀é\\nline", /é|^l/m)',
    'title ~> /o+/',
  ])('%s gives with the linear engine what it gives with JavaScript RegExp', async (expression) => {
    const input = { title: 'Foo.b1.pdf' }
    const native = await jsonata(expression).evaluate(input)
    const linear = await jsonata(expression, jsonataOptions({ timeoutMs: 1000 })).evaluate(input)
    expect(JSON.stringify(linear)).toBe(JSON.stringify(native))
    expect(native).toBeDefined()
  })

  it('refuses at start-up a regular expression the linear engine cannot run, naming the field', () => {
    const problems: string[] = []
    compileMapping({ externalId: 'id', url: 'link', fileName: '$replace(title, /(a)\\1/, "")' }, problems)
    expect(problems).toEqual([
      expect.stringMatching(/^fileName: regular expression \/\(a\)\\1\/ cannot run in linear time/),
    ])
  })

  it('has the bounds docs/mapping.md states', () => {
    expect([MAX_SEQUENCE, MAX_STRING_CHARS]).toEqual([100_000, 4 * 1024 * 1024])
  })
})

describe('LinearRegExp', () => {
  it('moves lastIndex past each match, and back to 0 after the last, as a g RegExp does', () => {
    const native = /a./g
    const linear = new LinearRegExp(/a./g)
    const steps = (re: { exec(s: string): RegExpExecArray | null; lastIndex: number }) =>
      [0, 1, 2].map(() => {
        const m = re.exec('xa1a2')
        return [m?.[0], m?.index, re.lastIndex]
      })
    expect(steps(linear)).toEqual(steps(native))
  })
})
