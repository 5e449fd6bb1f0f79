// Start-up on a loaded machine (issue 26): a registry that answers late and a broker that is not there
// yet are waited for within STARTUP_TIMEOUT_MS, one log line per wait, and a start that failed half-way
// does not poison the next one.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { describe, expect, it } from 'vitest'
import { readSchema } from '../../src/registry/registry.ts'
import { startTestBridge } from '../support/bridge-harness.ts'
import { bulkExport } from '../support/bulk-export.ts'
import { bridgeEnv, createTopics, produceRecords, startBridgeIn, useE2eWorld } from '../support/e2e-world.ts'
import { startRoundRobinProxy } from '../support/round-robin-proxy.ts'
import { startTcpProxy } from '../support/tcp-proxy.ts'

/** The registry's Confluent-compatible API on the registry at `url` (Apicurio's ccompat path or none). */
const apiPath = (url: string) => new URL(url).pathname.replace(/\/+$/, '')

/** GET of the registry's API, JSON. */
async function registryGet(url: string, path: string): Promise<unknown> {
  return (await fetch(`${url.replace(/\/+$/, '')}${path}`)).json()
}

describe('start-up on a loaded machine', () => {
  const { world, emulator } = useE2eWorld(
    { images: 0, pdfs: 0 },
    { emulator: { token: 'startup-token', jobDurationMs: 50, skipDownloads: true } },
  )

  it('waits for a registry that answers its first registrations late, logs each wait, then starts', async () => {
    // Given a registry behind a proxy that holds the answers to the first two POSTs for 2 s (the
    // registry does the work), and a bridge that waits 1 s for an answer
    let delayedPosts = 2
    const target = new URL(world.schemaRegistryUrl)
    const proxy = await startRoundRobinProxy([target.origin], {
      answerDelayMs: (req) => (req.method === 'POST' && delayedPosts-- > 0 ? 2000 : 0),
    })
    world.defer(() => proxy.close())
    const { topics, results } = await createTopics(world, 'slow-registry')
    const subject = `${topics.result}-value`

    // When the bridge starts
    const bridge = await startBridgeIn(
      world,
      bridgeEnv(world, emulator, topics, {
        SCHEMA_REGISTRY_URL: `${proxy.url}${apiPath(world.schemaRegistryUrl)}`,
        SCHEMA_REGISTRY_REQUEST_TIMEOUT_MS: '1000',
        STARTUP_TIMEOUT_MS: '60000',
      }),
    )

    // Then it started after one log line per wait, each naming the service and the step
    const waits = bridge.logs.withMsg('start-up: waiting for the schema registry')
    expect(waits).toHaveLength(2)
    expect(waits[0]).toMatchObject({ service: 'schema registry', step: `registration of ${subject}` })
    expect(String(waits[0]?.err)).toMatch(/no answer within 1000 ms/)
    expect(bridge.logs.withMsg('bridge started')).toHaveLength(1)
    // And the subject converged: one version, the bridge's level set
    expect(await registryGet(world.schemaRegistryUrl, `/subjects/${subject}/versions`)).toEqual([1])
    expect(await registryGet(world.schemaRegistryUrl, `/config/${subject}`)).toEqual({
      compatibilityLevel: 'BACKWARD',
    })
    // And it works: an event gets its result, encoded with the schema it registered
    await produceRecords(world, topics.input, bulkExport('slow-registry', 1), 'json')
    await results.waitFor((r) => r.length >= 1, 60_000, 'a result')
    expect(results.records[0]?.value.state).toBe('SUCCESS')
  })

  it('starts where a timed-out start left the result subject registered without its level (the issue’s refusal)', async () => {
    // Given a result subject left as a start that timed out after the registry took the schema leaves it:
    // the schema registered, no level of its own (Apicurio reports its global NONE)
    const { topics } = await createTopics(world, 'half-done')
    const subject = `${topics.result}-value`
    const schema = JSON.stringify(await readSchema('fileImportResult'))
    await fetch(`${world.schemaRegistryUrl}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema }),
    })
    // And the registry client's own registration, which the bridge used before, refuses it for good
    const library = new SchemaRegistry({ host: world.schemaRegistryUrl })
    await expect(library.register({ type: SchemaType.AVRO, schema }, { subject })).rejects.toThrow(
      'Compatibility does not match the configuration (BACKWARD != NONE)',
    )

    // When the bridge starts
    const bridge = await startBridgeIn(world, bridgeEnv(world, emulator, topics))

    // Then it started, completed the subject and said so
    expect(bridge.logs.withMsg('result subject: compatibility level set')[0]).toMatchObject({
      subject,
      compatibility: 'BACKWARD',
      compatibilityBefore: 'NONE',
    })
    expect(await registryGet(world.schemaRegistryUrl, `/config/${subject}`)).toEqual({
      compatibilityLevel: 'BACKWARD',
    })
    expect(await registryGet(world.schemaRegistryUrl, `/subjects/${subject}/versions`)).toEqual([1])
  })

  it('waits for a broker that is not there yet, logging each wait, and gives up at STARTUP_TIMEOUT_MS', async () => {
    // Given the broker's bootstrap address behind a proxy that refuses connections for now
    const [host, port] = (world.brokers[0] as string).split(':') as [string, string]
    const proxy = await startTcpProxy(host, Number(port), { open: false })
    world.defer(() => proxy.close())
    const { topics } = await createTopics(world, 'slow-broker')
    const env = bridgeEnv(world, emulator, topics, { KAFKA_BROKERS: `127.0.0.1:${proxy.port}` })

    // When a bridge with a start-up deadline of 3 s starts, it gives up naming the setting and the cause
    const failed = await startTestBridge({ ...env, STARTUP_TIMEOUT_MS: '3000' }).catch((e: unknown) => e)
    expect(failed).toMatchObject({
      code: 'STARTUP_FAILED',
      message: expect.stringContaining(`Kafka cannot be reached at KAFKA_BROKERS=127.0.0.1:${proxy.port}`),
    })

    // When another starts and the broker comes back 3 s later
    const starting = startBridgeIn(world, { ...env, STARTUP_TIMEOUT_MS: '60000' })
    const opened = new Promise((resolve) => setTimeout(resolve, 3000)).then(() => proxy.start())
    const bridge = await starting
    await opened

    // Then it started, after at least one wait for the broker named as such
    const waits = bridge.logs.withMsg('start-up: waiting for the Kafka broker')
    expect(waits.length).toBeGreaterThanOrEqual(1)
    expect(waits[0]).toMatchObject({ service: 'Kafka broker', step: 'connect', setting: 'KAFKA_BROKERS' })
    expect(bridge.logs.withMsg('bridge started')).toHaveLength(1)
  })
})
