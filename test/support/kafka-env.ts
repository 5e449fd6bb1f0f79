/**
 * The one place that decides which Kafka broker and schema registry the tests
 * talk to. See {@link resolveKafkaEnv}.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { StartedNetwork, StartedTestContainer } from 'testcontainers'

/** Where the brokers came from. */
export type KafkaEnvSource = 'env' | 'testcontainers' | 'local-stack'

/** A Kafka broker plus a Confluent-compatible schema registry, ready to use. */
export interface KafkaEnv {
  /** Bootstrap brokers as `host:port` strings, e.g. `['127.0.0.1:9092']`. */
  brokers: string[]
  /**
   * Base URL of the Confluent-compatible schema registry API, no trailing
   * slash, e.g. `http://127.0.0.1:8081/apis/ccompat/v7` (Apicurio 3).
   */
  schemaRegistryUrl: string
  /** How the environment was obtained. */
  source: KafkaEnvSource
  /**
   * Releases what this call started: stops the containers, or runs
   * `scripts/stack stop` when this call started the local stack. A no-op for
   * `source: 'env'` and for a local stack that was already running. Safe to
   * call more than once.
   */
  stop(): Promise<void>
}

/** Options of {@link resolveKafkaEnv}; all optional. */
export interface ResolveKafkaEnvOptions {
  /** Environment to read (default `process.env`). */
  env?: NodeJS.ProcessEnv
  /** How long to wait for a Docker engine to answer, in ms (default 3000). */
  dockerProbeTimeoutMs?: number
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const stackScript = fileURLToPath(new URL('../../scripts/stack', import.meta.url))

/**
 * Reads a `<name>` property from one of the poms under scripts/stack-deps, so
 * the container images use the same versions as the local stack.
 */
function pinnedVersion(pom: 'kafka' | 'registry', property: string): string {
  const path = fileURLToPath(new URL(`../../scripts/stack-deps/${pom}/pom.xml`, import.meta.url))
  const match = readFileSync(path, 'utf8').match(new RegExp(`<${property}>([^<]+)</${property}>`))
  if (!match?.[1]) throw new Error(`no <${property}> in ${path}`)
  return match[1].trim()
}

/**
 * Chooses and, if needed, starts the Kafka broker and schema registry for
 * tests, in this order:
 *
 * 1. `env`: `KAFKA_BROKERS` (comma-separated `host:port` list) and
 *    `SCHEMA_REGISTRY_URL` are both set: use them as they are.
 *    `KAFKA_TEST_STACK=testcontainers|local-stack` skips this and the
 *    Docker probe and forces one of the other two.
 * 2. `testcontainers`: a Docker engine answers within `dockerProbeTimeoutMs`:
 *    start an `apache/kafka` (KRaft, single node) container and an
 *    `apicurio/apicurio-registry` container (H2 storage in a file inside the
 *    container, same id mode as scripts/stack) on a shared network, with the versions pinned in
 *    scripts/stack-deps/{kafka,registry}/pom.xml.
 * 3. `local-stack`: run `scripts/stack start` (Java + Maven, no Docker) and
 *    use its `KAFKA_BROKERS` / `SCHEMA_REGISTRY_URL`. If the stack was
 *    already running it is reused and `stop()` leaves it running.
 *
 * Only one of `KAFKA_BROKERS` / `SCHEMA_REGISTRY_URL` being set is an error.
 *
 * @throws Error when the chosen way fails: the containers do not start, or
 *   `scripts/stack start` exits non-zero (its stderr, with the service name and
 *   the tail of its log, is passed through to ours).
 */
export async function resolveKafkaEnv(options: ResolveKafkaEnvOptions = {}): Promise<KafkaEnv> {
  const env = options.env ?? process.env
  const forced = env.KAFKA_TEST_STACK
  if (forced !== undefined && forced !== 'testcontainers' && forced !== 'local-stack') {
    throw new Error(`KAFKA_TEST_STACK must be 'testcontainers' or 'local-stack', got '${forced}'`)
  }
  if (!forced) {
    const brokers = env.KAFKA_BROKERS?.trim()
    const registry = env.SCHEMA_REGISTRY_URL?.trim()
    if (brokers && registry) {
      const schemaRegistryUrl = registry.replace(/\/+$/, '')
      return {
        brokers: parseBrokers(brokers),
        schemaRegistryUrl,
        // `eval "$(scripts/stack env)"` exports exactly the local stack's addresses: that is the local
        // stack, already running (so tests that stop and start one of its services can run).
        source: isLocalStackAddress(env, brokers, schemaRegistryUrl) ? 'local-stack' : 'env',
        stop: async () => {},
      }
    }
    if (brokers || registry) {
      throw new Error(
        'set both KAFKA_BROKERS and SCHEMA_REGISTRY_URL, or neither (then the tests start their own)',
      )
    }
  }
  if (forced === 'testcontainers') return startContainers()
  if (forced === 'local-stack') return startLocalStack()
  if (await dockerAvailable(options.dockerProbeTimeoutMs ?? 3000)) {
    return startContainers()
  }
  return startLocalStack()
}

/**
 * True when the brokers and registry URL are the ones `scripts/stack env` prints for this environment
 * (`127.0.0.1` with `STACK_KAFKA_PORT` / `STACK_REGISTRY_PORT`, defaults 9092 / 8081).
 */
export function isLocalStackAddress(env: NodeJS.ProcessEnv, brokers: string, registryUrl: string): boolean {
  const kafkaPort = env.STACK_KAFKA_PORT || '9092'
  const registryPort = env.STACK_REGISTRY_PORT || '8081'
  return (
    brokers === `127.0.0.1:${kafkaPort}` && registryUrl === `http://127.0.0.1:${registryPort}/apis/ccompat/v7`
  )
}

/** Splits `a:1,b:2` into `['a:1', 'b:2']`, rejecting entries without a port. */
export function parseBrokers(list: string): string[] {
  const brokers = list
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean)
  for (const b of brokers) {
    if (!/^[^\s:]+:\d+$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(b)) {
      throw new Error(`KAFKA_BROKERS entry '${b}' is not host:port`)
    }
  }
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS is empty')
  return brokers
}

