import { describe, expect, it } from 'vitest'
import {
  countStates,
  createScenario,
  metricValue,
  produceRecords,
  sampleExport,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import { startTopicReader } from '../support/result-reader.ts'

/** The job log: a restarted bridge adopts import jobs still running in Livingdocs. */
describe('job log and adoption of running jobs', () => {
  // Jobs run 15 s: long enough to stop the bridge (its consumer's fetch long-poll alone takes up to
  // 5 s) while they are still running.
  const { world, emulator } = useE2eWorld(
    { images: 12, pdfs: 8 },
    { emulator: { token: 'adopt-token', jobDurationMs: 15_000 } },
  )

  it('a bridge restarted mid-job follows the running jobs instead of submitting their files again', async () => {
    // Given a bridge with the job log on, small batches and a grace period too short for the jobs
    const { topics, results, start } = await createScenario(world, 'adopt', emulator)
    const env = {
      JOB_LOG_ENABLED: 'true',
      JOB_LOG_TOPIC: `${topics.group}.job-log`,
      CREATE_MISSING_TOPICS: 'true',
      SHUTDOWN_GRACE_MS: '100',
      BATCH_MAX_FILES: '4',
      MAX_JOBS_IN_FLIGHT: '20',
    }
    const first = await start(env)
    const { records, expected } = sampleExport(world, 'adopt', { broken: 2, repeats: 0 })
    await produceRecords(world, topics.input, records)
    const submittedFiles = () => emulator.listJobs().reduce((n, j) => n + j.files.length, 0)
    await waitUntil(() => submittedFiles() >= records.length, 60_000, 'every file in a submitted import job')

    // When it stops while the jobs still run, and a bridge of the same consumer group starts again
    await first.stop()
    const running = emulator.listJobs().filter((j) => !j.finished).length
    expect(running).toBeGreaterThan(0)
    const jobsBefore = emulator.listJobs().map((j) => j.id)
    const second = await start(env)

    // Then every record gets its result
    await results.waitFor((r) => r.length >= records.length, 90_000, 'a result per record')
    const values = results.records.map((r) => r.value)
    const positions = new Set(values.map((v) => `${v.sourcePartition}:${v.sourceOffset}`))
    expect(positions.size).toBe(records.length)
    expect(countStates(values)).toEqual(countStates(expected.map((state) => ({ state }))))
    // And Livingdocs saw each file submitted once: no new import job after the restart
    const jobs = emulator.listJobs()
    expect(jobs.map((j) => j.id)).toEqual(jobsBefore)
    const perFile = new Map<string, number>()
    for (const job of jobs) for (const f of job.files) perFile.set(f.id, (perFile.get(f.id) ?? 0) + 1)
    expect([...perFile.values()].every((n) => n === 1)).toBe(true)
    expect(perFile.size).toBe(records.length)
    // And the results name the jobs the first bridge submitted, which the second one adopted
    expect(values.every((v) => jobsBefore.includes(v.importJobId ?? ''))).toBe(true)
    const metrics = await (await fetch(second.metricsUrl)).text()
    expect(metricValue(metrics, 'bridge_batches_submitted_total')).toBe(0)
    const adopted = metricValue(metrics, 'bridge_jobs_adopted_total')
    expect(adopted).toBeGreaterThan(0)

    // And once the results are published the job log holds no running job (tombstones written)
    const log = await startTopicReader(world.kafka, env.JOB_LOG_TOPIC, (v) => v)
    world.defer(() => log.stop())
    const live = () => {
      const last = new Map<string, boolean>()
      for (const r of log.records) last.set(r.key ?? '', r.raw !== null && r.raw.length > 0)
      return [...last.values()].filter(Boolean).length
    }
    await waitUntil(() => log.records.length > 0 && live() === 0, 30_000, 'tombstones for every logged job')
    console.info(
      `job-adoption: events=${records.length} results=${values.length} duplicates=${values.length - positions.size} ` +
        `jobs=${jobsBefore.length} running-at-stop=${running} adopted=${adopted} ` +
        `new-jobs-after-restart=${jobs.length - jobsBefore.length}`,
    )
  })

  it('a replica joining mid-job adopts the running jobs of the partitions it takes over', async () => {
    // Given one replica with the job log on, whose import jobs of all three partitions are running
    const { topics, results, start } = await createScenario(world, 'adopt-join', emulator)
    const env = {
      JOB_LOG_ENABLED: 'true',
      JOB_LOG_TOPIC: `${topics.group}.job-log`,
      CREATE_MISSING_TOPICS: 'true',
      BATCH_MAX_FILES: '4',
      MAX_JOBS_IN_FLIGHT: '20',
    }
    const first = await start(env)
    const { records } = sampleExport(world, 'adopt-join', { broken: 2, repeats: 0 })
    await produceRecords(world, topics.input, records)
    const jobsOf = () =>
      emulator.listJobs().filter((j) => j.files.some((f) => f.id.startsWith('adopt-join-')))
    const submittedFiles = () => jobsOf().reduce((n, j) => n + j.files.length, 0)
    await waitUntil(() => submittedFiles() >= records.length, 60_000, 'every file in a submitted import job')
    const jobsBefore = jobsOf().map((j) => j.id)

    // When a second replica of the same consumer group joins while the jobs run
    const second = await start(env)

    // Then every record gets a result, no file is submitted again, and the newcomer adopted jobs
    await results.waitFor(
      (r) =>
        new Set(r.map((x) => `${x.value.sourcePartition}:${x.value.sourceOffset}`)).size >= records.length,
      90_000,
      'a result for every record',
    )
    await waitUntil(
      async () => {
        const texts = await Promise.all([first, second].map(async (b) => (await fetch(b.metricsUrl)).text()))
        return texts.every((t) => metricValue(t, 'bridge_jobs_in_flight') === 0)
      },
      30_000,
      'both replicas to have no job in flight',
    )
    expect(jobsOf().map((j) => j.id)).toEqual(jobsBefore)
    const metrics = await (await fetch(second.metricsUrl)).text()
    const adopted = metricValue(metrics, 'bridge_jobs_adopted_total')
    expect(adopted).toBeGreaterThan(0)
    expect(metricValue(metrics, 'bridge_batches_submitted_total')).toBe(0)
    // And a file with two results (old and new owner both publish) names the same import job twice,
    // so deduplicating by systemName + externalId + importJobId leaves one
    const values = results.records.map((r) => r.value)
    const byFile = new Map<string, Set<string | null>>()
    for (const v of values)
      byFile.set(v.externalId, (byFile.get(v.externalId) ?? new Set()).add(v.importJobId))
    expect([...byFile.values()].every((jobs) => jobs.size === 1)).toBe(true)
    expect(byFile.size).toBe(records.length)
    console.info(
      `job-adoption (join): events=${records.length} results=${values.length} ` +
        `duplicates=${values.length - byFile.size} jobs=${jobsBefore.length} adopted=${adopted} ` +
        `new-jobs-after-join=${jobsOf().length - jobsBefore.length}`,
    )
  })
})
