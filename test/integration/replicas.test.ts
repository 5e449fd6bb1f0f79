import { describe, expect, it } from 'vitest'
import type { TestBridge } from '../support/bridge-harness.ts'
import {
  countStates,
  createScenario,
  metricValue,
  produceRecords,
  sampleExport,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import { freePort } from '../support/free-port.ts'
import { type RoundRobinProxy, startRoundRobinProxy } from '../support/round-robin-proxy.ts'

/** Several replicas: webhooks reach any replica (a Service spreads them) and still finish the job. */
describe('two bridge replicas behind one webhook URL', () => {
  const { world, emulator } = useE2eWorld(
    { images: 24, pdfs: 16 },
    { emulator: { token: 'replica-token', jobDurationMs: 200 } },
  )

  it('finishes every job through webhooks alone, forwarding those that reach the other replica', async () => {
    // Given two replicas in one consumer group on a 3-partition input topic, whose webhook URL is a
    // round-robin proxy over both, and whose status poller waits 120 s (jobs can only finish by webhook)
    const ports = [await freePort(), await freePort()]
    const proxy: RoundRobinProxy = await startRoundRobinProxy(ports.map((p) => `http://127.0.0.1:${p}`))
    world.defer(() => proxy.close())
    const { topics, results, start } = await createScenario(world, 'replicas', emulator, {
      WEBHOOK_PUBLIC_URL: proxy.url,
      STATUS_POLL_INTERVAL_MS: '120000',
      BATCH_MAX_FILES: '4',
      BATCH_LINGER_MS: '100',
    })
    const a = await start({ HTTP_PORT: String(ports[0]) })
    const b = await start({ HTTP_PORT: String(ports[1]) })
    await waitUntil(
      () => {
        const owned = [assignedPartitions(a), assignedPartitions(b)]
        return owned.every((n) => n > 0) && owned[0] + owned[1] === 3
      },
      60_000,
      'both replicas to own input partitions',
    )

    // When an export of 40 files, 4 broken URLs and 2 repeated ids is produced
    const { records, expected } = sampleExport(world, 'replicas', { broken: 4, repeats: 2 })
    await produceRecords(world, topics.input, records)

    // Then every record gets its result well before the first status poll, and then nothing is in flight
    await results.waitFor((r) => r.length >= records.length, 90_000, 'a result per record')
    await waitUntil(
      async () => {
        const texts = await Promise.all([a, b].map(metricsOf))
        const published = texts.reduce(
          (n, t) => n + ['SUCCESS', 'SKIPPED', 'FAILED'].reduce((m, s) => m + filesTotal(t, s), 0),
          0,
        )
        return (
          published >= records.length && texts.every((t) => metricValue(t, 'bridge_jobs_in_flight') === 0)
        )
      },
      30_000,
      'both replicas to have no job in flight',
    )
    const values = results.records.map((r) => r.value)
    const positions = values.map((v) => `${v.sourcePartition}:${v.sourceOffset}`)
    const duplicates = positions.length - new Set(positions).size
    expect(duplicates).toBe(0)
    expect(values).toHaveLength(records.length)
    expect(countStates(values)).toEqual(countStates(expected.map((state) => ({ state }))))
    expect(new Set(values.map((v) => v.externalId))).toEqual(new Set(records.map((r) => r.externalId)))

    // And both replicas submitted jobs, and webhooks reached both through the proxy
    const [ma, mb] = await Promise.all([a, b].map(metricsOf))
    const ta = ma as string
    const tb = mb as string
    expect(metricValue(ta, 'bridge_batches_submitted_total')).toBeGreaterThan(0)
    expect(metricValue(tb, 'bridge_batches_submitted_total')).toBeGreaterThan(0)
    expect(proxy.counts.every((n) => n > 0)).toBe(true)
    // And webhooks of the other replica's jobs were forwarded and acted on by the owner
    const forwarded =
      metricValue(ta, 'bridge_job_notifications_total{direction="forwarded"}') +
      metricValue(tb, 'bridge_job_notifications_total{direction="forwarded"}')
    const received =
      metricValue(ta, 'bridge_job_notifications_total{direction="received"}') +
      metricValue(tb, 'bridge_job_notifications_total{direction="received"}')
    expect(forwarded).toBeGreaterThan(0)
    expect(received).toBeGreaterThan(0)
    expect(received).toBeLessThanOrEqual(forwarded)
    // And Livingdocs saw every webhook acknowledged, and no job was submitted twice
    const stats = emulator.stats()
    expect(stats.webhooksFailed).toBe(0)
    const submitted =
      metricValue(ta, 'bridge_batches_submitted_total') + metricValue(tb, 'bridge_batches_submitted_total')
    expect(stats.jobsCreated).toBe(submitted)
    console.info(
      `replicas: events=${records.length} results=${values.length} duplicates=${duplicates} ` +
        `jobs=${submitted} webhooks=${stats.webhooksDelivered} forwarded=${forwarded} received=${received} ` +
        `proxy=${proxy.counts.join('/')}`,
    )
  })
})

/** Input partitions the replica owns since its latest group join, from its log. */
function assignedPartitions(bridge: TestBridge): number {
  const last = bridge.logs.withMsg('joined consumer group').at(-1) as { owned?: number[] } | undefined
  return last?.owned?.length ?? 0
}

async function metricsOf(bridge: TestBridge): Promise<string> {
  return (await fetch(bridge.metricsUrl)).text()
}

function filesTotal(text: string, state: string): number {
  return metricValue(text, `bridge_files_total{state="${state}"}`)
}
