import { once } from 'node:events'
import { createServer, type IncomingMessage, request } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A running {@link startRoundRobinProxy}. */
export interface RoundRobinProxy {
  /** `http://127.0.0.1:PORT`, to use as the bridges' `WEBHOOK_PUBLIC_URL`. */
  url: string
  /** Requests passed to each target, in the order of `targets`. */
  readonly counts: number[]
  close(): Promise<void>
}

/**
 * A tiny HTTP reverse proxy that passes each request to the next of `targets` in turn, as a
 * Kubernetes Service spreads webhook calls over the replicas behind it (with one target: a proxy in
 * front of one service, e.g. to make it answer late). Method, path, headers and
 * body go through unchanged; the target's answer comes back unchanged; a target that cannot be
 * reached gives 502.
 *
 * @param targets base URLs such as `http://127.0.0.1:8080`
 * @param options.answerDelayMs how long to hold a request's answer once the target gave it, ms (0 or
 *   undefined: none): a service that did the work and answers late, as a loaded one does
 */
export async function startRoundRobinProxy(
  targets: string[],
  options: { answerDelayMs?: (req: IncomingMessage) => number } = {},
): Promise<RoundRobinProxy> {
  const counts = targets.map(() => 0)
  let next = 0
  const server = createServer((req, res) => {
    const index = next
    next = (next + 1) % targets.length
    counts[index] = (counts[index] ?? 0) + 1
    const target = new URL(req.url ?? '/', targets[index])
    const delayMs = options.answerDelayMs?.(req) ?? 0
    const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
      const pass = () => {
        if (res.destroyed) return answer.resume()
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }
      if (delayMs > 0) setTimeout(pass, delayMs)
      else pass()
    })
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' })
      res.end('{"error":"bad gateway"}')
    })
    req.pipe(upstream)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
