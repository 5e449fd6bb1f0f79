import { describe, expect, it } from 'vitest'
import { TEST_ADMIN_TOKEN as ADMIN_TOKEN, adminRequest as admin, adminEnv, opsUrl } from '../support/admin.ts'
import type { TestBridge } from '../support/bridge-harness.ts'
import {
  createScenario,
  fetchCommitted,
  produceRecords,
  sampleExport,
  scrapeMetric,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import { type ProcessRun, runProcess } from '../support/run-process.ts'
import { projectRoot } from '../support/run-script.ts'

/** Runs `npm run admin -- args` as its own process (async: the bridges run in this one). */
function adminCli(args: string[]): Promise<ProcessRun> {
  return runProcess(process.execPath, ['scripts/admin.ts', ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, ADMIN_TOKEN },
    timeoutMs: 60_000,
  })
}

const urlsOf = (...bridges: TestBridge[]) => bridges.flatMap((b) => ['--url', opsUrl(b)])

const consumed = (b: TestBridge) => scrapeMetric(b, 'bridge_events_consumed_total')

/** An operator's pause through the admin API: every replica of the group, the jobs in flight still followed. */
describe('pause and resume every replica through the admin API', () => {
  const { world, emulator } = useE2eWorld(
    { images: 10, pdfs: 10 },
    { emulator: { token: 'pause-token', jobDurationMs: 6000 } },
  )

  it('pauses two replicas from one, finishes the job in flight, keeps a later replica paused, resumes all', async () => {
    // Given two replicas with an admin token, on a 3-partition input topic
    const { topics, results, start } = await createScenario(world, 'pause', emulator, {
      ...adminEnv('pause'),
      BATCH_MAX_FILES: '4',
      BATCH_LINGER_MS: '100',
    })
    const a = await start()
    const b = await start()
    await waitUntil(
      async () =>
        (await admin(a, 'GET', 'status')).json.partitions !== undefined &&
        a.logs.withMsg('joined consumer group').length > 0 &&
        b.logs.withMsg('joined consumer group').length > 0,
      60_000,
      'both replicas joined',
    )
    // And a first export consumed, with jobs in flight (each runs 6 s at the emulator)
    const { records } = sampleExport(world, 'pause1', { broken: 0, repeats: 0 })
    const first = records.slice(0, 8)
    await produceRecords(world, topics.input, first)
    await waitUntil(
      async () => (await consumed(a)) + (await consumed(b)) >= first.length,
      30_000,
      'the first export consumed',
    )
    const jobCounts = await Promise.all(
      [a, b].map(async (r) => ((await admin(r, 'GET', 'status')).json.jobs as unknown[]).length),
    )
    const jobsBefore = jobCounts.reduce((n, c) => n + c, 0)
    const owners = [a, b].filter((_, i) => (jobCounts[i] ?? 0) > 0).map(opsUrl)
    expect(jobsBefore).toBeGreaterThan(0)
    // And the CLI merges both replicas' jobs, each with the replica that follows it
    const merged = await adminCli(['jobs', '--json', ...urlsOf(a, b)])
    expect(merged.code).toBe(0)
    const mergedJobs = JSON.parse(merged.stdout) as Array<{ replica: string; ageMs: number }>
    expect(mergedJobs).toHaveLength(jobsBefore)
    expect(new Set(mergedJobs.map((j) => j.replica))).toEqual(new Set(owners))
    expect(mergedJobs.map((j) => j.ageMs)).toEqual([...mergedJobs.map((j) => j.ageMs)].sort((x, y) => y - x))

    // When a pause comes with a wrong token, nothing changes
    expect((await admin(a, 'POST', 'pause', { token: 'not-the-admin-token-at-all' })).status).toBe(401)
    expect((await admin(a, 'GET', 'status')).json.pause).toMatchObject({ paused: false })
    // And when replica a is asked to pause, with a reason
    const askedAt = Date.now()
    const paused = await admin(a, 'POST', 'pause', { reason: 'Livingdocs upgrade tonight' })
    expect(paused.status).toBe(200)
    expect(paused.json).toMatchObject({ paused: true, reason: 'Livingdocs upgrade tonight' })
    // Then both replicas are paused within a few seconds
    await waitUntil(
      async () =>
        (await scrapeMetric(a, 'bridge_paused')) === 1 && (await scrapeMetric(b, 'bridge_paused')) === 1,
      10_000,
      'both replicas paused',
    )
    const pausedAfterMs = Date.now() - askedAt
    // And records produced during the pause are not fetched, while the jobs in flight still get their
    // results and their offsets committed
    const second = records.slice(8, 14)
    await produceRecords(world, topics.input, second)
    await results.waitFor((r) => r.length >= first.length, 60_000, 'results of the jobs in flight')
    await waitUntil(
      async () =>
        [...(await fetchCommitted(world.kafka, topics.group, topics.input)).values()].reduce(
          (n, o) => n + o,
          0,
        ) >= first.length,
      30_000,
      'the first export committed',
    )
    expect((await consumed(a)) + (await consumed(b))).toBe(first.length)
    // And both stay ready (webhooks must reach them)
    for (const r of [a, b]) expect((await fetch(`${opsUrl(r)}/readyz`)).status).toBe(200)

    // When a third replica starts during the pause, it is paused from its start
    const c = await start()
    expect(await scrapeMetric(c, 'bridge_paused')).toBe(1)
    expect((await admin(c, 'GET', 'status')).json.pause).toMatchObject({
      paused: true,
      reason: 'Livingdocs upgrade tonight',
    })

    // When the CLI resumes (through the first replica that answers: here b), every replica fetches again
    const resumed = await adminCli(['resume', '--reason', 'upgrade done', ...urlsOf(b, a, c)])
    expect(resumed.code).toBe(0)
    expect(resumed.stdout).toContain(`resumed through ${opsUrl(b)}: 3 of 3 replicas running`)
    console.info(`npm run admin -- resume:\n${resumed.stdout}`)
    await results.waitFor(
      (r) => r.length >= first.length + second.length,
      60_000,
      'results of the export produced during the pause',
    )
    for (const r of [a, b, c]) expect(await scrapeMetric(r, 'bridge_paused')).toBe(0)
    // And each replica logged the pause and the resume once
    for (const r of [a, b]) {
      expect(r.logs.lines.filter((l) => l.msg?.startsWith('migration paused by an operator'))).toHaveLength(1)
      expect(r.logs.withMsg('migration resumed by an operator')).toHaveLength(1)
    }
    for (const r of [a, b, c]) expect(r.logs.text()).not.toContain(ADMIN_TOKEN)
    console.info(
      `pause: both replicas paused ${pausedAfterMs} ms after the request; jobs in flight at the pause: ${jobsBefore}`,
    )
  })
})

