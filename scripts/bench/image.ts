import { readFileSync } from 'node:fs'

/**
 * The Node.js command-line flags of the image's entry command: the elements between `node` and the
 * script in the Dockerfile's last exec-form `CMD ["node", ...flags, "dist/main.js"]` (the runtime
 * stage's; a HEALTHCHECK's `CMD` is not one). The bench starts the bridge with them in the runs that
 * stand for a deployment, so that it measures what the image runs.
 *
 * @param dockerfile the Dockerfile's text
 * @returns the flags, e.g. `['--heap-growing-percent=100', '--enable-source-maps']`
 * @throws Error when there is no exec-form `CMD` starting with `node`, or it names no script
 */
export function imageNodeFlags(dockerfile: string): string[] {
  const commands = [...dockerfile.matchAll(/^CMD\s+(\[.*\])\s*$/gm)]
  const last = commands.at(-1)?.[1]
  if (last === undefined) throw new Error('Dockerfile: no exec-form CMD ["node", ...]')
  const argv = JSON.parse(last) as unknown
  if (!Array.isArray(argv) || argv[0] !== 'node' || !argv.every((a) => typeof a === 'string'))
    throw new Error(`Dockerfile: the last CMD is not ["node", ...]: ${last}`)
  const script = argv.findIndex((a: string, i) => i > 0 && !a.startsWith('-'))
  if (script === -1) throw new Error(`Dockerfile: the last CMD names no script: ${last}`)
  return argv.slice(1, script) as string[]
}

/** {@link imageNodeFlags} of the project's Dockerfile. @throws as imageNodeFlags, or when it cannot be read */
export function projectImageNodeFlags(): string[] {
  return imageNodeFlags(projectDockerfile())
}

/**
 * {@link imageNodeOptions} of the project's Dockerfile: what the chart sets at its default memory limit
 * too (scripts/check-deploy checks that they agree). @throws when the Dockerfile cannot be read
 */
export function projectImageNodeOptions(): string {
  return imageNodeOptions(projectDockerfile())
}

function projectDockerfile(): string {
  return readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8')
}

/**
 * The NODE_OPTIONS the image gives a run without the chart: the value of the Dockerfile's last
 * `ENV NODE_OPTIONS="..."` line (the runtime stage's). The chart replaces it with its own, derived from
 * the pod's memory limit; scripts/check-deploy checks that both agree at the chart's default limit.
 *
 * @param dockerfile the Dockerfile's text
 * @returns the options, e.g. `--max-old-space-size=256 --max-semi-space-size=16`; '' when none is set
 */
export function imageNodeOptions(dockerfile: string): string {
  const lines = [...dockerfile.matchAll(/^ENV\s+NODE_OPTIONS="([^"]*)"\s*$/gm)]
  return lines.at(-1)?.[1] ?? ''
}
