// Registering the result schema converges from any half-done state, against a small registry over real HTTP
// that answers as Apicurio's ccompat API or as Confluent's does for a subject without a level of its own.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { BridgeError } from '../../../src/errors.ts'
import { createSchemaCodec } from '../../../src/registry/registry.ts'
import { registerSchema } from '../../../src/registry/schema-subject.ts'
import { freePort } from '../../support/free-port.ts'

const SCHEMA = { type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] }
const SUBJECT = 'results-value'

/** What the fake registry holds, and how it behaves. */
interface RegistryState {
  /** The registry's global level (Apicurio's default: NONE; Confluent's: BACKWARD). */
  global: string
  /** Levels set on subjects. */
  levels: Map<string, string>
  /** Schemas registered per subject. */
  versions: Map<string, string[]>
  /** How GET /config/{subject} answers for a subject without a level: the global one, or 404 40408. */
  style: 'apicurio' | 'confluent'
  /** Requests (method and path) to take but never answer; the work is done all the same. */
  hang: Set<string>
  /** Answer 409 to a registration (the schema breaks the subject's compatibility). */
  incompatible?: boolean
  requests: string[]
}

const servers: Array<ReturnType<typeof createServer>> = []
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    s.close()
  }
})

async function fakeRegistry(init: Partial<RegistryState> = {}) {
  const state: RegistryState = {
    global: 'NONE',
    levels: new Map(),
    versions: new Map(),
    style: 'apicurio',
    hang: new Set(),
    requests: [],
    ...init,
  }
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const path = decodeURIComponent(req.url ?? '')
    const what = `${req.method} ${path}`
    state.requests.push(what)
    const send = (status: number, answer: unknown) => {
      if (state.hang.delete(what)) return // taken, never answered
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' })
      res.end(JSON.stringify(answer))
    }
    const versions = path.match(/^\/subjects\/(.+)\/versions$/)
    const config = path.match(/^\/config\/(.+)$/)
    if (req.method === 'POST' && versions?.[1] !== undefined) {
      if (state.incompatible)
        return send(409, { error_code: 409, message: 'Schema being registered is incompatible' })
      const schema = (JSON.parse(body) as { schema: string }).schema
      const list = state.versions.get(versions[1]) ?? []
      if (!list.includes(schema)) list.push(schema)
      state.versions.set(versions[1], list)
      return send(200, { id: 40 + list.indexOf(schema) })
    }
    if (path === '/config' && req.method === 'GET') return send(200, { compatibilityLevel: state.global })
    if (config?.[1] !== undefined && req.method === 'PUT') {
      state.levels.set(config[1], (JSON.parse(body) as { compatibility: string }).compatibility)
      return send(200, JSON.parse(body))
    }
    if (config?.[1] !== undefined && req.method === 'GET') {
      const own = state.levels.get(config[1])
      if (own !== undefined) return send(200, { compatibilityLevel: own })
      if (!state.versions.has(config[1]))
        return send(404, { error_code: 40401, message: 'Subject not found' })
      if (state.style === 'confluent')
        return send(404, {
          error_code: 40408,
          message: 'Subject does not have subject-level compatibility configured',
        })
      return send(200, { compatibilityLevel: state.global })
    }
    send(404, { error_code: 404, message: 'not found' })
  })
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state }
}

/** The URL of a port nothing listens on (a server bound there was closed). */
const closedPortUrl = async () => `http://127.0.0.1:${await freePort()}`

const register = (url: string) => registerSchema({ url, requestTimeoutMs: 300 }, SUBJECT, SCHEMA)

