// A second bridge joins the consumer group mid-run and leaves again: partitions move twice, jobs of
// revoked partitions finish, no offset is committed by a member that no longer owns the partition.
import { describe, expect, it } from 'vitest'
import {
  fetchCommitted,
  produceRecords,
  sampleExport,
  scrapeMetric,
  startBridgeIn,
  startEmulator,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import {
  createFaultRun,
  logFaultFigures,
  sampleCommitted,
  sourceOf,
  waitCommittedAtLogEnd,
} from '../support/fault-run.ts'

describe('rebalance with a second bridge in the same consumer group', () => {
  const { world } = useE2eWorld({ images: 12, pdfs: 8 })

  it('commits what settled when a rebalance starts, before the partitions are revoked (not at the next interval)', async () => {
    // Given a bridge that commits only every 10 min, which has resulted a backlog of 20 records on 2 partitions
    const emulator = await startEmulator(world, { token: 'revoke-token', jobDurationMs: 50 })
    const run = await createFaultRun(world, 'revoke-commit', emulator, 2)
    const records = sampleExport(world, 'rv', { broken: 0, repeats: 0 }).records
    await produceRecords(world, run.topics.input, records)
    const bridge = await startBridgeIn(world, { ...run.env, COMMIT_INTERVAL_MS: '600000' })
    await run.results.waitFor(
      (r) => new Set(r.map(sourceOf)).size >= records.length,
      60_000,
      'a result for every record',
    )
    expect([...(await fetchCommitted(world.kafka, run.topics.group, run.topics.input)).values()]).toEqual([
      0, 0,
    ])

    // When a consumer this project did not write (plain kafkajs, committing nothing) joins the group
    const other = world.kafka.consumer({ groupId: run.topics.group, sessionTimeout: 10_000 })
    await other.connect()
    try {
      await other.subscribe({ topic: run.topics.input, fromBeginning: true })
      await other.run({ autoCommit: false, eachBatch: async () => undefined })

      // Then the bridge committed its settled offsets when told of the rebalance: the log end of both partitions
      const logEnd = await waitCommittedAtLogEnd(world, run, 20_000)
      expect([...logEnd.values()].reduce((a, b) => a + b, 0)).toBe(records.length)
      expect(bridge.logs.find('rebalance: partitions revoked') !== undefined).toBe(true)
      expect(bridge.logs.find('offset commit failed; retrying on the next interval')).toBeUndefined()
    } finally {
      await other.disconnect()
    }
  })

  it.each([
    { name: 'short jobs', jobDurationMs: 500, jobDurationJitterMs: 1000 },
    { name: 'jobs running across the rebalance', jobDurationMs: 2500, jobDurationJitterMs: 500 },
  ])(
    'a member joining and leaving mid-run ($name): every record has a result, committed offsets never go back',
    async ({ name, jobDurationMs, jobDurationJitterMs }) => {
      // Given a backlog of 80 records on 4 partitions, slow import jobs, and one bridge at work
      const emulator = await startEmulator(world, {
        token: 'rebalance-token',
        jobDurationMs,
        jobDurationJitterMs,
      })
      const run = await createFaultRun(world, 'rebalance', emulator, 4)
      const records = ['rb1', 'rb2', 'rb3', 'rb4'].flatMap(
        (p) => sampleExport(world, p, { broken: 0, repeats: 0 }).records,
      )
      await produceRecords(world, run.topics.input, records)
      const env = {
        ...run.env,
        BATCH_MAX_FILES: '5',
        MAX_JOBS_IN_FLIGHT: '2',
        MAX_FILES_IN_FLIGHT: '20',
        KAFKA_SESSION_TIMEOUT_MS: '10000',
      }
      const first = await startBridgeIn(world, env)

      // And a sampler of the committed offsets (admin client)
      const sampler = await sampleCommitted(world, run.topics.group, run.topics.input)
      await run.results.waitFor((r) => r.length >= 5, 60_000, 'the first results')

      // When a second bridge joins the group, takes part of the work, and leaves (SIGTERM-like stop)
      const second = await startBridgeIn(world, env)
      await waitUntil(
        async () => (await scrapeMetric(second, 'bridge_files_total{state="SUCCESS"}')) > 0,
        60_000,
        'a result published by the second bridge',
      )
      const answeredWhileTwo = new Set(run.results.records.map(sourceOf)).size
      await second.stop()

      // Then the first bridge takes its partitions back and every record has at least one result
      await run.results.waitFor(
        (r) => new Set(r.map(sourceOf)).size >= records.length,
        180_000,
        'a result for every record',
      )
      await waitCommittedAtLogEnd(world, run, 30_000, sampler.latest)
      await sampler.stop()
      const figures = logFaultFigures(`rebalance-join-leave (${name})`, records.length, run)
      console.info(`rebalance: records answered when the second bridge left=${answeredWhileTwo}`)
      expect(figures.answered).toBe(records.length)
      expect(figures.dlq).toBe(0)
      expect(answeredWhileTwo).toBeLessThan(records.length)
      // And partitions really moved: the first bridge saw its partitions revoked, and after the second
      // left it joined a third time, taking every partition back
      await waitUntil(
        () => first.logs.withMsg('joined consumer group').length >= 3,
        60_000,
        'the first bridge rejoining after the second left',
      )
      const lastJoin = first.logs.withMsg('joined consumer group').at(-1)
      // (the line names the partitions owned, and those assigned and revoked since the previous join)
      expect(lastJoin).toMatchObject({ topic: run.topics.input, owned: [0, 1, 2, 3], revoked: [] })
      expect(((lastJoin?.assigned ?? []) as number[]).length).toBeGreaterThan(0)
      expect(first.logs.find('rebalance: partitions revoked') !== undefined).toBe(true)
      // And a committed offset never moved backwards (no stale member committed an older position)
      const history = sampler.samples.map((s) => s.committed)
      for (let i = 1; i < history.length; i++) {
        for (const [p, offset] of history[i] as Map<number, number>) {
          expect(offset, `partition ${p}, sample ${i}`).toBeGreaterThanOrEqual(history[i - 1]?.get(p) ?? -1)
        }
      }
      // And duplicates, if any, are only re-imports of the same file (deduplicable by job id)
      const bySource = new Map<string, Set<string>>()
      for (const r of run.results.records) {
        const jobs = bySource.get(sourceOf(r)) ?? new Set<string>()
        expect(jobs.has(r.value.importJobId as string), `one result per job for ${sourceOf(r)}`).toBe(false)
        jobs.add(r.value.importJobId as string)
        bySource.set(sourceOf(r), jobs)
      }
    },
  )
})
