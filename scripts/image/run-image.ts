/**
 * Reviews the built image and runs it as a container the way `docker run` would, against a real Kafka
 * broker, schema registry and the Livingdocs emulator; `scripts/check-image` builds the image first.
 *
 *   node scripts/image/run-image.ts --image NAME --root DIR --runroot DIR --storage-driver overlay|vfs
 *
 * Review (on the image's mounted root file system): /app holds only package.json, schemas/, dist/ and
 * node_modules/; no dev dependency of package-lock.json is installed and every production one is; no
 * tests, caches (.cache, .stack), tool configuration or npm configuration; /app is root's and not
 * writable by the user the image runs as, which is not root.
 *
 * Run (buildah run with the OCI runtime runc, so the command is PID 1 of its own PID namespace, and the
 * host's network, so 127.0.0.1 reaches the local services): the image's own ENTRYPOINT and CMD, user,
 * working directory and environment from its config, a tmpfs on /tmp and the secrets as read-only
 * files, as the chart runs it. Checks /healthz and /readyz, the image's HEALTHCHECK command, the V8
 * heap limit the image's NODE_OPTIONS give, one file imported end to end (a SUCCESS result event on the
 * results topic, read with `npm run consume`, the event produced with `npm run produce`), the metrics
 * the dashboard and alerts query, then SIGTERM to the container's PID 1: exit 0 within `--grace-ms`.
 * The root file system is listed before and after: the run may change only what the runtime itself
 * changes for a no-op command (its mount points), measured first with the same flags.
 *
 * Kafka: KAFKA_BROKERS and SCHEMA_REGISTRY_URL when both are set, else this worktree's `scripts/stack`
 * (reused when it runs on STACK_KAFKA_PORT / STACK_REGISTRY_PORT, else started on those ports or free
 * ones, and stopped again). Exit 0 when every check passed, 1 otherwise (each failure is printed).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createWriteStream, existsSync, readFileSync } from 'node:fs'
import { access, chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { raceTimeout } from '../../src/timeouts.ts'
import { startFileServer } from '../../test/support/file-server.ts'
import { freePort } from '../../test/support/free-port.ts'
import { type KafkaEnv, resolveKafkaEnv } from '../../test/support/kafka-env.ts'
import { startLivingdocsEmulator } from '../../test/support/livingdocs-emulator/server.ts'
import { metricValue } from '../../test/support/metric-value.ts'
import {
  alertExprs,
  dashboardExprs,
  exposedFamilies,
  familyOf,
  metricNames,
} from '../../test/support/promql.ts'
import { buildSampleExport } from '../../test/support/sample-export.ts'
import { writeSampleFiles } from '../../test/support/sample-files.ts'
import { waitUntil } from '../../test/support/wait-until.ts'
import {
  changedPaths,
  listTree,
  type PackageLock,
  reviewNodeModules,
  snapshotTree,
  unwantedPaths,
} from './image-review.ts'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const CHART = join(REPO, 'helm/file-import-bridge')
/** Where the chart mounts its Secret; the run mounts the token and webhook secret files there too. */
const SECRETS_DIR = '/var/run/secrets/file-import-bridge'

const { values } = parseArgs({
  options: {
    image: { type: 'string' },
    root: { type: 'string' },
    runroot: { type: 'string' },
    'storage-driver': { type: 'string', default: 'overlay' },
    // docker stop's default: a `docker run` without the chart must not need its SIGKILL.
    'grace-ms': { type: 'string', default: '10000' },
  },
})
if (!values.image || !values.root || !values.runroot) {
  process.stderr.write('usage: run-image.ts --image NAME --root DIR --runroot DIR [--storage-driver D]\n')
  process.exit(2)
}
const IMAGE = values.image
const GRACE_MS = Number(values['grace-ms'])
const BUILDAH = [
  '--root',
  values.root,
  '--runroot',
  values.runroot,
  '--storage-driver',
  values['storage-driver'],
]

