/**
 * Child processes of the benchmark and what Linux says about them (/proc, proc(5)): peak resident set
 * size (`VmHWM` in /proc/<pid>/status) and CPU time (`utime` + `stime` in /proc/<pid>/stat).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs'

/** Clock ticks per second of `utime`/`stime` (`getconf CLK_TCK`; 100 on every Linux x86-64 kernel). */
const CLK_TCK = 100

/** Peak RSS of `pid` so far, bytes (`VmHWM`). @throws Error when the process is gone */
export function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1]
  if (kb === undefined) throw new Error(`no VmHWM in /proc/${pid}/status`)
  return Number(kb) * 1024
}

/** CPU seconds `pid` used so far, user + system (`utime` + `stime`). @throws Error when the process is gone */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces) in parentheses; utime and stime are fields 14, 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}

/** A started child: its process, a promise of its exit code, and its stdout lines as they come. */
export interface Child {
  readonly name: string
  readonly process: ChildProcess
  readonly pid: number
  readonly exited: Promise<number | null>
  /** Resolves with the first stdout line for which `match` returns a value. @throws after `timeoutMs` */
  waitForLine<T>(match: (line: string) => T | undefined, timeoutMs: number): Promise<T>
  /** SIGTERM, then SIGKILL after `graceMs`. @returns the exit code (null when killed by a signal) */
  stop(graceMs?: number): Promise<number | null>
}

/**
 * Spawns `node <args>` with `env`, its stdout and stderr going straight into the file `logPath` (no pipe
 * through this process: a slow reader must not block the child's synchronous stdout writes).
 * `waitForLine` reads that file as it grows.
 * @throws Error when the process cannot be spawned
 */
export function spawnNode(
  name: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; logPath: string; cwd: string },
): Child {
  const fd = openSync(options.logPath, 'w')
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  if (child.pid === undefined) throw new Error(`cannot spawn ${name}`)
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code)
    })
  })
  // Lines of the log file already seen; each waiter scans from where it started.
  let read = 0
  let partial = ''
  const lines: string[] = []
  const readMore = () => {
    const size = statSync(options.logPath).size
    if (size <= read) return
    const buffer = Buffer.alloc(size - read)
    const rfd = openSync(options.logPath, 'r')
    try {
      readSync(rfd, buffer, 0, buffer.length, read)
    } finally {
      closeSync(rfd)
    }
    read = size
    const parts = (partial + buffer.toString('utf8')).split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
  }
  return {
    name,
    process: child,
    pid: child.pid,
    exited,
    async waitForLine<T>(match: (line: string) => T | undefined, timeoutMs: number): Promise<T> {
      const deadline = Date.now() + timeoutMs
      readMore()
      // Only output from now on counts (e.g. the answer to a signal sent after this call).
      let next = lines.length
      for (;;) {
        readMore()
        for (; next < lines.length; next++) {
          const value = match(lines[next] as string)
          if (value !== undefined) return value
        }
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(
            `${name} exited (${child.exitCode ?? child.signalCode}) before the expected output (log: ${options.logPath})`,
          )
        if (Date.now() > deadline)
          throw new Error(`${name}: no matching output within ${timeoutMs} ms (log: ${options.logPath})`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
    async stop(graceMs = 20_000): Promise<number | null> {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}

/** Parses a JSON log line, or undefined when it is not JSON. */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
}
