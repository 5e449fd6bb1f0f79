import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { testBridgeDefaults } from './bridge-harness.ts'
import { freePort } from './free-port.ts'
import { type LogLine, LogLines } from './log-lines.ts'

const ROOT = resolve(import.meta.dirname, '../..')

/** How a bridge child process ended. */
export interface BridgeExit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** The bridge as a real child process, `node src/main.ts`, configured by its environment. */
export interface BridgeProcess {
  readonly child: ChildProcess
  /** The JSON log lines written to stdout so far, parsed. */
  readonly logs: LogLines
  /** `http://127.0.0.1:<METRICS_PORT>/metrics` (the port is read from the "bridge started" log line). */
  readonly metricsUrl: string
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<BridgeExit>
  /** Sends `signal` (e.g. `SIGTERM`, `SIGKILL`) to the process. */
  kill(signal: NodeJS.Signals): void
  /** Resolves once a log line's `msg` equals `msg`. @throws Error after `timeoutMs` or when the process exits */
  waitForLog(msg: string, timeoutMs: number): Promise<LogLine>
}

/**
 * Spawns `node src/main.ts` with `env` (the bridge's settings, see the README) plus test defaults: small
 * batches, short linger, poll and commit intervals, a free webhook port (the webhook URL points at it),
 * a random metrics port, and a 10 s session timeout so a killed member's partitions move on quickly.
 * Resolves once the bridge logged "bridge started".
 *
 * @param nodeArgs node's own flags before the script (default: the warning the npm scripts silence; the
 *   image's flags for a test of memory as deployed)
 * @throws Error with the process's stderr when it exits before starting, or after `startTimeoutMs`
 */
export async function startBridgeProcess(
  env: Record<string, string>,
  startTimeoutMs = 60_000,
  nodeArgs: string[] = ['--disable-warning=TimeoutNegativeWarning'],
): Promise<BridgeProcess> {
  const child = spawn(process.execPath, [...nodeArgs, 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      ...testBridgeDefaults(await freePort()),
      SHUTDOWN_GRACE_MS: '10000',
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs = new LogLines()
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')))
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  let hasExited = false
  const exited = once(child, 'exit').then(([code, signal]) => {
    hasExited = true
    return { code, signal } as BridgeExit
  })
  const waitForLog = (msg: string, timeoutMs: number) =>
    logs.waitFor(msg, timeoutMs, () =>
      hasExited ? `the bridge exited; stderr: ${stderr.slice(-2000)}` : undefined,
    )
  let started: LogLine
  try {
    started = await waitForLog('bridge started', startTimeoutMs)
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
  return {
    child,
    logs,
    metricsUrl: `http://127.0.0.1:${String(started.metricsPort)}/metrics`,
    exited,
    kill: (signal) => {
      if (!hasExited) child.kill(signal)
    },
    waitForLog,
  }
}