const failures: string[] = []
const say = (line: string) => process.stderr.write(`[check-image] ${line}\n`)
/** Records a failed check (the run goes on, so one run reports every problem). */
function check(ok: boolean, what: string, detail = ''): void {
  say(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`)
  if (!ok) failures.push(detail ? `${what}: ${detail}` : what)
}

/** Runs `buildah ...args` to completion. @throws Error with its stderr when it exits non-zero */
function buildah(...args: string[]): string {
  const run = spawnSync('buildah', [...BUILDAH, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
  if (run.status !== 0) throw new Error(`buildah ${args[0]} failed (${run.status}): ${run.stderr.trim()}`)
  return run.stdout.trim()
}

/** The Docker-format config of an image: what `docker run` uses. */
interface ImageConfig {
  User?: string
  Env?: string[]
  Entrypoint?: string[] | null
  Cmd?: string[] | null
  WorkingDir?: string
  Healthcheck?: { Test?: string[] }
  StopSignal?: string
}

const cleanups: Array<() => Promise<unknown> | unknown> = []

async function main(): Promise<void> {
  const inspected = JSON.parse(buildah('inspect', '--type', 'image', IMAGE)) as {
    Docker: { config: ImageConfig }
  }
  const config = inspected.Docker.config
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])]
  say(`image ${IMAGE}: user ${config.User}, workdir ${config.WorkingDir}, command ${JSON.stringify(argv)}`)

  const container = buildah('from', '--pull=never', '--name', `fib-check-image-${process.pid}`, IMAGE)
  cleanups.push(() => spawnSync('buildah', [...BUILDAH, 'rm', container]))
  const rootfs = buildah('mount', container)
  await reviewImage(rootfs, config)

  const work = await mkdtemp(join(tmpdir(), 'fib-check-image-'))
  cleanups.push(() => rm(work, { recursive: true, force: true }))
  await runImage({ container, rootfs, config, argv, work })
}

/** What an image reviewer checks on the file system and config, before anything runs. */
async function reviewImage(rootfs: string, config: ImageConfig): Promise<void> {
  const app = join(rootfs, config.WorkingDir ?? '/app')
  const user = config.User ?? ''
  check(user !== '' && !/^(0|root)(:|$)/.test(user), 'the image runs as a non-root user', user || 'no USER')

  const top = (await readdir(app)).sort()
  check(
    JSON.stringify(top) === JSON.stringify(['dist', 'node_modules', 'package.json', 'schemas']),
    '/app holds only dist, node_modules, package.json, schemas',
    top.join(', '),
  )
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as PackageLock
  const modules = await reviewNodeModules(lock, (key) =>
    access(join(app, key)).then(
      () => true,
      () => false,
    ),
  )
  check(
    modules.devPresent.length === 0,
    `none of the lock's ${modules.dev} dev dependencies is installed`,
    modules.devPresent.slice(0, 10).join(', '),
  )
  check(
    modules.prodMissing.length === 0,
    `all of the lock's ${modules.prod} production dependencies are installed`,
    modules.prodMissing.slice(0, 10).join(', '),
  )

  // The working directory (the app) is listed once, for both checks below.
  const workdir = config.WorkingDir ?? '/app'
  const appTree = existsSync(app) ? await listTree(app) : []
  const own: string[] = appTree.map((rel) => join(workdir, rel))
  for (const dir of ['/root', '/home/node', '/tmp']) {
    if (dir === workdir || !existsSync(join(rootfs, dir))) continue
    for (const rel of await listTree(join(rootfs, dir))) own.push(join(dir, rel))
  }
  const unwanted = unwantedPaths(own)
  check(
    unwanted.length === 0,
    'no tests, caches (.cache, .stack), tool or npm configuration in /app, /root, /home/node, /tmp',
    unwanted.slice(0, 10).join(', '),
  )

  const writable: string[] = []
  for (const rel of appTree) {
    const s = await lstat(join(app, rel)).catch(() => undefined)
    // A symbolic link's own mode is always 0777 and says nothing; its target is judged on its own.
    if (s !== undefined && !s.isSymbolicLink() && (s.uid !== 0 || (s.mode & 0o022) !== 0)) writable.push(rel)
  }
  check(
    writable.length === 0,
    '/app is owned by root and not writable by group or others',
    writable.slice(0, 5).join(', '),
  )
}

