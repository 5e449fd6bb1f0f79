// A node:http server answering each request with the next scripted reply, for unit tests of HTTP clients.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'vitest'
import { ApiError } from '../../src/errors.ts'

/** A request the server received. */
export interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  at: number
}

export type Reply = (req: Received, res: ServerResponse) => void

/** A server answering each request with the next scripted reply (the last one repeats). */
export interface ScriptedServer {
  base: string
  received: Received[]
  script(...replies: Reply[]): void
  close(): Promise<void>
}

export async function startServer(): Promise<ScriptedServer> {
  let replies: Reply[] = [json(500, { error: 'no script' })]
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      }
      const reply = replies[Math.min(received.length, replies.length - 1)] as Reply
      received.push(r)
      reply(r, res)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    received,
    script(...next) {
      replies = next
    },
    async close() {
      server.closeAllConnections()
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(body === undefined ? '' : JSON.stringify(body))
  }
}

/** What `promise` rejects with, which must be an {@link ApiError} (the test fails otherwise). */
export async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError)
    return err as ApiError
  }
  throw new Error('expected a rejection')
}
