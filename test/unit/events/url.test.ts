// toRequestUrl: a file URL as the import API gets it: a valid URI, the typed text's meaning, and every
// byte that is already valid kept (the inputs, then properties over any text).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseRequestUrl, toRequestUrl } from '../../../src/events/url.ts'

/** RFC 3986 URI characters after the authority: pchar, "/", "?", one "#", and escapes. */
const VALID_REST =
  /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*(?:#(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$/

function url(text: string): string {
  const result = toRequestUrl(text)
  if (!result.ok) throw new Error(`refused ${text}: ${result.message}`)
  return result.url
}

/** Everything after scheme://host. */
const rest = (u: string) => u.replace(/^https?:\/\/[^/?#]*/, '')

describe('the issue’s URLs', () => {
  it('encodes spaces in the path', () => {
    expect(url('https://files.example.test/in box/report 2026.pdf')).toBe(
      'https://files.example.test/in%20box/report%202026.pdf',
    )
  })

  it('writes an international host as punycode and non-ASCII path characters as UTF-8 escapes', () => {
    expect(url('https://bücher.example.test/straße/Übersicht.pdf')).toBe(
      'https://xn--bcher-kva.example.test/stra%C3%9Fe/%C3%9Cbersicht.pdf',
    )
  })

  it('keeps existing escapes, "+" and a signed query byte for byte', () => {
    const signed =
      "https://bucket.example.test/a%20b/c+d.pdf?X-Amz-Credential=AK%2F2026%2Fs3&X-Amz-Signature=ab+cd%3D&q='x'"
    expect(url(signed)).toBe(signed)
    expect(url('https://h.example/already%2520double')).toBe('https://h.example/already%2520double')
  })
})

describe('the rule', () => {
  it.each([
    ['https://H.Example.TEST:443/x', 'https://h.example.test/x'],
    ['http://h.example:8080/x', 'http://h.example:8080/x'],
    ['  https://h.example/x  ', 'https://h.example/x'],
    ['https://h.example/100%', 'https://h.example/100%25'],
    ['https://h.example/a"b<c>d{e}|f^g`h', 'https://h.example/a%22b%3Cc%3Ed%7Be%7D%7Cf%5Eg%60h'],
    ['https://h.example/a[1]', 'https://h.example/a%5B1%5D'],
    ['https://h.example/dir\\file.pdf?a=\\', 'https://h.example/dir/file.pdf?a=%5C'],
    ['https://h.example/p#frag#more', 'https://h.example/p#frag%23more'],
    ['https://us er:p@ss@h.example/x', 'https://us%20er:p@ss@h.example/x'],
    ['https://[::1]:8443/x', 'https://[::1]:8443/x'],
    ['https://h.example/😀', 'https://h.example/%F0%9F%98%80'],
    ['https://h.example/\ud800', 'https://h.example/%EF%BF%BD'],
  ])('%s -> %s', (input, expected) => {
    expect(url(input)).toBe(expected)
  })

  it.each([
    ['ftp://h.example/x', 'must be an http(s) URL'],
    ['https:/h.example/x', 'must be an http(s) URL'],
    ['h.example/x', 'must be an http(s) URL'],
    ['https://', 'must be an http(s) URL'],
    ['https://h.example/a\nb', 'must not contain control characters'],
    ['https://h ost.example/', 'must be an http(s) URL'],
    ['http://a.a`aa.aaa', 'must be an http(s) URL with a valid host'],
  ])('%s is refused: %s', (input, message) => {
    expect(toRequestUrl(input)).toEqual({ ok: false, message })
  })
})

describe('properties over any text after the host', () => {
  // Any characters but controls: ASCII (with every delimiter), Latin, emoji, lone surrogates.
  const char = fc.oneof(
    fc.constantFrom(...' %+#?&=/\\[]"<>{}|^`\'@:!$()*,;~.-_'),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.constantFrom('%2', '%zz', '%41', '%C3%A4'),
  )
  const text = fc
    .array(char, { maxLength: 30 })
    .map((cs) => `/${cs.join('')}`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: controls are refused, tested above
    .filter((t) => !/[\u0000-\u001f\u007f]/.test(t) && !/ +$/.test(t))

  it('gives a valid URI, idempotently, and keeps valid input unchanged', () => {
    fc.assert(
      fc.property(text, (t) => {
        const once = url(`https://h.example${t}`)
        expect(rest(once)).toMatch(VALID_REST)
        expect(url(once)).toBe(once)
        if (VALID_REST.test(t)) expect(once).toBe(`https://h.example${t}`)
        // and a WHATWG parser reads it as the same URL it reads itself into
        expect(new URL(once).href).toBe(new URL(new URL(once).href).href)
      }),
      { numRuns: 500 },
    )
  })

  it('loses nothing: decoding the new escapes gives back the typed text', () => {
    // Typed text without "%" or "\" (kept or rewritten by design): decoding the result gives it back.
    fc.assert(
      fc.property(
        text.filter((t) => !t.includes('%') && !t.includes('\\') && t.isWellFormed()),
        (t) => {
          expect(decodeURIComponent(rest(url(`https://h.example${t}`)))).toBe(t)
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('the fast path for plain URLs', () => {
  // Hosts near the fast path's edges: IPv4 forms, A-labels, upper case, ports, userinfo, trailing dots.
  const label = fc.oneof(
    fc.stringMatching(/^[a-z0-9-]{1,8}$/),
    fc.constantFrom('xn--bcher-kva', 'xn--a', 'XN--a', 'Example', '0x7f', '127', '1', 'a'),
  )
  const host = fc
    .array(label, { minLength: 1, maxLength: 4 })
    .chain((labels) =>
      fc.constantFrom(
        labels.join('.'),
        `${labels.join('.')}.`,
        `${labels.join('.')}:80`,
        `${labels.join('.')}:443`,
        `u:p@${labels.join('.')}`,
      ),
    )
  const char = fc.oneof(
    fc.constantFrom(...' %+#?&=/\\[]"<>{}|^`\'@:!$()*,;~.-_'),
    fc.stringMatching(/^[A-Za-z0-9]$/),
    fc.constantFrom('%2', '%zz', '%41', '%C3%A4', 'ä'),
  )
  const after = fc.array(char, { maxLength: 20 }).map((cs) => cs.join(''))
  const input = fc
    .tuple(fc.constantFrom('http', 'https', 'HTTPS'), host, fc.constantFrom('', '/', '?'), after)
    .map(([scheme, h, start, tail]) => `${scheme}://${h}${start}${start === '' ? '' : tail}`)

  it('gives what parsing gives, for every input', () => {
    fc.assert(
      fc.property(input, (text) => {
        expect(toRequestUrl(text)).toEqual(parseRequestUrl(text))
      }),
      { numRuns: 3000 },
    )
  })

  it('keeps a plain URL as it is', () => {
    const plain = 'https://files.legacy.example/a/b-1_c.pdf?sig=a%2Bb&x=1'
    expect(parseRequestUrl(plain)).toEqual({ ok: true, url: plain })
    expect(toRequestUrl(plain)).toEqual({ ok: true, url: plain })
  })
})