/** The processes whose parent chain leads to `ancestor` (host pids). */
function descendants(ancestor: number): number[] {
  const parent = new Map<number, number>()
  for (const name of spawnSync('ls', ['/proc'], { encoding: 'utf8' }).stdout.split('\n')) {
    if (!/^\d+$/.test(name)) continue
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces or parentheses.
      const text = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1])
      parent.set(Number(name), ppid)
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = []
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === ancestor) {
        out.push(pid)
        break
      }
    }
  }
  return out
}

/** `Name: value` lines of /proc/<pid>/status. */
function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':')
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim()
  }
  return out
}

const answers = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  )

/** A `buildah run` of the container as `docker run` would start it: image config, host network, /tmp tmpfs. */
function runArgs(
  container: string,
  env: Record<string, string>,
  secrets: string,
  command: string[],
): string[] {
  return [
    ...BUILDAH,
    'run',
    // runc, not buildah's chroot isolation: only an OCI runtime gives the command a PID namespace of its
    // own (PID 1, as in Docker); crun refuses this machine's hybrid cgroup setup.
    '--isolation=oci',
    '--runtime=runc',
    // The container's own network namespace would have its own 127.0.0.1, without the broker, registry
    // and emulator; the host's is what `docker run --network=host` gives.
    '--network=host',
    '--mount=type=tmpfs,destination=/tmp',
    `--volume=${secrets}:${SECRETS_DIR}:ro`,
    ...Object.entries(env).map(([k, v]) => `--env=${k}=${v}`),
    container,
    '--',
    ...command,
  ]
}

/** Runs `command` in the container to completion (no stdin). */
function runInContainer(
  container: string,
  env: Record<string, string>,
  secrets: string,
  command: string[],
): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync('buildah', runArgs(container, env, secrets, command), {
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: run.status, stdout: run.stdout.trim(), stderr: run.stderr.trim() }
}

