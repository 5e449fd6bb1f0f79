import { createHash, timingSafeEqual } from 'node:crypto'

/** Shortest accepted admin token, in characters (a bearer token should not be guessable). */
export const MIN_ADMIN_TOKEN_LENGTH = 16

/**
 * True when the `Authorization` header is `Bearer <expected>` (RFC 6750 §2.1; the scheme is
 * case-insensitive, RFC 9110 §11.1). Compared in constant time: both sides are hashed with SHA-256 first,
 * so `timingSafeEqual` compares equal lengths and the time taken tells nothing about the token, not
 * even its length. Neither the header nor the token is ever logged.
 */
export function bearerMatches(expected: string, header: string | undefined): boolean {
  const match = /^bearer[ ]+(\S+)\s*$/i.exec(header ?? '')
  const given = match?.[1] ?? ''
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b) && given !== ''
}
