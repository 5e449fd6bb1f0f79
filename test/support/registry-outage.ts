import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ProvidedKafka } from './global-setup.ts'
import { startTcpProxy } from './tcp-proxy.ts'

/** A way to take the schema registry away from the bridge under test and bring it back. */
export interface RegistryOutage {
  /** The registry URL to give the bridge. */
  readonly url: string
  /** What an outage is here: a real registry stop, or a refusing proxy (see {@link createRegistryOutage}). */
  readonly kind: 'stack-stop' | 'proxy'
  stop(): Promise<void>
  start(): Promise<void>
  /** Ends the outage if one is running and releases the proxy. */
  close(): Promise<void>
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/**
 * On the local stack, a real outage: `scripts/stack stop registry` (the JVM exits; its H2 file keeps
 * every schema) and `scripts/stack start` (ports from the STACK_* variables this process inherited).
 * With brokers from the environment or testcontainers the registry is not ours to stop, so the bridge
 * talks to it through a TCP proxy on 127.0.0.1 that `stop` closes (connections refused, open ones
 * cut) and `start` opens again on the same port: the same failure as seen from the bridge.
 */
export async function createRegistryOutage(kafka: ProvidedKafka): Promise<RegistryOutage> {
  if (kafka.source === 'local-stack') {
    let down = false
    const start = async () => {
      await runStack(['start'])
      down = false
    }
    return {
      url: kafka.schemaRegistryUrl,
      kind: 'stack-stop',
      async stop() {
        down = true
        await runStack(['stop', 'registry'])
      },
      start,
      async close() {
        if (down) await start()
      },
    }
  }
  const target = new URL(kafka.schemaRegistryUrl)
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 80))
  return {
    url: `http://127.0.0.1:${proxy.port}${target.pathname.replace(/\/+$/, '')}`,
    kind: 'proxy',
    stop: proxy.stop,
    start: proxy.start,
    close: proxy.close,
  }
}

function runStack(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('scripts/stack', args, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`scripts/stack ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`)),
    )
  })
}
