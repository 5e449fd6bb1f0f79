import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Express } from 'express'

/** A listening HTTP server around an app. */
export interface HttpServer {
  /** The bound port (useful with port 0). */
  readonly port: number
  /** Stops accepting connections, closes idle keep-alive sockets and waits for requests in progress. */
  close(): Promise<void>
}

/** Keep-alive timeout of both ports, ms: above the 60 s idle timeout of the usual load balancers. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000

/**
 * Listens with `app` on `host:port` (port 0 picks a free port).
 * @throws Error (EADDRINUSE, EACCES) when the port cannot be bound
 */
export async function listen(app: Express, options: { host: string; port: number }): Promise<HttpServer> {
  const server: Server = createServer(app)
  // Longer than the idle timeout of the load balancers in front (60 s on the common ingress
  // controllers and cloud load balancers): the balancer closes an idle connection first, so it never
  // sends a request on a socket this server is closing at that moment (a 502 for a delivered webhook).
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
  // Node requires the headers timeout above the keep-alive timeout, or a request starting at the end
  // of the idle period could time out in its headers.
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      }),
  }
}