describe('registerSchema', () => {
  it.each(['apicurio', 'confluent'] as const)(
    'a first registration (%s): the schema, then BACKWARD on the subject; again: the same id, nothing changed',
    async (style) => {
      const { url, state } = await fakeRegistry({ style })
      expect(await register(url)).toEqual({
        id: 40,
        compatibility: 'BACKWARD',
        compatibilityBefore: style === 'apicurio' ? 'NONE' : undefined,
      })
      expect(state.levels.get(SUBJECT)).toBe('BACKWARD')
      state.requests.length = 0
      expect(await register(url)).toEqual({ id: 40, compatibility: 'BACKWARD' })
      expect(state.requests.filter((r) => r.startsWith('PUT'))).toEqual([])
    },
  )

  it('the issue case: a registration that timed out after the schema was taken; the next start completes it', async () => {
    // Given a registry that takes the first registration and never answers it
    const { url, state } = await fakeRegistry({ hang: new Set([`POST /subjects/${SUBJECT}/versions`]) })
    // When the first start registers: it times out, as a retryable unavailability
    const first = await register(url).catch((e: unknown) => e)
    expect(first).toBeInstanceOf(BridgeError)
    expect(first).toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE', retryable: true })
    expect((first as Error).message).toMatch(/no answer within 300 ms/)
    // Then the subject holds the schema without a level of its own (Apicurio reports the global NONE)
    expect(state.versions.get(SUBJECT)).toHaveLength(1)
    expect(state.levels.has(SUBJECT)).toBe(false)
    // When the next start registers, it is not refused ("BACKWARD != NONE"): it gets the id and sets the level
    expect(await register(url)).toEqual({ id: 40, compatibility: 'BACKWARD', compatibilityBefore: 'NONE' })
    expect(state.levels.get(SUBJECT)).toBe('BACKWARD')
  })

  it('a level set when the config answer timed out is found set, and kept', async () => {
    const { url, state } = await fakeRegistry({ hang: new Set([`PUT /config/${SUBJECT}`]) })
    await expect(register(url)).rejects.toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE' })
    expect(state.levels.get(SUBJECT)).toBe('BACKWARD')
    state.requests.length = 0
    expect(await register(url)).toEqual({ id: 40, compatibility: 'BACKWARD' })
    expect(state.requests).toEqual([`POST /subjects/${SUBJECT}/versions`, `GET /config/${SUBJECT}`])
  })

  it.each([
    ['a stricter level', 'NONE', 'FULL_TRANSITIVE'],
    ['a weaker level that is not the global one (someone chose it)', 'BACKWARD', 'NONE'],
    ['FORWARD chosen on the subject', 'NONE', 'FORWARD'],
  ])('keeps %s', async (_what, global, own) => {
    const { url, state } = await fakeRegistry({ global, levels: new Map([[SUBJECT, own]]) })
    expect(await register(url)).toEqual({ id: 40, compatibility: own })
    expect(state.levels.get(SUBJECT)).toBe(own)
  })

  it('a schema the subject refuses (409) is a configuration problem naming the subject and the answer', async () => {
    const { url } = await fakeRegistry({ incompatible: true })
    const err = await register(url).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', retryable: false })
    expect((err as Error).message).toMatch(
      /POST \/subjects\/results-value\/versions answered 409: .*incompatible/,
    )
  })

  it('a refused connection is retryable, naming the system error', async () => {
    const err = await register(await closedPortUrl()).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE', retryable: true })
    expect((err as Error).message).toMatch(/ECONNREFUSED/)
  })
})

describe('SchemaCodec.register', () => {
  it('retries a timed-out registration until it converges, telling each wait', async () => {
    // Given a registry that takes the first registration and does not answer it
    const { url, state } = await fakeRegistry({ hang: new Set([`POST /subjects/${SUBJECT}/versions`]) })
    const codec = createSchemaCodec({ url, requestTimeoutMs: 300 })
    const waits: string[] = []
    // When registering with a deadline well ahead
    const id = await codec.register(SUBJECT, SCHEMA, {
      deadline: Date.now() + 30_000,
      onWait: (err) => waits.push((err as Error).message),
    })
    // Then it waited once, and the subject is complete
    expect(id).toBe(40)
    expect(waits).toEqual([expect.stringMatching(/no answer within 300 ms/)])
    expect(state.levels.get(SUBJECT)).toBe('BACKWARD')
  })

  it('gives up at its deadline with the last transient error', async () => {
    const codec = createSchemaCodec({ url: await closedPortUrl(), requestTimeoutMs: 300 })
    let waits = 0
    const err = await codec
      .register(SUBJECT, SCHEMA, { deadline: Date.now() + 1500, onWait: () => waits++ })
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE' })
    expect(waits).toBeGreaterThanOrEqual(1)
  })
})
