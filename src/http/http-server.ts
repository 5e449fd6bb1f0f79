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

/**
 * Listens with `app` on `host:port` (port 0 picks a free port).
 * @throws Error (EADDRINUSE, EACCES) when the port cannot be bound
 */
export async function listen(app: Express, options: { host: string; port: number }): Promise<HttpServer> {
  const server: Server = createServer(app)
  server.keepAliveTimeout = 5_000
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