/** Where is file X: a file in each of its stages, and a job by id. */
describe('finding a file and a job through the admin API', () => {
  const { world, emulator } = useE2eWorld(
    { images: 10, pdfs: 0 },
    { emulator: { token: 'where-token', jobDurationMs: 120_000 } },
  )

  it('finds a file waiting, batched and in a job, and the job with its age and attempts', async () => {
    // Given one bridge with one job slot, batches of 2 files and a long linger, on one input partition
    const { topics, start } = await createScenario(world, 'where', emulator, {
      ...adminEnv('where'),
      MAX_JOBS_IN_FLIGHT: '1',
      BATCH_MAX_FILES: '2',
      BATCH_LINGER_MS: '600000',
    })
    const bridge = await start()
    // When 5 files are produced, the first one twice: the first 2 go into a job, the next 2 wait in a
    // batch for the slot, the fifth in an open batch, and the repeat of the first waits behind it
    const { records } = sampleExport(world, 'where', { broken: 0, repeats: 0 })
    const five = records.slice(0, 5)
    await produceRecords(world, topics.input, [...five, { ...(five[0] as (typeof five)[0]) }])
    await waitUntil(async () => (await consumed(bridge)) >= 6, 30_000, 'six records consumed')
    const systemName = five[0]?.systemName ?? 'legacy-archive'
    const where = async (i: number) =>
      (await admin(bridge, 'GET', `files/${systemName}/${five[i]?.externalId}`)).json.places
    await waitUntil(
      async () => ((await admin(bridge, 'GET', 'status')).json.jobs as unknown[]).length === 1,
      30_000,
      'a job in flight',
    )

    // Then the lookup names each file's stage: 2 in the job, 2 in one batch waiting for the slot, 1 in an
    // open batch, and the repeat of the first waiting behind it
    type Place = { stage: string; in?: string; jobId?: string; batchId?: string }
    const places = (await Promise.all([0, 1, 2, 3, 4].map(where))) as Place[][]
    const stageOf = (p: Place) => (p.in === undefined ? p.stage : `${p.stage}/${p.in}`)
    const latest = places.map((list) => list.map(stageOf)[0])
    expect(latest.sort()).toEqual(['batched', 'batched', 'in-job', 'in-job', 'waiting/open-batch'])
    expect(places[0]?.map(stageOf).slice(1)).toEqual(['waiting/behind-earlier-file'])
    const inJob = places.flat().filter((p) => p.stage === 'in-job')
    const batched = places.flat().filter((p) => p.stage === 'batched')
    const jobId = inJob[0]?.jobId as string
    expect(new Set(inJob.map((p) => p.jobId))).toEqual(new Set([jobId]))
    expect(new Set(batched.map((p) => p.batchId)).size).toBe(1)
    // And the job by id, with its age and attempts; an unknown file or job is a 404
    const job = await admin(bridge, 'GET', `jobs/${jobId}`)
    expect(job.json).toMatchObject({ jobId, files: 2, attempts: 1, state: 'running' })
    expect(job.json.ageMs).toBeGreaterThanOrEqual(0)
    expect((await admin(bridge, 'GET', 'jobs/no-such-job')).status).toBe(404)
    expect((await admin(bridge, 'GET', `files/${systemName}/no-such-file`)).status).toBe(404)
    // And the CLI says it in words; a file no replica holds exits 1
    const open = five[places.findIndex((list) => list[0]?.in === 'open-batch')]?.externalId as string
    const found = await adminCli(['where', systemName, open, ...urlsOf(bridge)])
    expect(found.code).toBe(0)
    expect(found.stdout).toMatch(/waiting in an open batch, consumed \d+ s ago/)
    console.info(`npm run admin -- where:\n${found.stdout}`)
    const missing = await adminCli(['where', systemName, 'no-such-file', ...urlsOf(bridge)])
    expect(missing.code).toBe(1)
    expect(missing.stdout).toContain('held by none of 1 replicas')
  })
})
