import { spawn } from 'node:child_process'

/** How a child process ended, and what it printed. */
export interface ProcessRun {
  /** Its exit code; null when a signal ended it (e.g. the kill after `timeoutMs`). */
  code: number | null
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** True when it was killed for running longer than `timeoutMs`. */
  timedOut: boolean
}

/**
 * Runs `command args` without a terminal (stdin closed, or fed `input` and then closed) and collects its
 * output, without blocking the test's own process (a bridge in it keeps working meanwhile, unlike with
 * `spawnSync`).
 * @param options.input written to its standard input, which is then closed; without it, stdin is closed
 * @param options.timeoutMs then it is killed (SIGKILL) and `timedOut` is true; default 120000
 */
export async function runProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<ProcessRun> {
  const child = spawn(command, args, {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: options.env }),
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString('utf8')
  })
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString('utf8')
  })
  if (options.input !== undefined) child.stdin?.end(options.input)
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 120_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
    child.on('close', (c, s) => done([c, s])),
  )
  clearTimeout(timer)
  return { code, signal, stdout, stderr, timedOut }
}