// ------------------------------------------------------------- Docker probe

/**
 * True if testcontainers finds a container runtime within `timeoutMs`.
 * testcontainers is imported lazily so the other paths never load it.
 */
async function dockerAvailable(timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    const probe = getContainerRuntimeClient().then(
      () => true,
      () => false,
    )
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs)
    })
    return await Promise.race([probe, timeout])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}

// ----------------------------------------------------------- testcontainers

const KAFKA_CLIENT_PORT = 9092 // PLAINTEXT, advertised as host:mappedPort
const KAFKA_NETWORK_PORT = 9093 // BROKER, advertised as kafka:9093 inside the network
const KAFKA_CONTROLLER_PORT = 9094
const REGISTRY_PORT = 8080
const STARTER_SCRIPT = '/tmp/testcontainers_start.sh'
const WAITING_MESSAGE = 'Waiting for starter script...'

async function startContainers(): Promise<KafkaEnv> {
  const { GenericContainer, Network, Wait } = await import('testcontainers')

  /**
   * `@testcontainers/kafka`'s KafkaContainer only drives confluentinc/cp-kafka
   * images (it runs /etc/confluent/docker/run), so the apache/kafka image is
   * driven here the same way: the container first waits for a starter script,
   * which is copied in once the mapped port is known, so the advertised
   * listener can be host:mappedPort without guessing a free port.
   */
  class ApacheKafkaContainer extends GenericContainer {
    protected override async containerStarted(container: StartedTestContainer): Promise<void> {
      const advertised = `PLAINTEXT://${container.getHost()}:${container.getMappedPort(KAFKA_CLIENT_PORT)},BROKER://kafka:${KAFKA_NETWORK_PORT}`
      await container.copyContentToContainer([
        {
          content: `#!/bin/sh\nexport KAFKA_ADVERTISED_LISTENERS='${advertised}'\nexec /etc/kafka/docker/run\n`,
          target: STARTER_SCRIPT,
          mode: 0o755,
        },
      ])
    }
  }

  let network: StartedNetwork | undefined
  const started: StartedTestContainer[] = []
  const stop = async () => {
    const all = started.splice(0)
    await Promise.allSettled(all.map((c) => c.stop()))
    const n = network
    network = undefined
    if (n) await n.stop()
  }
  try {
    network = await new Network().start()
    const kafkaImage = `apache/kafka:${pinnedVersion('kafka', 'kafka.version')}`
    const registryImage = `apicurio/apicurio-registry:${pinnedVersion('registry', 'apicurio.version')}`

    const kafkaContainer = new ApacheKafkaContainer(kafkaImage)
      .withNetwork(network)
      .withNetworkAliases('kafka')
      .withExposedPorts(KAFKA_CLIENT_PORT)
      .withEnvironment({
        CLUSTER_ID: '4L6g3nShT-eMCtK--X86sw',
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_CONTROLLER_QUORUM_VOTERS: `1@localhost:${KAFKA_CONTROLLER_PORT}`,
        KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${KAFKA_CLIENT_PORT},BROKER://0.0.0.0:${KAFKA_NETWORK_PORT},CONTROLLER://0.0.0.0:${KAFKA_CONTROLLER_PORT}`,
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
        // Same test settings as scripts/stack.
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'true',
        KAFKA_NUM_PARTITIONS: '3',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '3',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_HEAP_OPTS: '-Xmx512m -Xms128m',
      })
      .withEntrypoint(['sh'])
      .withCommand([
        '-c',
        `echo '${WAITING_MESSAGE}'; while [ ! -f ${STARTER_SCRIPT} ]; do sleep 0.1; done; exec ${STARTER_SCRIPT}`,
      ])
      .withWaitStrategy(Wait.forLogMessage(WAITING_MESSAGE))
      .withStartupTimeout(120_000)

    const registryContainer = new GenericContainer(registryImage)
      .withNetwork(network)
      .withNetworkAliases('registry')
      .withExposedPorts(REGISTRY_PORT)
      .withEnvironment({
        // Same id mode as scripts/stack (see the comment there): Confluent ids
        // are Apicurio contentIds.
        APICURIO_CCOMPAT_LEGACY_ID_MODE_ENABLED: 'false',
        APICURIO_CCOMPAT_USE_CANONICAL_HASH: 'false',
        // Same storage as scripts/stack: H2 in a file, so a restart of this container (docker restart)
        // keeps the schemas and their ids instead of starting from an empty in-memory database.
        APICURIO_STORAGE_KIND: 'sql',
        APICURIO_STORAGE_SQL_KIND: 'h2',
        APICURIO_DATASOURCE_URL: 'jdbc:h2:file:/tmp/apicurio-data/registry',
        JAVA_OPTS_APPEND: '-Xmx384m',
      })
      .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', REGISTRY_PORT).forStatusCode(200))
      .withStartupTimeout(120_000)

    const [kafka, registry] = await Promise.all([
      kafkaContainer.start().then((c) => {
        started.push(c)
        return c
      }),
      registryContainer.start().then((c) => {
        started.push(c)
        return c
      }),
    ])
    const brokers = [`${kafka.getHost()}:${kafka.getMappedPort(KAFKA_CLIENT_PORT)}`]
    // The container is "started" once the starter script is in place; the
    // broker itself needs a few more seconds.
    await waitForBroker(brokers, 120_000)
    return {
      brokers,
      schemaRegistryUrl: `http://${registry.getHost()}:${registry.getMappedPort(REGISTRY_PORT)}/apis/ccompat/v7`,
      source: 'testcontainers',
      stop,
    }
  } catch (error) {
    await stop().catch(() => {})
    throw error
  }
}