/** Prints `npm run consume` output lines until one satisfies `match`. @throws Error after `timeoutMs` */
async function waitForRecord(
  kafka: KafkaEnv,
  topic: string,
  match: (record: { value: unknown }) => boolean,
  timeoutMs: number,
): Promise<{ value: unknown }> {
  const consume = spawn(
    process.execPath,
    [
      '--disable-warning=TimeoutNegativeWarning',
      join(REPO, 'scripts/consume.ts'),
      topic,
      '--follow',
      '--brokers',
      kafka.brokers.join(','),
      '--registry',
      kafka.schemaRegistryUrl,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const exited = new Promise((resolve) => consume.once('exit', resolve))
  try {
    const lines = createInterface({ input: consume.stdout })
    const found = new Promise<{ value: unknown }>((resolve) => {
      lines.on('line', (line) => {
        const record = JSON.parse(line) as { value: unknown }
        if (match(record)) resolve(record)
      })
    })
    const record = await raceTimeout(found, timeoutMs, undefined)
    if (record === undefined) throw new Error(`no matching record on ${topic} in ${timeoutMs} ms`)
    return record
  } finally {
    consume.kill('SIGTERM')
    await exited
  }
}

/**
 * Chooses the broker and registry: KAFKA_BROKERS and SCHEMA_REGISTRY_URL when set; else this worktree's
 * local stack, reused when it answers on STACK_KAFKA_PORT / STACK_REGISTRY_PORT, else started on those
 * ports or, when unset, on free ones (another stack may hold the defaults).
 * @throws Error when this worktree's stack runs but not on the configured ports
 */
async function chooseKafka(): Promise<KafkaEnv> {
  if (process.env.KAFKA_BROKERS && process.env.SCHEMA_REGISTRY_URL) return resolveKafkaEnv()
  const stack = join(REPO, 'scripts/stack')
  if (spawnSync(stack, ['status'], { stdio: 'ignore' }).status === 0) return resolveKafkaEnv()
  const runDir = join(process.env.STACK_DIR ?? join(REPO, '.stack'), 'run')
  for (const service of ['kafka', 'registry']) {
    const pid = Number(await readFile(join(runDir, `${service}.pid`), 'utf8').catch(() => ''))
    if (pid > 0 && spawnSync('kill', ['-0', String(pid)]).status === 0)
      throw new Error(
        `this worktree's scripts/stack runs (${service} pid ${pid}) but does not answer on STACK_KAFKA_PORT/STACK_REGISTRY_PORT; set them to its ports, or export KAFKA_BROKERS and SCHEMA_REGISTRY_URL`,
      )
  }
  for (const name of ['STACK_KAFKA_PORT', 'STACK_KAFKA_CONTROLLER_PORT', 'STACK_REGISTRY_PORT'])
    process.env[name] ??= String(await freePort())
  process.env.KAFKA_TEST_STACK = 'local-stack'
  return resolveKafkaEnv()
}

/** Starts the image's command against real peers and checks it end to end, then stops it with SIGTERM. */
async function runImage(options: {
  container: string
  rootfs: string
  config: ImageConfig
  argv: string[]
  work: string
}): Promise<void> {
  const { container, rootfs, config, argv, work } = options
  const kafka = await chooseKafka()
  cleanups.push(() => kafka.stop())
  say(`kafka ${kafka.brokers.join(',')}, registry ${kafka.schemaRegistryUrl} (${kafka.source})`)

  const token = `image-check-${process.pid}`
  const emulator = await startLivingdocsEmulator({ token })
  cleanups.push(() => emulator.close())
  const files = await writeSampleFiles(join(work, 'files'), { images: 1, pdfs: 0 })
  const fileServer = await startFileServer(join(work, 'files'))
  cleanups.push(() => fileServer.close())

  const secrets = join(work, 'secrets')
  await writeSecrets(secrets, token)
  const [httpPort, metricsPort] = [await freePort(), await freePort()]
  const run = `image-check-${Date.now()}`
  const topics = { input: `${run}.input`, result: `${run}.results`, dlq: `${run}.dlq` }
  const env: Record<string, string> = {
    KAFKA_BROKERS: kafka.brokers.join(','),
    SCHEMA_REGISTRY_URL: kafka.schemaRegistryUrl,
    KAFKA_GROUP_ID: run,
    INPUT_TOPIC: topics.input,
    RESULT_TOPIC: topics.result,
    DLQ_TOPIC: topics.dlq,
    JOB_NOTIFICATIONS_TOPIC: `${run}.job-notifications`,
    CREATE_MISSING_TOPICS: 'true',
    LIVINGDOCS_BASE_URL: emulator.url,
    LIVINGDOCS_ACCESS_TOKEN_FILE: `${SECRETS_DIR}/livingdocs-access-token`,
    WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    WEBHOOK_SECRET_FILE: `${SECRETS_DIR}/webhook-secret`,
    HTTP_PORT: String(httpPort),
    METRICS_PORT: String(metricsPort),
    BATCH_LINGER_MS: '100',
    LAG_INTERVAL_MS: '1000',
  }

  // The runtime's own footprint on the root file system (mount points it creates), from a no-op run.
  const pristine = await snapshotTree(rootfs)
  const noop = runInContainer(container, env, secrets, ['true'])
  if (noop.code !== 0) throw new Error(`buildah run of a no-op failed (${noop.code}): ${noop.stderr}`)
  const calibrated = await snapshotTree(rootfs)
  const footprint = new Set(changedPaths(pristine, calibrated))
  say(`runtime footprint of a no-op run: ${[...footprint].join(', ') || 'none'}`)

  const logPath = join(work, 'bridge.log')
  const log = createWriteStream(logPath)
  const started = Date.now()
  const bridge: ChildProcess = spawn('buildah', runArgs(container, env, secrets, argv), {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  bridge.stdout?.pipe(log)
  bridge.stderr?.pipe(log)
  const exit = new Promise<number | null>((resolve) => bridge.once('exit', (code) => resolve(code)))
  let pid1 = 0
  cleanups.push(async () => {
    if (bridge.exitCode !== null || bridge.signalCode !== null) return
    if (pid1 > 0) process.kill(pid1, 'SIGKILL')
    else bridge.kill('SIGKILL')
    await exit
  })
  const metrics = `http://127.0.0.1:${metricsPort}`
  try {
    await waitUntil(() => answers(`${metrics}/healthz`), 60_000, '/healthz')
    check(true, '/healthz answers 200', `${Date.now() - started} ms after start`)
    await waitUntil(() => answers(`${metrics}/readyz`), 90_000, '/readyz (consumer group joined)')
    check(true, '/readyz answers 200', `${Date.now() - started} ms after start`)
  } catch (err) {
    say(
      `bridge log (last lines of ${logPath}):\n${(await readFile(logPath, 'utf8')).split('\n').slice(-30).join('\n')}`,
    )
    throw err
  }

  const pids = descendants(bridge.pid ?? -1).filter((pid) => {
    try {
      return procStatus(pid).NSpid?.split(/\s+/).at(-1) === '1'
    } catch {
      return false
    }
  })
  check(pids.length === 1, 'one process is PID 1 of the container', `host pids ${pids.join(', ')}`)
  pid1 = pids[0] ?? 0
  const status = procStatus(pid1)
  const cmdline = readFileSync(`/proc/${pid1}/cmdline`, 'utf8').split('\0').slice(0, -1)
  check(
    JSON.stringify(cmdline) === JSON.stringify(config.Cmd),
    "PID 1 is the image's CMD, exec'd by its ENTRYPOINT",
    JSON.stringify(cmdline),
  )
  const [uid, gid] = [status.Uid?.split(/\s+/)[0], status.Gid?.split(/\s+/)[0]]
  check(`${uid}:${gid}` === config.User, "PID 1 runs as the image's USER", `uid ${uid}, gid ${gid}`)

  const healthcheck = config.Healthcheck?.Test ?? []
  if (healthcheck[0] === 'CMD') {
    const probe = runInContainer(container, env, secrets, healthcheck.slice(1))
    check(probe.code === 0, "the image's HEALTHCHECK command passes", `exit ${probe.code} ${probe.stderr}`)
  } else check(false, 'the image has an exec-form HEALTHCHECK', JSON.stringify(healthcheck))
  await checkHeapLimit(container, env, secrets, config)

  // One file end to end: produced as the legacy system would, imported by the emulator, result published.
  const { records } = buildSampleExport({
    files,
    baseUrl: fileServer.url,
    systemName: 'image-check',
    idPrefix: run,
    broken: 0,
    repeats: 0,
  })
  const externalId = records[0]?.externalId
  await writeFile(join(work, 'export.ndjson'), records.map((r) => `${JSON.stringify(r)}\n`).join(''))
  const produce = spawnSync(
    process.execPath,
    [
      '--disable-warning=TimeoutNegativeWarning',
      join(REPO, 'scripts/produce.ts'),
      join(work, 'export.ndjson'),
      '--topic',
      topics.input,
      '--create-topic',
      '--brokers',
      kafka.brokers.join(','),
      '--registry',
      kafka.schemaRegistryUrl,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  )
  if (produce.status !== 0) throw new Error(`npm run produce failed: ${produce.stderr}`)
  const produced = Date.now()
  const result = (await waitForRecord(
    kafka,
    topics.result,
    (r) => (r.value as { externalId?: string } | null)?.externalId === externalId,
    90_000,
  )) as { value: { state: string; mediaId: string | null } }
  check(
    result.value.state === 'SUCCESS' && typeof result.value.mediaId === 'string',
    'the file was imported end to end (SUCCESS result event with a mediaId)',
    `${result.value.state}, mediaId ${result.value.mediaId}, ${Date.now() - produced} ms after producing`,
  )
  check(
    fileServer.requests >= 1,
    'the emulator downloaded the file from its URL',
    `${fileServer.requests} GET`,
  )

  const exposition = await (await fetch(`${metrics}/metrics`)).text()
  // Summed over the kinds: whichever import the check's event is routed to.
  const succeeded = metricValue(exposition, 'bridge_files_total{state="SUCCESS"}')
  check(succeeded === 1, '/metrics counts the result', `bridge_files_total{state="SUCCESS"} ${succeeded}`)
  const queried = new Set(
    [
      ...(await dashboardExprs(join(CHART, 'files/dashboard.json'))),
      ...(await alertExprs(join(CHART, 'files/alerts.yaml'))).map((a) => a.expr),
    ]
      .flatMap(metricNames)
      .map(familyOf),
  )
  const exposed = exposedFamilies(exposition)
  const missing = [...queried].filter((name) => !exposed.has(name))
  check(
    missing.length === 0,
    `the image's /metrics has all ${queried.size} metric families the dashboard and alerts query`,
    missing.join(', '),
  )

  // SIGTERM to PID 1 from outside its namespace, as `docker stop` sends it: delivered only because
  // node installed a handler (PID 1 has no default action for it).
  const stopping = Date.now()
  process.kill(pid1, config.StopSignal ?? 'SIGTERM')
  const code = await raceTimeout(exit, GRACE_MS + 20_000, 'timeout' as const)
  const stopMs = Date.now() - stopping
  check(
    code === 0 && stopMs <= GRACE_MS,
    `${config.StopSignal ?? 'SIGTERM'} to PID 1: exit 0 within ${GRACE_MS} ms`,
    `exit ${code} after ${stopMs} ms`,
  )
  await new Promise<void>((resolve) => log.end(resolve))
  const lines = (await readFile(logPath, 'utf8')).split('\n').filter((l) => l.startsWith('{'))
  const errors = lines.filter((l) => (JSON.parse(l) as { level?: number }).level === 50)
  say(
    `bridge log: ${lines.length} JSON lines, ${errors.length} at level error${errors.length ? `:\n${errors.slice(0, 5).join('\n')}` : ''}`,
  )

  const after = await snapshotTree(rootfs)
  const written = changedPaths(calibrated, after).filter((p) => !footprint.has(p))
  check(
    written.length === 0,
    'the run wrote nothing to the root file system (only /tmp, a tmpfs, is writable in the chart)',
    written.slice(0, 10).join(', '),
  )
}

/** The token and webhook secret as files, as the chart mounts its Secret (readable by the image's user). */
async function writeSecrets(dir: string, token: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'livingdocs-access-token'), token)
  await writeFile(join(dir, 'webhook-secret'), `image-check-secret-${process.pid}`)
  await chmod(dir, 0o755)
  for (const name of ['livingdocs-access-token', 'webhook-secret']) await chmod(join(dir, name), 0o644)
}

/**
 * The V8 heap limit of a `node` started with the image's environment (its NODE_OPTIONS), against the
 * --max-old-space-size they set: a plain `docker run` must get the chart's default heap cap.
 */
async function checkHeapLimit(
  container: string,
  env: Record<string, string>,
  secrets: string,
  config: ImageConfig,
): Promise<void> {
  const nodeOptions = (config.Env ?? []).find((e) => e.startsWith('NODE_OPTIONS='))?.slice(13) ?? ''
  const oldSpaceMb = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)?.[1] ?? Number.NaN)
  const probe = runInContainer(container, env, secrets, [
    'node',
    '-p',
    'require("node:v8").getHeapStatistics().heap_size_limit',
  ])
  const limitMb = Number(probe.stdout) / 2 ** 20
  // heap_size_limit = old space + young generation (3 semi-spaces of at most 16 MB here) + a little.
  check(
    probe.code === 0 && limitMb >= oldSpaceMb && limitMb <= oldSpaceMb + 64,
    "a plain run gets the image's heap cap (NODE_OPTIONS)",
    `NODE_OPTIONS="${nodeOptions}", heap_size_limit ${limitMb.toFixed(0)} MB`,
  )
}

let exitCode = 0
try {
  await main()
} catch (err) {
  failures.push((err as Error).message)
  say(`FAIL ${(err as Error).stack ?? err}`)
}
for (const cleanup of cleanups.reverse()) {
  try {
    await cleanup()
  } catch (err) {
    say(`cleanup: ${(err as Error).message}`)
  }
}
if (failures.length > 0) {
  say(`${failures.length} check(s) failed:\n  - ${failures.join('\n  - ')}`)
  exitCode = 1
}
process.exit(exitCode)
