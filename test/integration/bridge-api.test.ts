import { describe, expect, it } from 'vitest'
import { startBridge } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { BridgeError } from '../../src/errors.ts'
import { loadMapping } from '../../src/mapping/compile.ts'
import {
  bridgeEnv,
  countStates,
  createScenario,
  fetchCommitted,
  metricValue,
  produceRecords,
  sampleExport,
  startEmulator,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import type { StartLivingdocsEmulatorOptions } from '../support/livingdocs-emulator/index.ts'
import { silentLogger } from '../support/log-lines.ts'

/** The bridge against the documented variants and behaviours of the import API ([F] §1.2, §2, §9). */
describe('bridge and the import API variants', () => {
  const { world } = useE2eWorld({ images: 8, pdfs: 4 })

  /** An emulator with token `api-token` and `options`, closed with the world. */
  const emulatorWith = (options: StartLivingdocsEmulatorOptions) =>
    startEmulator(world, { token: 'api-token', ...options })

  it('accepts per-file `success` under the older key `status`, and reports metadata rule failures', async () => {
    // Given Livingdocs answering per file {status: "success"} and requiring a title of at most 30 characters
    const emulator = await emulatorWith({
      variants: { perFileSuccessValue: 'success', perFileStateKey: 'status' },
      mediaTypes: [
        {
          handle: 'file',
          type: 'mediaFile',
          metadata: [{ handle: 'title', type: 'li-text', config: { required: true, maxLength: 30 } }],
        },
        {
          handle: 'image',
          type: 'mediaImage',
          metadata: [{ handle: 'title', type: 'li-text', config: { required: true } }],
        },
      ],
    })
    const { topics, results, start } = await createScenario(world, 'api-variants', emulator)
    await start()
    const { records } = sampleExport(world, 'variants', { broken: 2, repeats: 0 })
    const untitled = { ...(records[0] as (typeof records)[0]), externalId: 'variants-untitled', metadata: {} }

    // When an export and a file without a title are produced
    await produceRecords(world, topics.input, [...records, untitled])
    await results.waitFor((r) => r.length >= records.length + 1, 60_000, 'a result per record')

    // Then files come back SUCCESS with a mediaId, broken URLs and the untitled file FAILED with reasons
    const values = results.records.map((r) => r.value)
    expect(countStates(values)).toEqual({ SUCCESS: world.files.length, SKIPPED: 0, FAILED: 3 })
    expect(values.filter((v) => v.state === 'SUCCESS').every((v) => (v.mediaId ?? '').length > 0)).toBe(true)
    expect(values.find((v) => v.externalId === 'variants-untitled')?.reason).toMatch(
      /^Metadata validation failed\. title: /,
    )
  })

  for (const unknownJob of ['lost', '404'] as const) {
    it(`submits a batch again when Livingdocs has lost its job (unknown job answered as ${unknownJob})`, async () => {
      // Given slow jobs, and Livingdocs forgetting every job once the first is submitted
      const emulator = await emulatorWith({ jobDurationMs: 1500, variants: { unknownJob } })
      // (a short grace window: a job unknown for 1 s after its submit is lost)
      const { topics, results, start } = await createScenario(world, `api-lost-${unknownJob}`, emulator, {
        JOB_VISIBILITY_GRACE_MS: '1000',
      })
      await start()
      const { records } = sampleExport(world, `lost-${unknownJob}`, { broken: 0, repeats: 0 })
      await produceRecords(world, topics.input, records)
      await waitUntil(() => emulator.stats().jobsCreated > 0, 30_000, 'a submitted job')
      const jobsBeforeLoss = emulator.stats().jobsCreated
      await emulator.reset()

      // Then the bridge notices on its next status read, submits again, and every file is imported
      await results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
      expect(countStates(results.records.map((r) => r.value))).toEqual({
        SUCCESS: records.length,
        SKIPPED: 0,
        FAILED: 0,
      })
      expect(emulator.stats().jobsCreated).toBeGreaterThan(0)
      expect(jobsBeforeLoss).toBeGreaterThan(0)
    })
  }

  it('learns of a finished job from its webhook without waiting for the poller', async () => {
    // Given a bridge that polls only once a minute
    const emulator = await emulatorWith({})
    const { topics, results, start } = await createScenario(world, 'api-webhook', emulator, {
      STATUS_POLL_INTERVAL_MS: '60000',
    })
    const bridge = await start()
    const { records } = sampleExport(world, 'webhook', { broken: 0, repeats: 0 })

    // When an export is produced
    await produceRecords(world, topics.input, records)

    // Then the results arrive before the first poll (60 s) could have run, triggered by accepted webhooks
    await results.waitFor((r) => r.length >= records.length, 30_000, 'results through webhooks')
    const metrics = await (await fetch(bridge.metricsUrl)).text()
    expect(metricValue(metrics, 'bridge_webhooks_received_total{outcome="accepted"}')).toBeGreaterThan(0)
  })

  it('falls back to polling the status endpoint when webhooks never arrive', async () => {
    // Given Livingdocs that drops every webhook
    const emulator = await emulatorWith({ faults: { dropWebhooks: true } })
    const { topics, results, start } = await createScenario(world, 'api-poll', emulator)
    const bridge = await start()
    const { records } = sampleExport(world, 'poll', { broken: 1, repeats: 0 })

    // When an export is produced, then the poller still delivers every result
    await produceRecords(world, topics.input, records)
    await results.waitFor((r) => r.length >= records.length, 60_000, 'results through polling')
    const metrics = await (await fetch(bridge.metricsUrl)).text()
    expect(metricValue(metrics, 'bridge_webhooks_received_total{outcome="accepted"}')).toBe(0)
    expect(metricValue(metrics, 'bridge_api_requests_total{endpoint="status",status="200"}')).toBeGreaterThan(
      0,
    )
  })

  it('serves health and readiness, and is not ready while the API refuses its token, committing nothing', async () => {
    // Given a bridge whose access token Livingdocs does not accept
    const emulator = await emulatorWith({})
    const { topics, results, start } = await createScenario(world, 'api-401', emulator, {
      LIVINGDOCS_ACCESS_TOKEN: 'wrong-token',
    })
    const bridge = await start()
    const ops = `http://127.0.0.1:${bridge.bridge.ports.metrics}`
    expect((await fetch(`${ops}/healthz`)).status).toBe(200)
    await waitUntil(
      async () => (await fetch(`${ops}/readyz`)).status === 200,
      30_000,
      'ready after joining the group',
    )

    // When events arrive
    const { records } = sampleExport(world, 'unauthorized', { broken: 0, repeats: 0 })
    await produceRecords(world, topics.input, records)

    // Then the service reports not ready, naming the API's answer, and nothing is published or committed
    await waitUntil(
      async () => (await fetch(`${ops}/readyz`)).status === 503,
      30_000,
      'not ready after a 401',
    )
    const body = (await (await fetch(`${ops}/readyz`)).json()) as { problems: string[] }
    expect(body.problems.join(' ')).toMatch(/import API: submit answered HTTP 401/)
    const metrics = await (await fetch(`${ops}/metrics`)).text()
    expect(metricValue(metrics, 'bridge_api_requests_total{endpoint="submit",status="401"}')).toBeGreaterThan(
      0,
    )
    expect(metricValue(metrics, 'bridge_api_auth_failures_total')).toBeGreaterThan(0)
    // logged once, not once per refused request
    expect(
      bridge.logs.withMsg(
        'import API refused our credentials: check LIVINGDOCS_ACCESS_TOKEN or LIVINGDOCS_ACCESS_TOKEN_FILE; submits wait until it is fixed',
      ),
    ).toHaveLength(1)
    expect(results.records).toHaveLength(0)
    const committed = await fetchCommitted(world.kafka, topics.group, topics.input)
    expect([...committed.values()].every((o) => o === 0)).toBe(true)
    expect(bridge.logs.text()).not.toContain('wrong-token')
  })

  it('refuses to start when a topic does not exist, naming it, and creates it only when told to', async () => {
    // Given a configuration whose result topic was never created
    const emulator = await emulatorWith({})
    const { topics } = await createScenario(world, 'api-topic', emulator)
    const env = bridgeEnv(world, emulator, topics, {
      RESULT_TOPIC: `${topics.result}-missing`,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      METRICS_PORT: '0',
    })
    const logger = silentLogger

    // When it starts, then start-up fails with CONFIG_INVALID naming only the missing topic and its setting
    const failure = await startBridge(loadConfig(env, { loadMapping }), { logger }).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(BridgeError)
    expect((failure as BridgeError).code).toBe('CONFIG_INVALID')
    expect((failure as BridgeError).message).toContain(`RESULT_TOPIC=${topics.result}-missing`)
    expect((failure as BridgeError).message).not.toContain('INPUT_TOPIC')

    // When it starts with CREATE_MISSING_TOPICS, then it creates the topic with the asked partitions
    const bridge = await startBridge(
      loadConfig({ ...env, CREATE_MISSING_TOPICS: 'true', CREATED_TOPIC_PARTITIONS: '2' }, { loadMapping }),
      { logger },
    )
    world.defer(() => bridge.stop())
    const admin = world.kafka.admin()
    await admin.connect()
    const metadata = await admin.fetchTopicMetadata({ topics: [`${topics.result}-missing`] })
    await admin.disconnect()
    expect(metadata.topics[0]?.partitions).toHaveLength(2)
  })
})
