import { connect, createServer, type Server, type Socket } from 'node:net'

/** A TCP proxy on 127.0.0.1 that can be closed (connections refused, open ones cut) and opened again. */
export interface TcpProxy {
  /** The port it listens on (the same after a stop and start). */
  readonly port: number
  /** Closes it: new connections are refused, open ones are cut. */
  stop(): Promise<void>
  /** Opens it again on the same port. */
  start(): Promise<void>
  close(): Promise<void>
}

/**
 * Starts a TCP proxy to `host:port`: a service taken away and brought back as a client sees it (a
 * broker's bootstrap address, a registry), without stopping the service itself.
 * @param options.open false to start closed (the port is taken and let go again: refused until `start`)
 */
export async function startTcpProxy(
  host: string,
  port: number,
  options: { open?: boolean } = {},
): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let server: Server | null = null
  let own = 0
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(port, host)
        for (const socket of [client, upstream]) {
          sockets.add(socket)
          socket.on('close', () => sockets.delete(socket))
          socket.on('error', () => {
            client.destroy()
            upstream.destroy()
          })
        }
        client.pipe(upstream).pipe(client)
      })
      s.once('error', reject)
      s.listen(own, '127.0.0.1', () => {
        own = (s.address() as { port: number }).port
        server = s
        resolve()
      })
    })
  const shut = async () => {
    const s = server
    server = null
    for (const socket of sockets) socket.destroy()
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }
  await open()
  if (options.open === false) await shut()
  return {
    get port() {
      return own
    },
    stop: shut,
    start: open,
    close: shut,
  }
}
