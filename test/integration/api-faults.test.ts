// The bridge against the import API's faults on a real broker, registry and the Livingdocs emulator:
// 429/5xx with retries, a long Retry-After, 422 (bisect), 413 (split), stuck jobs (timeout), and
// duplicated, late, forged and malformed webhooks. Each test prints one `fault-run` line with its figures.
import { request } from 'undici'
import { describe, expect, it } from 'vitest'
import { signBatchId } from '../../src/import/webhook-signature.ts'
import { WEBHOOK_PATH } from '../../src/model/webhook.ts'
import type { FileImportResult } from '../../src/outcome/outcome-event.ts'
import { TEST_WEBHOOK_SECRET } from '../support/bridge-harness.ts'
import {
  createScenario,
  fetchCommitted,
  metricValue,
  produceRecords,
  type Scenario,
  sampleExport,
  startEmulator,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import { reportFaultRun } from '../support/fault-run.ts'
import type {
  RunningLivingdocsEmulator,
  StartLivingdocsEmulatorOptions,
} from '../support/livingdocs-emulator/index.ts'

/** A small seeded PRNG (mulberry32), so that a fault run's random faults repeat from run to run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('bridge and the import API under faults', () => {
  const { world } = useE2eWorld({ images: 8, pdfs: 4 })

  /** An emulator with token `api-token` and `options`, closed with the world. */
  const emulatorWith = (options: StartLivingdocsEmulatorOptions) =>
    startEmulator(world, { token: 'api-token', ...options })

  /** Prints the run's `fault-run` line for the lead's note, and returns the figures. */
  const figures = (name: string, scenario: Scenario, sent: number, extra: Record<string, number> = {}) =>
    reportFaultRun(world, name, scenario, sent, extra)

  async function metricsOf(bridge: { metricsUrl: string }): Promise<string> {
    return (await fetch(bridge.metricsUrl)).text()
  }

  async function allCommitted(scenario: Scenario, count: number): Promise<void> {
    await waitUntil(
      async () => {
        const committed = await fetchCommitted(world.kafka, scenario.topics.group, scenario.topics.input)
        return [...committed.values()].reduce((a, b) => a + b, 0) === count
      },
      30_000,
      `offsets of all ${count} records committed`,
    )
  }

  it('retries 429 and 5xx with backoff and still gives every file one result', async () => {
    // Given Livingdocs answering 30 % of requests 429 (Retry-After: 1) and 20 % 500/502/503, seeded
    const emulator = await emulatorWith({
      random: seeded(42),
      faults: {
        rateLimit429: { probability: 0.3, retryAfterSeconds: 1 },
        serverError5xx: { probability: 0.2, status: [500, 502, 503] },
      },
    })
    const scenario = await createScenario(world, 'faults-storm', emulator, {
      BATCH_MAX_FILES: '3',
      API_MAX_RETRIES: '6',
      API_RATE_LIMIT_PER_SECOND: '20',
    })
    const bridge = await scenario.start()
    // (three exports of the 12 files under other ids: 36 records, 12 batches)
    const records = ['storm-a', 'storm-b', 'storm-c'].flatMap(
      (prefix) => sampleExport(world, prefix, { broken: 0, repeats: 0 }).records,
    )

    // When the exports are produced
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 90_000, 'a result per record')
    await allCommitted(scenario, records.length)

    // Then every file is imported once, nothing goes to the DLQ, and the retried attempts are visible
    const metrics = await metricsOf(bridge)
    const stats = emulator.stats()
    const faulted = Object.values(stats.requests).reduce(
      (n, byStatus) =>
        n + (byStatus[429] ?? 0) + (byStatus[500] ?? 0) + (byStatus[502] ?? 0) + (byStatus[503] ?? 0),
      0,
    )
    // every endpoint and status: the start-up check of the read scope is a look-up too
    const attempts = metricValue(metrics, 'bridge_api_attempts_total')
    const out = await figures('429+5xx', scenario, records.length, { faultedAnswers: faulted, attempts })
    expect(out).toMatchObject({
      results: records.length,
      duplicates: 0,
      dlq: 0,
      failedForUs: 0,
      SUCCESS: records.length,
    })
    expect(faulted).toBeGreaterThan(0)
    expect(metricValue(metrics, 'bridge_api_attempts_total{endpoint="submit",status="200"}')).toBeGreaterThan(
      0,
    )
    expect(
      metricValue(metrics, 'bridge_api_attempts_total{endpoint="submit",status="429"}') +
        metricValue(metrics, 'bridge_api_attempts_total{endpoint="status",status="429"}'),
    ).toBeGreaterThan(0)
    // Every faulted answer the emulator gave was an attempt the bridge counted
    expect(attempts).toBe(
      Object.values(stats.requestTotals).reduce((a, b) => a + b, 0) - (stats.requestTotals.other ?? 0),
    )
  })

  it('holds its requests for a Retry-After longer than API_RETRY_MAX_DELAY_MS, then finishes', async () => {
    // Given Livingdocs answering the next two imports 429 with Retry-After: 3 while the client waits at most 1 s
    const emulator = await emulatorWith({
      faults: { rateLimit429: { count: 2, retryAfterSeconds: 3, endpoints: ['import'] } },
    })
    const scenario = await createScenario(world, 'faults-retry-after', emulator, {
      API_RETRY_MAX_DELAY_MS: '1000',
    })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, 'retry-after', { broken: 1, repeats: 0 })

    // When an export is produced
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')

    // Then each 429 ended the client's retries at once (one attempt each), and everything arrived after
    const metrics = await metricsOf(bridge)
    expect(metricValue(metrics, 'bridge_api_attempts_total{endpoint="submit",status="429"}')).toBe(2)
    expect(metricValue(metrics, 'bridge_api_requests_total{endpoint="submit",status="429"}')).toBe(2)
    const out = await figures('long-retry-after', scenario, records.length)
    expect(out).toMatchObject({ results: records.length, duplicates: 0, dlq: 0, failedForUs: 0, FAILED: 1 })
    expect(bridge.logs.lines.some((l) => l.retryAfterMs === 3000)).toBe(true)
  })

  it('bisects a batch the API refuses with 422: the offending file FAILED, the others imported', async () => {
    // Given Livingdocs refusing any request that contains one particular file
    const { records } = sampleExport(world, 'bisect', { broken: 0, repeats: 0 })
    const bad = records[5]?.externalId as string
    const emulator = await emulatorWith({ faults: { rejectFiles: { externalIds: [bad], status: 422 } } })
    const scenario = await createScenario(world, 'faults-422', emulator, { BATCH_LINGER_MS: '1000' })
    await scenario.start()

    // When the export is produced (one batch of 12 files)
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    await allCommitted(scenario, records.length)

    // Then only the offending file is FAILED, with the API's answer, and the others are imported
    const values = scenario.results.records.map((r) => r.value)
    const failed = values.filter((v) => v.state === 'FAILED')
    expect(failed.map((v) => v.externalId)).toEqual([bad])
    expect(failed[0]?.reason).toMatch(/rejected by the import API: submit answered HTTP 422/)
    expect(failed[0]?.importJobId).toBeNull()
    const refused = refusedSubmits(emulator, 422)
    const out = await figures('422-bisect', scenario, records.length, { refusedRequests: refused })
    expect(out).toMatchObject({
      results: records.length,
      duplicates: 0,
      dlq: 0,
      failedForUs: 0,
      SUCCESS: records.length - 1,
    })
    expect(refused).toBeGreaterThan(1)
  })

  it('splits a batch the API refuses with 413 until each part fits', async () => {
    // Given Livingdocs accepting request bodies of at most 1500 bytes (a file entry is about 250)
    const emulator = await emulatorWith({ bodyLimitBytes: 1500 })
    const scenario = await createScenario(world, 'faults-413', emulator, { BATCH_LINGER_MS: '1000' })
    await scenario.start()
    const { records } = sampleExport(world, 'split', { broken: 0, repeats: 0 })

    // When a batch of 12 files is sent
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')

    // Then the 413s split it, and every file is imported
    const refused = refusedSubmits(emulator, 413)
    const out = await figures('413-split', scenario, records.length, { refusedRequests: refused })
    expect(out).toMatchObject({
      results: records.length,
      duplicates: 0,
      dlq: 0,
      failedForUs: 0,
      SUCCESS: records.length,
    })
    expect(refused).toBeGreaterThan(0)
  })

  it('fails the files of a job stuck past JOB_TIMEOUT_MS with reason timeout, frees its slot and commits', async () => {
    // Given Livingdocs whose jobs get stuck, and a bridge with one job slot and a 2 s job timeout
    const emulator = await emulatorWith({ faults: { stuckJobs: true } })
    const scenario = await createScenario(world, 'faults-timeout', emulator, {
      JOB_TIMEOUT_MS: '2000',
      MAX_JOBS_IN_FLIGHT: '1',
      BATCH_LINGER_MS: '500',
    })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, 'timeout', { broken: 0, repeats: 0 })
    const first = records.slice(0, 4)
    const rest = records.slice(4)

    // When four files are produced and their job gets stuck, then the fault is switched off and the
    // rest is produced (waiting behind the stuck job for the one slot)
    await produceRecords(world, scenario.topics.input, first)
    await waitUntil(() => emulator.stats().jobsCreated > 0, 30_000, 'a stuck job')
    emulator.setFaults({ stuckJobs: false })
    await produceRecords(world, scenario.topics.input, rest)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    await allCommitted(scenario, records.length)

    // Then the stuck job's files are FAILED timeout, the later ones imported, and the metric counts it
    const stuck = emulator.listJobs().filter((j) => j.fault === 'stuck')
    const stuckIds = new Set(stuck.flatMap((j) => j.files.map((f) => f.id)))
    const values = scenario.results.records.map((r) => r.value)
    for (const v of values) {
      if (stuckIds.has(v.externalId)) expect(v).toMatchObject({ state: 'FAILED', reason: 'timeout' })
      else expect(v.state).toBe('SUCCESS')
    }
    const metrics = await metricsOf(bridge)
    const timedOut = metricValue(metrics, 'bridge_jobs_timed_out_total')
    const out = await figures('stuck-job-timeout', scenario, records.length, { timedOutJobs: timedOut })
    expect(out).toMatchObject({ results: records.length, duplicates: 0, dlq: 0 })
    expect(stuck.length).toBeGreaterThan(0)
    expect(timedOut).toBe(stuck.length)
    expect(out.FAILED).toBe(stuckIds.size)
    // The one deliberate case: a job Livingdocs reported running past JOB_TIMEOUT_MS is not the files' fault
    expect(out.failedForUs).toBe(stuckIds.size)
  })

  it('handles duplicated, late, unknown, forged and malformed webhooks without a crash or a second result', async () => {
    // Given Livingdocs that sends every webhook twice, and a bridge that polls only once a minute
    const emulator = await emulatorWith({ faults: { duplicateWebhooks: true } })
    const scenario = await createScenario(world, 'faults-webhooks', emulator, {
      STATUS_POLL_INTERVAL_MS: '60000',
    })
    const bridge = await scenario.start()
    const hook = `http://127.0.0.1:${bridge.bridge.ports.http}${WEBHOOK_PATH}`
    const { records } = sampleExport(world, 'hooks', { broken: 1, repeats: 0 })

    // When an export is produced, its results arrive through the (duplicated) webhooks
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    const deliveries = emulator.stats().webhookDeliveries
    expect(deliveries.length).toBeGreaterThan(1)

    // When every real webhook is replayed late, and forged and malformed ones arrive
    const post = async (body: string, contentType = 'application/json', url = hook) => {
      const res = await request(url, { method: 'POST', headers: { 'content-type': contentType }, body })
      await res.body.dump()
      return res.statusCode
    }
    // (replayed both on the batch's own signed URL, where Livingdocs sent them, and on the plain path)
    const late = await Promise.all(
      deliveries.flatMap((d) => [
        post(JSON.stringify(d.body), 'application/json', d.url),
        post(JSON.stringify(d.body)),
      ]),
    )
    const real = deliveries[0]?.body as NonNullable<(typeof deliveries)[0]>['body']
    const batchId = String(real.context?.batchId)
    const answers = {
      unknownJob: await post(JSON.stringify({ ...real, id: 'no-such-job' })),
      otherBatch: await post(
        JSON.stringify({
          ...real,
          context: { batchId: 'forged', signature: signBatchId(TEST_WEBHOOK_SECRET, 'forged') },
        }),
      ),
      wrongSignature: await post(
        JSON.stringify({
          ...real,
          context: { batchId, signature: signBatchId('not-the-secret-at-all', batchId) },
        }),
      ),
      noSignature: await post(JSON.stringify({ ...real, context: { batchId } })),
      malformed: await post('{"id": "x", "context": {'),
      textPlain: await post(JSON.stringify(real), 'text/plain'),
      forgedUrl: await post(
        '{}',
        'text/plain',
        `${hook}/${batchId}?sig=${signBatchId('not-the-secret-at-all', batchId)}`,
      ),
      huge: await post(JSON.stringify({ ...real, pad: 'x'.repeat(3 * 1024 * 1024) })),
    }

    // Then the late ones (of any content type) and the unknown job are passed on to the other replicas
    // (job notifications are on by default with webhooks; this replica ignores its own notifications),
    // the forged ones refused, the malformed and oversized ones rejected, with no 5xx
    expect(new Set(late)).toEqual(new Set([202]))
    expect(answers).toEqual({
      unknownJob: 202,
      otherBatch: 202,
      wrongSignature: 401,
      noSignature: 401,
      malformed: 400,
      textPlain: 202,
      forgedUrl: 401,
      huge: 413,
    })
    // And the duplicated webhooks were answered 202 (first) and 200/202 (second), never an error
    expect(emulator.stats().webhooksFailed).toBe(0)

    // And no second result appears (waiting a little for any stray status read to settle), the bridge is healthy
    await new Promise((r) => setTimeout(r, 2000))
    const metrics = await metricsOf(bridge)
    const out = await figures('webhooks', scenario, records.length, {
      webhooksSent: deliveries.length,
      accepted: metricValue(metrics, 'bridge_webhooks_received_total{outcome="accepted"}'),
      forwarded: metricValue(metrics, 'bridge_webhooks_received_total{outcome="forwarded"}'),
      unauthorized: metricValue(metrics, 'bridge_webhooks_received_total{outcome="unauthorized"}'),
      invalid: metricValue(metrics, 'bridge_webhooks_received_total{outcome="invalid"}'),
    })
    expect(out).toMatchObject({ results: records.length, duplicates: 0, dlq: 0, failedForUs: 0, FAILED: 1 })
    expect(out.unauthorized).toBe(3)
    expect(out.invalid).toBe(2)
    expect(out.forwarded).toBeGreaterThanOrEqual(2 * deliveries.length + 3)
    const ops = `http://127.0.0.1:${bridge.bridge.ports.metrics}`
    expect((await fetch(`${ops}/healthz`)).status).toBe(200)
    expect(bridge.logs.text()).not.toContain(TEST_WEBHOOK_SECRET)
    const fileResults: FileImportResult[] = scenario.results.records.map((r) => r.value)
    expect(new Set(fileResults.map((v) => v.externalId)).size).toBe(records.length)
  })
})

/** Submits the emulator answered with `status`, over the file, image and video imports. */
function refusedSubmits(emulator: RunningLivingdocsEmulator, status: number): number {
  const requests = emulator.stats().requests
  return ['files', 'images', 'videos'].reduce((n, k) => n + (requests[`POST /import/${k}`]?.[status] ?? 0), 0)
}
