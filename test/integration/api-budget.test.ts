// One API budget for the whole consumer group (issue 26): replicas share API_RATE_LIMIT_PER_SECOND and
// MAX_JOBS_IN_FLIGHT by the partitions they own, and the emulator counts what they send together.
import { describe, expect, it, onTestFinished } from 'vitest'
import { slowCapacity } from '../../scripts/bench/modes.ts'
import { type ApiLoad, apiLoad } from '../support/api-load.ts'
import type { TestBridge } from '../support/bridge-harness.ts'
import { bulkExport } from '../support/bulk-export.ts'
import {
  bridgeEnv,
  createTopics,
  produceRecords,
  startBridgeIn,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import { sourceOf } from '../support/fault-run.ts'

/** The group's budget. */
const RATE = 10
const JOBS = 6
/** How long each emulated job runs, ms: short enough that the rate, not the jobs, bounds the group. */
const JOB_MS = 800
const BATCH_FILES = 20
const SHARE_MSG = "API budget: this replica's share of the consumer group's"

/** A replica's latest share, from its log. */
function shareOf(bridge: TestBridge): {
  maxJobsInFlight: number
  rateLimitPerSecond: number
  partitions: number[]
} {
  return bridge.logs.withMsg(SHARE_MSG).at(-1) as never
}

/**
 * The bench's slow-mode utilisation (scripts/bench/run.ts): files/s ÷ what the budget allows the group
 * (jobs in flight and the rate limit, Little's law), over the span of the backlog.
 */
function utilisation(load: ApiLoad, spanMs: number): number {
  const filesPerBatch = load.files / Math.max(1, load.jobs)
  return (load.files * 1000) / spanMs / slowCapacity(JOBS, filesPerBatch, JOB_MS, [RATE])
}

describe('one API budget for the consumer group', () => {
  const { world, emulator } = useE2eWorld(
    { images: 0, pdfs: 0 },
    { emulator: { token: 'budget-token', jobDurationMs: JOB_MS, skipDownloads: true } },
  )

  /**
   * Starts `replicas` bridges on a fresh 6-partition topic with the group budget, waits until each owns
   * its partitions, then produces `events` at once (a backlog). The bridges stop when the test ends:
   * the emulator is the file's, and a bridge of an earlier test still polling its last jobs would count
   * in the next test's load (CI saw 20 requests in one second, 10 + 5 + 5, that way).
   */
  async function backlogRun(prefix: string, replicas: number, events: number) {
    const { topics, results } = await createTopics(world, prefix, 6)
    const env = bridgeEnv(world, emulator, topics, {
      API_RATE_LIMIT_PER_SECOND: String(RATE),
      MAX_JOBS_IN_FLIGHT: String(JOBS),
      BATCH_MAX_FILES: String(BATCH_FILES),
      BATCH_LINGER_MS: '100',
      STATUS_POLL_INTERVAL_MS: '5000',
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      LAG_INTERVAL_MS: '0',
    })
    const bridges: TestBridge[] = []
    onTestFinished(async () => {
      await Promise.all(bridges.map((b) => b.stop()))
    })
    for (let i = 0; i < replicas; i++) {
      bridges.push(await startBridgeIn(world, env))
    }
    await waitUntil(
      () => bridges.every((b) => shareOf(b)?.partitions.length === 6 / replicas),
      60_000,
      `each of ${replicas} replicas to own its share of 6 partitions`,
    )
    const records = bulkExport(prefix, events)
    const from = Date.now()
    await produceRecords(world, topics.input, records, 'json')
    return { bridges, results, records, from }
  }

  it('keeps 3 replicas within 10 requests/s and 6 jobs together, using it; 2 replicas take the third one’s share', async () => {
    // Given 3 replicas with a group budget of 10 requests/s and 6 jobs on 6 partitions: shares 4+3+3
    // requests/s and 2+2+2 jobs (by partition: 10 over 6 partitions is 2,2,2,2,1,1)
    const { bridges, results, records, from } = await backlogRun('budget-3', 3, 2400)
    const shares = bridges.map(shareOf)
    expect(shares.map((s) => s.rateLimitPerSecond).reduce((a, b) => a + b)).toBe(RATE)
    expect(shares.map((s) => s.maxJobsInFlight)).toEqual([2, 2, 2])

    // When half the backlog has its results, one replica leaves
    await results.waitFor((r) => r.length >= records.length / 2, 120_000, 'half the results')
    const [a, b, c] = bridges as [TestBridge, TestBridge, TestBridge]
    const sharesBefore = [a, b].map((x) => x.logs.withMsg(SHARE_MSG).length)
    const leftAt = Date.now()
    await c.stop()
    // Then the other two take its share at the next rebalance: one join each, 5 + 5 requests/s, 3 + 3 jobs
    await waitUntil(
      () => [a, b].every((x, i) => x.logs.withMsg(SHARE_MSG).length > (sharesBefore[i] as number)),
      60_000,
      'a new share for both remaining replicas',
    )
    const rebalancedAt = Date.now()
    const after = [a, b].map(shareOf)
    expect(after.map((s) => s.partitions.length)).toEqual([3, 3])
    expect(after.map((s) => s.rateLimitPerSecond)).toEqual([5, 5])
    expect(after.map((s) => s.maxJobsInFlight)).toEqual([3, 3])

    // And every event gets its result
    await results.waitFor((r) => new Set(r.map(sourceOf)).size >= records.length, 180_000, 'every result')
    const to = Math.max(...results.records.map((r) => r.timestamp))

    // Then the emulator never saw more than the budget outside the rebalance (from the leave until
    // the new shares, and one job's time after it: jobs in flight are kept, not dropped)
    const steady = [apiLoad(emulator, from, leftAt), apiLoad(emulator, rebalancedAt + JOB_MS, to)]
    const rebalance = apiLoad(emulator, leftAt, rebalancedAt + JOB_MS)
    const whole = apiLoad(emulator, from, to)
    for (const load of steady) {
      expect(load.maxPerSecond).toBeLessThanOrEqual(RATE)
      expect(load.maxJobsOpen).toBeLessThanOrEqual(JOBS)
    }
    // And during the rebalance at most two jobs more (docs/replicas.md: jobs in flight are kept, and a
    // replica whose share grew may start at once; one run in five saw 8), the rate within the budget
    expect(rebalance.maxJobsOpen).toBeLessThanOrEqual(JOBS + 2)
    expect(rebalance.maxPerSecond).toBeLessThanOrEqual(RATE)
    // And during the backlog (outside the rebalance, whose time the next owner spends joining) it used at
    // least 90% of the rate and of what the budget allows in files/s; the whole run's figures beside them
    const steadyMs = leftAt - from + (to - rebalancedAt - JOB_MS)
    const steadyRequests = steady.reduce((n, l) => n + l.requests, 0)
    const steadyMeanPerSecond = (steadyRequests * 1000) / steadyMs
    const steadyUtil = utilisation(
      {
        ...whole,
        files: steady.reduce((n, l) => n + l.files, 0),
        jobs: steady.reduce((n, l) => n + l.jobs, 0),
      },
      steadyMs,
    )
    const util = utilisation(whole, to - from)
    console.info(
      `api-budget 3 replicas: events=${records.length} requests=${whole.requests} ` +
        `maxPerSecond=${steady.map((l) => l.maxPerSecond).join('/')} (rebalance ${rebalance.maxPerSecond}) ` +
        `busiest second: ${steady.map((l) => l.busiestSecond).join(' / ')} ` +
        `meanPerSecond=${steadyMeanPerSecond.toFixed(2)} (whole run ${whole.meanPerSecond.toFixed(2)}) ` +
        `maxJobsOpen=${steady.map((l) => l.maxJobsOpen).join('/')} ` +
        `(rebalance ${rebalance.maxJobsOpen}) meanJobsOpen=${whole.meanJobsOpen.toFixed(2)} ` +
        `rebalance=${rebalancedAt - leftAt} ms slow-mode utilisation=${(steadyUtil * 100).toFixed(1)}% ` +
        `(whole run ${(util * 100).toFixed(1)}%)`,
    )
    // The 90% is judged in files/s against what the budget allows (the bench's slow-mode
    // utilisation): 96-106% in four runs on 2026-12-07 15:10-15:20. Requests/s count status reads too,
    // which webhooks make fewer of, so their bound is looser (8.94-9.74 requests/s in those runs). The
    // same runs with the probe of newly assigned partitions off (src/kafka/fetch-positions.ts) gave
    // 9.87 and 107%: the 10% loss seen earlier that day was the loaded machine's, not the probe's.
    expect(steadyMeanPerSecond / RATE).toBeGreaterThanOrEqual(0.85)
    expect(steadyUtil).toBeGreaterThanOrEqual(0.9)
  })

  it('gives one replica the whole budget, used as fully (the slow-mode utilisation with 1 replica)', async () => {
    // Given 1 replica with the same group budget: it owns all 6 partitions, so its share is all of it
    const { bridges, results, records, from } = await backlogRun('budget-1', 1, 1200)
    expect(shareOf(bridges[0] as TestBridge)).toMatchObject({
      rateLimitPerSecond: RATE,
      maxJobsInFlight: JOBS,
    })
    // When the backlog is worked off
    await results.waitFor((r) => new Set(r.map(sourceOf)).size >= records.length, 180_000, 'every result')
    const to = Math.max(...results.records.map((r) => r.timestamp))
    // Then it stayed within the budget and used it
    const load = apiLoad(emulator, from, to)
    const util = utilisation(load, to - from)
    console.info(
      `api-budget 1 replica: events=${records.length} requests=${load.requests} maxPerSecond=${load.maxPerSecond} ` +
        `(${load.busiestSecond}) ` +
        `meanPerSecond=${load.meanPerSecond.toFixed(2)} maxJobsOpen=${load.maxJobsOpen} ` +
        `meanJobsOpen=${load.meanJobsOpen.toFixed(2)} slow-mode utilisation=${(util * 100).toFixed(1)}%`,
    )
    expect(load.maxPerSecond).toBeLessThanOrEqual(RATE)
    expect(load.maxJobsOpen).toBeLessThanOrEqual(JOBS)
    expect(load.meanPerSecond / RATE).toBeGreaterThanOrEqual(0.9)
    expect(util).toBeGreaterThanOrEqual(0.9)
  })
})
