import { readFileSync } from 'node:fs'
import { MIN_ADMIN_TOKEN_LENGTH } from './admin/admin-token.ts'

/**
 * The secrets of the configuration, each given as a value or as a file (a mounted Kubernetes
 * Secret): the Livingdocs access token, the webhook HMAC key and the admin token. Problems are pushed to `problems`
 * naming the setting, never the value.
 */

/**
 * `LIVINGDOCS_ACCESS_TOKEN` or `LIVINGDOCS_ACCESS_TOKEN_FILE` (one of the two; the file's content
 * trimmed). @returns the token, or undefined after pushing a problem
 */
export function readAccessToken(
  e: { LIVINGDOCS_ACCESS_TOKEN?: string | undefined; LIVINGDOCS_ACCESS_TOKEN_FILE?: string | undefined },
  problems: string[],
): string | undefined {
  const token = readOptionalSecret(e, 'LIVINGDOCS_ACCESS_TOKEN', 0, problems)
  if (e.LIVINGDOCS_ACCESS_TOKEN === undefined && e.LIVINGDOCS_ACCESS_TOKEN_FILE === undefined) {
    problems.push('LIVINGDOCS_ACCESS_TOKEN: is required (or LIVINGDOCS_ACCESS_TOKEN_FILE)')
  }
  return token
}

/** Least time between two reads of the token file after 401/403 answers, ms: a burst of them reads it once. */
export const TOKEN_REREAD_INTERVAL_MS = 5_000

/** The access token the import client sends, re-read from its file when the API refuses it. */
export interface AccessToken {
  /** The token to send now. */
  readonly value: string
  /**
   * Reads the token file again (after a 401 or 403): at most once every `minIntervalMs`, and never when the
   * token was given as a value. An unreadable or empty file keeps the current token.
   * @returns true when the file now holds another token, which {@link value} returns from now on
   */
  reread(nowMs?: number): boolean
}

/**
 * The access token of `LIVINGDOCS_ACCESS_TOKEN` (fixed) or `LIVINGDOCS_ACCESS_TOKEN_FILE` (a mounted
 * Kubernetes Secret, which the kubelet replaces in place when the Secret changes): `initial` is the
 * value `readAccessToken` read at start-up. The token is never logged.
 */
export function accessTokenSource(
  initial: string,
  file: string | undefined,
  options: { minIntervalMs?: number } = {},
): AccessToken {
  const minIntervalMs = options.minIntervalMs ?? TOKEN_REREAD_INTERVAL_MS
  let value = initial
  let lastReadAt = Number.NEGATIVE_INFINITY
  return {
    get value() {
      return value
    },
    reread(nowMs = Date.now()) {
      if (file === undefined || nowMs - lastReadAt < minIntervalMs) return false
      lastReadAt = nowMs
      let read: string
      try {
        read = readFileSync(file, 'utf8').trim()
      } catch {
        return false
      }
      if (read === '' || read === value) return false
      value = read
      return true
    },
  }
}

/** Shortest accepted webhook secret, in characters (an HMAC key should not be guessable). */
const MIN_WEBHOOK_SECRET_LENGTH = 16

/**
 * `WEBHOOK_SECRET` or `WEBHOOK_SECRET_FILE` (a mounted Secret), required when `WEBHOOK_PUBLIC_URL` is
 * set: without it webhooks could not be authenticated. Problems name the setting, never the value.
 */
export function readWebhookSecret(
  env: Record<string, string | undefined>,
  problems: string[],
): string | undefined {
  const secret = readOptionalSecret(env, 'WEBHOOK_SECRET', MIN_WEBHOOK_SECRET_LENGTH, problems)
  if (
    env.WEBHOOK_PUBLIC_URL !== undefined &&
    env.WEBHOOK_SECRET === undefined &&
    env.WEBHOOK_SECRET_FILE === undefined
  ) {
    problems.push(
      'WEBHOOK_SECRET: is required when WEBHOOK_PUBLIC_URL is set (or WEBHOOK_SECRET_FILE); it authenticates the webhooks',
    )
  }
  return secret
}

/**
 * `ADMIN_TOKEN` or `ADMIN_TOKEN_FILE` (a mounted Secret): the bearer token of the admin API on the
 * operations port (src/admin/). Optional: without it the admin routes do not exist. At least
 * `MIN_ADMIN_TOKEN_LENGTH` (16) characters. Problems name the setting, never the value.
 */
export function readAdminToken(
  env: Record<string, string | undefined>,
  problems: string[],
): string | undefined {
  return readOptionalSecret(env, 'ADMIN_TOKEN', MIN_ADMIN_TOKEN_LENGTH, problems)
}

/**
 * The secret of setting `name`, given as `name` or as the file `name_FILE` (one of the two; the file's
 * content trimmed), of at least `minLength` characters. @returns undefined when neither is set, or after
 * pushing a problem
 */
function readOptionalSecret(
  env: Record<string, string | undefined>,
  name: string,
  minLength: number,
  problems: string[],
): string | undefined {
  const value = env[name]
  const file = env[`${name}_FILE`]
  if (value !== undefined && file !== undefined) {
    problems.push(`${name}: set either ${name} or ${name}_FILE, not both`)
    return undefined
  }
  let secret = value
  if (file !== undefined) {
    try {
      secret = readFileSync(file, 'utf8').trim()
    } catch (err) {
      problems.push(`${name}_FILE: cannot read the file (${(err as NodeJS.ErrnoException).code})`)
      return undefined
    }
  }
  const setting = file === undefined ? name : `${name}_FILE`
  if (file !== undefined && secret === '') {
    problems.push(`${setting}: the file is empty`)
    return undefined
  }
  if (secret === undefined) return undefined
  if (secret.length < minLength) {
    problems.push(`${setting}: must be at least ${minLength} characters`)
    return undefined
  }
  return secret
}
