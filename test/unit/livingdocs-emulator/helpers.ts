// Test helpers: a tiny file server, a webhook receiver, an API client and polling.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import type { RunningLivingdocsEmulator } from '../../support/livingdocs-emulator/index.ts'

/**
 * A node:http file server on 127.0.0.1: `/files/<name>` serves what `put` stored (with its content type,
 * none when `null`), `/slow` never answers, else 404.
 */
export const startFileServer = async () => {
  const contents = new Map<string, { body: string | Uint8Array; contentType: string | null }>()
  const server = createServer((req, res) => {
    const path = req.url ?? '/'
    if (path === '/slow') return // never answers: download timeout
    const name = path.startsWith('/files/') ? decodeURIComponent(path.slice('/files/'.length)) : undefined
    const file = name === undefined ? undefined : contents.get(name)
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    res.writeHead(200, file.contentType === null ? {} : { 'content-type': file.contentType }).end(file.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    base,
    /** Sets the bytes served at `/files/<name>` and their content type (default `application/pdf`); returns the URL. */
    put: (name: string, body: string | Uint8Array, contentType: string | null = 'application/pdf') => {
      contents.set(name, { body, contentType })
      return `${base}/files/${encodeURIComponent(name)}`
    },
    urlOf: (name: string) => `${base}/files/${encodeURIComponent(name)}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * A webhook receiver on 127.0.0.1 that records each body (parsed as JSON whatever the content type, and as
 * text) and the headers, and answers `status` (default 204).
 */
export const startWebhookReceiver = async () => {
  const received: { body: unknown; text: string; headers: Record<string, unknown> }[] = []
  const state = { status: 204 }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      received.push({ body: JSON.parse(text), text, headers: { ...req.headers } })
      res.writeHead(state.status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    state,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export const waitFor = async <T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 5000, intervalMs = 10, what = 'condition' } = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}

export type ApiAnswer = { status: number; headers: Record<string, unknown>; body: Record<string, unknown> }

/** A small client of one import's two endpoints (`files`, `images` or `videos`). */
export const apiClient = (
  emu: Pick<RunningLivingdocsEmulator, 'url' | 'token' | 'apiVersion'>,
  version = emu.apiVersion,
  kind: 'files' | 'images' | 'videos' = 'files',
) => {
  const base = `${emu.url}/api/${version}/import/${kind}`
  const call = async (
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    { token = emu.token as string | null, body }: { token?: string | null; body?: unknown } = {},
  ): Promise<ApiAnswer> => {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' }
    if (token !== null) headers.authorization = `Bearer ${token}`
    const res = await request(url, {
      method,
      headers,
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    })
    const text = await res.body.text()
    return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : {} }
  }
  const client = {
    base,
    post: (body: unknown, opts: { token?: string | null } = {}) => call('POST', base, { ...opts, body }),
    status: (id: string, opts: { token?: string | null } = {}) =>
      call('GET', `${base}/status?id=${encodeURIComponent(id)}`, opts),
    get: (url: string, opts: { token?: string | null } = {}) => call('GET', url, opts),
    patch: (url: string, body: unknown, opts: { token?: string | null } = {}) =>
      call('PATCH', url, { ...opts, body }),
    /** The media library's base URL of this version: `<url>/api/<version>/mediaLibrary`. */
    library: `${emu.url}/api/${version}/mediaLibrary`,
    /** POSTs and returns the job id; fails the test on a non-200. */
    start: async (body: unknown): Promise<string> => {
      const res = await client.post(body)
      if (res.status !== 200) throw new Error(`POST answered ${res.status}: ${JSON.stringify(res.body)}`)
      return res.body.id as string
    },
    /** Polls the status until `finished: true` and returns the body. Polling: the job runs in the emulator. */
    waitFinished: (id: string, timeoutMs = 5000) =>
      waitFor(
        async () => {
          const res = await client.status(id)
          return res.body.finished === true ? res.body : undefined
        },
        { timeoutMs, what: `job ${id} to finish` },
      ),
  }
  return client
}

/** A batch entry with defaults (`mediaType` left out, as the files page's curl example does). */
export const fileEntry = (id: string, url: string, extra: Record<string, unknown> = {}) => ({
  id,
  url,
  fileName: `File ${id}`,
  metadata: { title: `Title ${id}` },
  ...extra,
})
