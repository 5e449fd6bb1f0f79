// `npm run redrive` as a user runs it: a child process (not spawnSync: a bridge in the test's own
// process must keep consuming while it runs).
import { runProcess } from './run-process.ts'
import { projectRoot } from './run-script.ts'

/** How a run of the redrive CLI ended, and what it printed. */
export interface RedriveRun {
  code: number | null
  stdout: string
  stderr: string
  /** The last line of stdout: the summary. */
  summary: string
}

/**
 * Runs `node scripts/redrive.ts ...args` with `env` (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, topics) and
 * no terminal (so no progress bar).
 * @throws Error when it has not exited after `timeoutMs` (it is killed)
 */
export async function runRedrive(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<RedriveRun> {
  const run = await runProcess(
    process.execPath,
    ['--disable-warning=TimeoutNegativeWarning', 'scripts/redrive.ts', ...args],
    { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', ...env }, timeoutMs },
  )
  if (run.timedOut)
    throw new Error(`redrive ${args.join(' ')}: no exit after ${timeoutMs} ms\n${run.stdout}\n${run.stderr}`)
  const { code, stdout, stderr } = run
  return { code, stdout, stderr, summary: stdout.trimEnd().split('\n').at(-1) ?? '' }
}
