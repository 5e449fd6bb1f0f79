/**
 * Runs one of the project's commands (`scripts/*.ts`, `src/main.ts`) as a child process, as an operator
 * would from the project's root: the CLI tests' one way to start them.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { inject } from 'vitest'

/** The project's root folder (where `npm run` runs). */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url))

/**
 * Runs `node <script> <args>` from the project's root and waits for it to exit. Its environment holds
 * only `PATH`, the test's broker and registry (`KAFKA_BROKERS`, `SCHEMA_REGISTRY_URL`, from
 * `inject('kafka')`) and `env`, which wins. Node starts with `--disable-warning=TimeoutNegativeWarning`
 * as the npm scripts do. Killed after `timeoutMs` (default 60 000 ms); stdout and stderr are strings.
 */
export function runScript(
  script: string,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  const { brokers, schemaRegistryUrl } = inject('kafka')
  return spawnSync(process.execPath, ['--disable-warning=TimeoutNegativeWarning', script, ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      KAFKA_BROKERS: brokers.join(','),
      SCHEMA_REGISTRY_URL: schemaRegistryUrl,
      ...options.env,
    },
    timeout: options.timeoutMs ?? 60_000,
  })
}
