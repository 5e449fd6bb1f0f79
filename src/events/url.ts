/**
 * The URL of a file as the import API gets it: a valid URI (RFC 3986) that means what the typed text
 * means to a WHATWG URL parser (browsers, Node's fetch, so most likely Livingdocs' downloader), with
 * every byte that is already valid kept as it is.
 *
 * The rule, for an absolute `http(s)://` URL:
 * 1. Surrounding spaces are dropped (as the WHATWG parser does); a control character anywhere, or a text
 *    the WHATWG parser refuses, makes the URL invalid.
 * 2. The host is the WHATWG parser's: lower case, internationalised names as IDNA A-labels (punycode,
 *    UTS #46: `bücher.example` → `xn--bcher-kva.example`), IPv6 in brackets, a default port dropped; a
 *    host RFC 3986 does not allow (the WHATWG parser lets `"`, `` ` ``, `{`, `}` through) is refused.
 * 3. Everything after the host (path, query, fragment) is kept byte for byte, except that each character
 *    RFC 3986 does not allow there is percent-encoded as its UTF-8 bytes (`%20` for a space, `%C3%9F`
 *    for ß): allowed are the unreserved and sub-delimiter characters, `:`, `@`, `/`, `?`, an existing
 *    escape `%` + two hex digits (never encoded again: no `%2520`), and one `#` that starts the fragment.
 *    So `+`, `'`, `=`, `&` and existing escapes of a signed query stay exactly as they were; a `%` that
 *    starts no escape becomes `%25`; `[`, `]`, `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}` and a
 *    second `#` are encoded.
 * 4. In the path only, a backslash is a slash, as the WHATWG parser reads it for http(s): `a\b` is `a/b`.
 *
 * Property-tested in test/unit/events/url.test.ts: the result is a valid URI, the rule is idempotent,
 * valid URIs come back unchanged, and percent-decoding the result gives back the typed text.
 *
 * @returns the URI, or the reason the text is no usable http(s) URL
 */
export function toRequestUrl(text: string): { ok: true; url: string } | { ok: false; message: string } {
  return PLAIN_URL.test(text) ? { ok: true, url: text } : parseRequestUrl(text)
}

/**
 * A URL the rule leaves exactly as it is, recognised without parsing it (most URLs of a legacy system):
 * `http` or `https` in lower case; a host name of lower-case ASCII letters, digits and hyphens whose last
 * label starts with a letter (never an IPv4 number form, which the WHATWG parser would rewrite) and
 * with no label an IDNA A-label (`xn--`, which the parser checks); no userinfo, no port; after the host
 * only characters RFC 3986 allows in a path and query, escapes of two hex digits, and no fragment.
 * Property-tested against {@link parseRequestUrl}: such a URL comes back from it unchanged.
 */
const PLAIN_URL =
  /^https?:\/\/(?:(?!xn--)[a-z0-9-]+\.)*(?!xn--)[a-z][a-z0-9-]*(?:[/?](?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?$/

/** {@link toRequestUrl} for any text: parses it with the WHATWG URL parser and applies the rule. */
export function parseRequestUrl(text: string): { ok: true; url: string } | { ok: false; message: string } {
  const trimmed = text.replace(/^ +| +$/g, '')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(trimmed))
    return { ok: false, message: 'must not contain control characters' }
  const parts = /^(https?):\/\/([^/?#\\]*)(.*)$/is.exec(trimmed)
  let parsed: URL
  try {
    parsed = new URL(trimmed)
  } catch {
    return { ok: false, message: 'must be an http(s) URL' }
  }
  if (parts === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.host === '')
    return { ok: false, message: 'must be an http(s) URL' }
  // The WHATWG parser lets a few characters through that RFC 3986 does not allow in a host (" ` { }).
  if (!VALID_HOST.test(parsed.host)) return { ok: false, message: 'must be an http(s) URL with a valid host' }
  const authority = parts[2] as string
  const at = authority.lastIndexOf('@')
  const userinfo = at < 0 ? '' : `${encodeInvalid(authority.slice(0, at), false)}@`
  return {
    ok: true,
    url: `${parsed.protocol}//${userinfo}${parsed.host}${encodeInvalid(parts[3] as string, true)}`,
  }
}

/** RFC 3986 §3.2.2: an IP literal in brackets or a reg-name (unreserved, sub-delims, escapes), a port. */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]+)?$/

/** RFC 3986 unreserved and sub-delims, plus `:`, `@`, `/`, `?` (pchar, query and fragment characters). */
const ALLOWED = new Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?")
const HEX = /^[0-9A-Fa-f]{2}$/

/**
 * Percent-encodes what RFC 3986 does not allow in `part`, keeping existing escapes. @param isRest the part
 * after the host: one `#` starts the fragment, and a backslash before the query is a slash
 */
function encodeInvalid(part: string, isRest: boolean): string {
  let out = ''
  let inPath = isRest
  let fragment = false
  for (let i = 0; i < part.length; i++) {
    const c = part[i] as string
    if (c === '%' && HEX.test(part.slice(i + 1, i + 3))) out += c
    else if (ALLOWED.has(c)) {
      if (c === '?') inPath = false
      out += c
    } else if (isRest && c === '#' && !fragment) {
      fragment = true
      inPath = false
      out += c
    } else if (inPath && c === '\\') out += '/'
    else {
      const codePoint = part.codePointAt(i) as number
      if (codePoint > 0xffff) i++
      // A lone surrogate has no UTF-8 form: U+FFFD, as the WHATWG URL parser writes it.
      const char = String.fromCodePoint(codePoint)
      const bytes = Buffer.from(char.isWellFormed() ? char : '\ufffd', 'utf8')
      for (const b of bytes) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`
    }
  }
  return out
}
