/**
 * Registering one of the project's schemas under a subject, as a step that any number of half-done
 * earlier runs cannot poison: every request is idempotent, and the subject ends in the same state
 * whatever an earlier start left (nothing; the schema registered and its compatibility level not set
 * because the answer timed out; the level set and the schema not yet registered).
 *
 * The Confluent Schema Registry REST API (Confluent's "Schema Registry API Reference"), as Apicurio's
 * ccompat API serves it: `POST /subjects/{subject}/versions` (an identical schema gets its existing id back),
 * `GET`/`PUT /config/{subject}`, `GET /config`.
 */

import { BridgeError } from '../errors.ts'

/** The level the bridge gives a subject of its own that has none (Confluent's "Schema Evolution and Compatibility"). */
export const SUBJECT_COMPATIBILITY = 'BACKWARD'

/**
 * Levels at least as strict as {@link SUBJECT_COMPATIBILITY}: each also checks that the new schema
 * reads data written with the previous one. A subject with one of these is left as it is.
 */
const AT_LEAST_BACKWARD = new Set(['BACKWARD', 'BACKWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'])

/** Content type of the registry's API (Confluent's API reference, "Content types"). */
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

/** What the registration did to the subject's compatibility level, for the start-up log. */
export interface Registered {
  /** The schema's id. */
  id: number
  /** The subject's compatibility level now. */
  compatibility: string
  /** The level it had when it was not the bridge's to keep (the registry's default), before it was set. */
  compatibilityBefore?: string
}

/**
 * Registers `schema` under `subject` and makes sure the subject checks new versions at least
 * {@link SUBJECT_COMPATIBILITY}: first the schema (an identical one returns its id), then the level,
 * which is set when the subject has none of its own. A level of its own that is weaker is kept (someone
 * chose it); a subject whose level equals the registry's global one counts as having none (Apicurio
 * reports the global level for a subject without one, where Confluent answers 404 `40408`), so a
 * subject left without a level by a start that timed out gets it at the next start.
 *
 * One attempt per request, each within `requestTimeoutMs`; the caller retries the whole step (src/retry-until.ts).
 *
 * @param url the registry's base URL, e.g. `http://host:8081` or `http://host:8080/apis/ccompat/v7`
 *   (user and password in the URL are sent as HTTP basic authentication)
 * @throws BridgeError `SCHEMA_REGISTRY_UNAVAILABLE` (retryable) for a timeout, a refused or broken
 *   connection, 408, 429 or 5xx; `CONFIG_INVALID` for any other refusal, e.g. 409 when the schema is not
 *   compatible with the subject's earlier versions, naming the subject and the registry's words
 */
export async function registerSchema(
  options: { url: string; requestTimeoutMs: number },
  subject: string,
  schema: Record<string, unknown>,
): Promise<Registered> {
  const call = registryCaller(options)
  const path = encodeURIComponent(subject)
  const { id } = (await call('POST', `/subjects/${path}/versions`, { schema: JSON.stringify(schema) })) as {
    id: number
  }
  const own = (await call('GET', `/config/${path}`, undefined, [404])) as {
    compatibilityLevel?: string
  } | null
  const level = own?.compatibilityLevel?.toUpperCase()
  if (level !== undefined && AT_LEAST_BACKWARD.has(level)) return { id, compatibility: level }
  if (level !== undefined) {
    const global = (await call('GET', '/config')) as { compatibilityLevel?: string }
    if (level !== global.compatibilityLevel?.toUpperCase()) return { id, compatibility: level }
  }
  await call('PUT', `/config/${path}`, { compatibility: SUBJECT_COMPATIBILITY })
  return {
    id,
    compatibility: SUBJECT_COMPATIBILITY,
    ...(level === undefined ? {} : { compatibilityBefore: level }),
  }
}

/**
 * One request to the registry's API: its JSON answer, null for a status in `absent`, or an error as
 * {@link registerSchema} describes.
 */
function registryCaller(options: { url: string; requestTimeoutMs: number }) {
  const base = new URL(options.url)
  const authorization =
    base.username === ''
      ? undefined
      : `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`
  base.username = ''
  base.password = ''
  const root = base.href.replace(/\/+$/, '')
  return async (method: string, path: string, body?: unknown, absent: number[] = []): Promise<unknown> => {
    const what = `${method} ${path}`
    let res: Response
    let text: string
    try {
      res = await fetch(`${root}${path}`, {
        method,
        headers: {
          accept: CONTENT_TYPE,
          ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }),
          ...(authorization === undefined ? {} : { authorization }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.requestTimeoutMs),
      })
      text = await res.text()
    } catch (err) {
      // No answer. `unreachable` says why, for the start-up message (registryCause in registry.ts).
      const timedOut = (err as Error).name === 'TimeoutError'
      const unreachable = timedOut ? 'timeout' : causeOf(err)
      // undici refuses the Fetch standard's bad ports (1, 22, 25 …) before any connection: the URL is
      // wrong, not the registry down (no retry).
      if (unreachable === 'bad port')
        throw new BridgeError('CONFIG_INVALID', `schema registry: ${what}: bad port`, {
          cause: err,
          context: { unreachable },
        })
      const reason = timedOut ? `no answer within ${options.requestTimeoutMs} ms` : unreachable
      throw new BridgeError('SCHEMA_REGISTRY_UNAVAILABLE', `schema registry: ${what}: ${reason}`, {
        retryable: true,
        cause: err,
        context: { unreachable },
      })
    }
    if (absent.includes(res.status)) return null
    if (res.ok) return JSON.parse(text) as unknown
    const answer = text.slice(0, 500)
    const message = `schema registry: ${what} answered ${res.status}: ${answer}`
    const context = { status: res.status, request: what, answer }
    if (res.status >= 500 || res.status === 408 || res.status === 429)
      throw new BridgeError('SCHEMA_REGISTRY_UNAVAILABLE', message, { retryable: true, context })
    throw new BridgeError('CONFIG_INVALID', message, { context })
  }
}

/** The system error under fetch's `TypeError: fetch failed` (`ECONNREFUSED`, `UND_ERR_SOCKET`, …). */
function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (err as Error).message
}
