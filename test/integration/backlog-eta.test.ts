// The ETA of a steady backlog converges on the time the backlog really takes to drain: a bridge against
// the emulator at a fixed job rate (one job of 10 files in flight, each taking 400 ms), its
// bridge_backlog_eta_seconds read while it drains, compared with when the backlog reached 0.
import { describe, expect, it } from 'vitest'
import { createScenario, metricValue, produceRecords, useE2eWorld, waitUntil } from '../support/e2e-world.ts'

/** Records of the backlog: about 25 s at the emulator's rate on an idle machine. */
const BACKLOG = 500

describe('ETA of a steady backlog', () => {
  const { world, emulator } = useE2eWorld(
    { images: 0, pdfs: 4 },
    { emulator: { token: 'eta-token', jobDurationMs: 400 } },
  )

  it('converges on the time the backlog takes to drain', { timeout: 240_000 }, async () => {
    // Given a backlog of 500 records, and a bridge whose jobs run one at a time, 10 files each
    const { topics, results, start } = await createScenario(world, 'eta', emulator)
    const records = Array.from({ length: BACKLOG }, (_, i) => ({
      externalId: `eta-${i}`,
      url: `${world.fileServer.url}/${world.files[i % world.files.length]?.name}`,
      fileName: `eta ${i}`,
      systemName: 'legacy-archive',
      occurredAt: new Date(Date.UTC(2024, 0, 1)).toISOString(),
    }))
    await produceRecords(world, topics.input, records)
    const bridge = await start({
      MAX_JOBS_IN_FLIGHT: '1',
      BATCH_MAX_FILES: '10',
      BATCH_LINGER_MS: '50',
      LAG_INTERVAL_MS: '250',
      BACKLOG_RATE_WINDOW_MS: '5000',
    })

    // When the ETA is read every 250 ms while the backlog drains
    const samples: Array<{ at: number; eta: number; behind: number }> = []
    const labels = `{topic="${topics.input}"}`
    let drainedAt = 0
    await waitUntil(
      async () => {
        const text = await (await fetch(bridge.metricsUrl)).text()
        const behind = metricValue(text, `bridge_backlog_records${labels}`)
        const started = metricValue(text, `bridge_backlog_done_records${labels}`) > 0
        if (started && behind === 0) {
          drainedAt = Date.now()
          return true
        }
        if (started && text.includes(`bridge_backlog_eta_seconds${labels}`))
          samples.push({
            at: Date.now(),
            eta: metricValue(text, `bridge_backlog_eta_seconds${labels}`),
            behind,
          })
        return false
      },
      180_000,
      'the backlog drained',
    )
    await results.waitFor((r) => r.length >= BACKLOG, 30_000, 'a result per record')

    // Then, once the average has seen a window (5 s) of the run, the ETAs are within 20% (median) of the
    // time the backlog really still took, and none is off by more than 30% of the whole drain (near
    // the end a second of jitter is a large share of what is left: the relative worst is printed, not
    // bounded); the errors are printed for the note
    const first = samples[0]?.at ?? drainedAt
    const took = drainedAt - first
    const steady = samples.filter((s) => s.at >= first + 5000 && drainedAt - s.at >= 2000)
    expect(steady.length).toBeGreaterThan(10)
    const misses = steady.map((s) => Math.abs(s.eta * 1000 - (drainedAt - s.at)))
    const errors = steady.map((s, i) => (misses[i] as number) / (drainedAt - s.at))
    const sorted = [...errors].sort((a, b) => a - b)
    const median = sorted[Math.floor(sorted.length / 2)] as number
    const worst = sorted.at(-1) as number
    const worstMiss = Math.max(...misses)
    console.info(
      `backlog-eta: ${BACKLOG} records drained in ${(took / 1000).toFixed(1)} s (${((BACKLOG * 1000) / took).toFixed(1)}/s); ETA error over ${steady.length} readings: median ${(median * 100).toFixed(1)}%, worst ${(worst * 100).toFixed(1)}% (${(worstMiss / 1000).toFixed(1)} s)`,
    )
    // (measured under a load of 27 to 35 on the 2 cores: median 6.5 to 11.6%, worst 26 to 70%, the
    // worst miss up to 4.3 s of a 21 to 32 s drain: the median stays, the worst moves with the load).
    // The median's bound is 20%: on one tree the median ranges 6 to 16% from run to run (alone: 7.7,
    // 8.2, 13.3% before the storm work of 2026-12-08; 7.9, 8.4, 11.7% after; in full CI runs 5.5, 5.7,
    // 11.8, 15.5, 16.1%), so a 15% bound judged the machine's load, not the estimator; the spread's
    // cause is open (not the 1 s commit steps: committing every 250 ms gave 9.8 to 12.1%)
    expect(median).toBeLessThan(0.2)
    expect(worstMiss).toBeLessThan(0.3 * took)
  })
})
