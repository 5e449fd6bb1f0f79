import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'

/** A static file server on 127.0.0.1 for the sample files (demo and tests). */
export interface FileServer {
  /** Base URL, e.g. `http://127.0.0.1:40123/files`. */
  url: string
  /** GET requests answered so far. */
  readonly requests: number
  close(): Promise<void>
}

/**
 * Serves `dir` under `/files` on 127.0.0.1 (port 0 picks a free one). Unknown files answer 404.
 * @throws Error when listening fails
 */
export async function startFileServer(dir: string, options: { port?: number } = {}): Promise<FileServer> {
  let requests = 0
  const app = express()
  app.use((_req, _res, next) => {
    requests++
    next()
  })
  app.use('/files', express.static(dir, { fallthrough: true, etag: false }))
  const server: Server = app.listen(options.port ?? 0, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/files`,
    get requests() {
      return requests
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