/** Polls `describeCluster` until the broker answers, or throws after `timeoutMs`. */
async function waitForBroker(brokers: string[], timeoutMs: number): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs')
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    const admin = new Kafka({
      clientId: 'kafka-env-probe',
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 2000,
    }).admin()
    try {
      await admin.connect()
      const cluster = await admin.describeCluster()
      if (cluster.brokers.length > 0) return
    } catch (error) {
      lastError = error
    } finally {
      await admin.disconnect().catch(() => {})
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(
    `Kafka container at ${brokers.join(',')} did not answer within ${timeoutMs} ms: ${String(lastError)}`,
  )
}

// -------------------------------------------------------------- local stack

interface StackRun {
  code: number | null
  stdout: string
}

/** Runs scripts/stack; its stderr goes straight to ours unless `quiet`. */
function runStack(command: 'start' | 'stop' | 'status', quiet = false): Promise<StackRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(stackScript, [command], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit'],
    })
    let stdout = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout }))
  })
}

async function startLocalStack(): Promise<KafkaEnv> {
  // status exits 0 only when both services run and answer: then it is someone
  // else's stack (a developer's `npm run stack start`) and we leave it running.
  const alreadyRunning = (await runStack('status', true)).code === 0
  const run = await runStack('start')
  if (run.code !== 0) {
    throw new Error(
      `scripts/stack start failed (exit ${run.code}); its output above names the service and log file`,
    )
  }
  const vars = new Map<string, string>()
  for (const line of run.stdout.split('\n')) {
    const match = /^(?:export\s+)?(\w+)=(\S+)/.exec(line.trim())
    if (match?.[1] !== undefined && match[2] !== undefined) vars.set(match[1], match[2])
  }
  const brokers = vars.get('KAFKA_BROKERS')
  const schemaRegistryUrl = vars.get('SCHEMA_REGISTRY_URL')
  if (!brokers || !schemaRegistryUrl) {
    throw new Error(`scripts/stack start printed no KAFKA_BROKERS/SCHEMA_REGISTRY_URL:\n${run.stdout}`)
  }
  let stopped = alreadyRunning
  return {
    brokers: parseBrokers(brokers),
    schemaRegistryUrl,
    source: 'local-stack',
    stop: async () => {
      if (stopped) return
      stopped = true
      const result = await runStack('stop')
      if (result.code !== 0) throw new Error(`scripts/stack stop failed (exit ${result.code})`)
    },
  }
}
