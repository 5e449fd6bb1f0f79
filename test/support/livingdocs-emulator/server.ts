// Listening wrapper around createLivingdocsEmulator.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { LivingdocsEmulator } from './app.ts'
import { createLivingdocsEmulator } from './app.ts'
import type { LivingdocsEmulatorOptions } from './types.ts'

/** Options of {@link startLivingdocsEmulator}: the emulator options plus where to listen. */
export type StartLivingdocsEmulatorOptions = LivingdocsEmulatorOptions & {
  /** Default `127.0.0.1`. */
  host?: string
  /** Default 0 (a free port). */
  port?: number
}

/** A running emulator. */
export type RunningLivingdocsEmulator = Omit<LivingdocsEmulator, 'app' | 'shutdown'> & {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:41234`; requests go to `${url}/api/${apiVersion}/import/files`. */
  url: string
  port: number
  server: Server
  /**
   * Stops: cancels running jobs and waits for them, closes every connection (also idle keep-alive ones) and the
   * server. Safe to call twice.
   */
  close: () => Promise<void>
}

/**
 * Starts the emulator on `host`:`port`.
 * @returns the base URL, token, API version and controls (see {@link LivingdocsEmulator})
 * @throws Error when listening fails (e.g. EADDRINUSE) or the options are invalid
 */
export const startLivingdocsEmulator = async (
  options: StartLivingdocsEmulatorOptions = {},
): Promise<RunningLivingdocsEmulator> => {
  const { host = '127.0.0.1', port = 0, ...rest } = options
  const emulator = createLivingdocsEmulator(rest)
  const server = emulator.app.listen(port, host)
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  const address = server.address() as AddressInfo
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      await emulator.shutdown()
      server.closeAllConnections()
      await closed
    })()
    return closing
  }
  const { app: _app, shutdown: _shutdown, ...controls } = emulator
  return { ...controls, url: `http://${urlHost}:${address.port}`, port: address.port, server, close }
}
