// Every answer of the import API classified (issue 12): each row of the table as a test, its
// input from the emulator's switches over real HTTP and its expectation checked on a real broker (results,
// commits, readiness, metrics). Each test prints one `fault-run` line, with `failedForUs`: the FAILED
// results whose cause was not the file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { NO_RESULT_REASON } from '../../src/model/failure-reasons.ts'
import type { TestBridge } from '../support/bridge-harness.ts'
import {
  createScenario,
  type E2eWorld,
  fetchCommitted,
  metricValue,
  produceRecords,
  type Scenario,
  sampleExport,
  startEmulator,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import { reportFaultRun, waitCommittedAtLogEnd } from '../support/fault-run.ts'
import type {
  RunningLivingdocsEmulator,
  StartLivingdocsEmulatorOptions,
} from '../support/livingdocs-emulator/index.ts'

const CHECK_LOCATION = 'LIVINGDOCS_BASE_URL and LIVINGDOCS_API_VERSION'
const CHECK_CREDENTIALS = 'LIVINGDOCS_ACCESS_TOKEN or LIVINGDOCS_ACCESS_TOKEN_FILE'

/**
 * A scenario whose files all go to the file import (`MEDIA_KIND_DETECTION=false`): the answers under
 * test are those of `/import/files`, whatever the sample export's file types.
 */
const createFileScenario = (
  world: E2eWorld,
  prefix: string,
  emulator: RunningLivingdocsEmulator,
  env: Record<string, string> = {},
) => createScenario(world, prefix, emulator, { MEDIA_KIND_DETECTION: 'false', ...env })

describe('every answer of the import API, classified', () => {
  const { world } = useE2eWorld({ images: 8, pdfs: 4 })

  /** An emulator with token `api-token` and `options`, closed with the world. */
  const emulatorWith = (options: StartLivingdocsEmulatorOptions) =>
    startEmulator(world, { token: 'api-token', ...options })

  const metricsOf = async (bridge: TestBridge) => (await fetch(bridge.metricsUrl)).text()
  const metric = async (bridge: TestBridge, series: string) => metricValue(await metricsOf(bridge), series)
  const readiness = async (bridge: TestBridge) => {
    const res = await fetch(`http://127.0.0.1:${bridge.bridge.ports.metrics}/readyz`)
    const body = (await res.json()) as { problems?: string[] }
    return { status: res.status, problems: (body.problems ?? []).join(' | ') }
  }
  const committedTotal = async (scenario: Scenario) =>
    [...(await fetchCommitted(world.kafka, scenario.topics.group, scenario.topics.input)).values()].reduce(
      (a, b) => a + b,
      0,
    )
  const values = (scenario: Scenario) => scenario.results.records.map((r) => r.value)
  const answered = (emulator: RunningLivingdocsEmulator, label: string, status: number) =>
    emulator.stats().requests[label]?.[status] ?? 0

  /**
   * The hold: the bridge is not ready naming the settings, logs one error line naming them, raises
   * `bridge_api_hold{cause}`, publishes nothing and commits nothing.
   */
  async function expectHeld(
    bridge: TestBridge,
    scenario: Scenario,
    cause: 'credentials' | 'configuration',
    setting: string,
  ): Promise<void> {
    await waitUntil(async () => (await readiness(bridge)).status === 503, 30_000, 'not ready')
    expect((await readiness(bridge)).problems).toContain(`check ${setting}`)
    // One error line per refused endpoint, however many requests were refused
    const holdLines = bridge.logs.lines.filter(
      (l) =>
        typeof l.msg === 'string' && l.msg.startsWith(`import API refused our ${cause}: check ${setting};`),
    )
    expect(holdLines.length).toBeGreaterThanOrEqual(1)
    expect(new Set(holdLines.map((l) => l.endpoint)).size).toBe(holdLines.length)
    expect(await metric(bridge, `bridge_api_hold{cause="${cause}"}`)).toBe(1)
    expect(scenario.results.records).toHaveLength(0)
    expect(await committedTotal(scenario)).toBe(0)
  }

  it('row 1: submit 202 {"id"} is an accepted job: one job for four files, every file SUCCESS', async () => {
    // Given Livingdocs answering each accepted import with 202
    const emulator = await emulatorWith({ faults: { acceptStatus: 202 } })
    const scenario = await createFileScenario(world, 'answers-202', emulator, {
      BATCH_MAX_FILES: '4',
      BATCH_LINGER_MS: '1000',
    })
    const bridge = await scenario.start()
    const records = sampleExport(world, 'accept-202', { broken: 0, repeats: 0 }).records.slice(0, 4)

    // When four files are produced (one batch)
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    await waitCommittedAtLogEnd(world, scenario, 30_000)

    // Then one job, no split, every file imported
    const out = await reportFaultRun(world, '202-accepted', scenario, records.length, {
      jobs: emulator.stats().jobsCreated,
    })
    expect(out).toMatchObject({ results: 4, duplicates: 0, dlq: 0, failedForUs: 0, SUCCESS: 4, jobs: 1 })
    expect(answered(emulator, 'POST /import/files', 202)).toBe(1)
    expect(await metric(bridge, 'bridge_api_answers_total{endpoint="submit",class="accepted"}')).toBe(1)
  })

  it('row 2: submit 404 (an API version this server lacks) holds: not ready naming the setting, nothing FAILED or committed; fixed, everything imports', async () => {
    // Given a bridge asking for an API version Livingdocs has not released (2026-11: an unknown path, 404)
    const emulator = await emulatorWith({})
    const scenario = await createFileScenario(world, 'answers-404', emulator, { API_HOLD_RECHECK_MS: '1000' })
    const wrong = await scenario.start({ LIVINGDOCS_API_VERSION: '2026-11' })
    const { records } = sampleExport(world, 'wrong-version', { broken: 0, repeats: 0 })

    // When the export is produced
    await produceRecords(world, scenario.topics.input, records)

    // Then it holds, naming LIVINGDOCS_BASE_URL and LIVINGDOCS_API_VERSION, and re-checks with one request
    await expectHeld(wrong, scenario, 'configuration', CHECK_LOCATION)
    await waitUntil(
      () => answered(emulator, 'POST /import/files', 404) >= 2,
      30_000,
      'a re-check of the hold',
    )
    expect((await readiness(wrong)).problems).toContain(
      'submit answered HTTP 404: Not Found; url: /api/2026-11/',
    )
    expect(answered(emulator, 'POST /import/files', 404)).toBeGreaterThanOrEqual(2)
    expect(scenario.results.records).toHaveLength(0)
    expect(await committedTotal(scenario)).toBe(0)

    // When the setting is fixed (a restart with the right version, in the same group)
    await wrong.stop()
    await scenario.start()

    // Then every file is imported from the uncommitted offsets, none FAILED
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    await waitCommittedAtLogEnd(world, scenario, 30_000)
    const out = await reportFaultRun(world, '404-wrong-version', scenario, records.length)
    expect(out).toMatchObject({ results: records.length, duplicates: 0, dlq: 0, failedForUs: 0 })
    expect(out.SUCCESS).toBe(records.length)
  })

  it.each([
    ['v1', 'deprecation'],
    ['beta', 'warning'],
  ] as const)(
    'row 2: a deprecated version (%s, header %s) imports as ever; every notice counted, one warning naming the setting',
    async (version, header) => {
      // Given Livingdocs whose answers to `version` carry a deprecation header (§11.5) of the `header` form
      const emulator = await emulatorWith({ variants: { deprecationHeader: header } })
      const scenario = await createFileScenario(world, `answers-deprecated-${version}`, emulator)
      const bridge = await scenario.start({ LIVINGDOCS_API_VERSION: version })
      const { records } = sampleExport(world, `deprecated-${version}`, { broken: 0, repeats: 0 })

      // When the export is produced
      await produceRecords(world, scenario.topics.input, records)
      await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')

      // Then every file is imported, every answer's notice counted, and one warning said what to do
      const out = await reportFaultRun(world, `deprecated-${version}`, scenario, records.length, {
        notices: await metric(bridge, `bridge_api_deprecation_notices_total{version="${version}"}`),
        attempts: await metric(bridge, 'bridge_api_attempts_total'),
      })
      expect(out).toMatchObject({ results: records.length, failedForUs: 0, SUCCESS: records.length })
      expect(out.notices).toBeGreaterThanOrEqual(2)
      expect(out.notices).toBe(out.attempts)
      const warned = bridge.logs.lines.filter((l) => /announces API version/.test(String(l.msg)))
      expect(warned).toHaveLength(1)
      expect(String(warned[0]?.msg)).toContain(`API version ${version} as deprecated`)
      expect(String(warned[0]?.msg)).toContain('LIVINGDOCS_API_VERSION')
      expect(warned[0]?.forms).toEqual([header])
    },
  )

  it.each([
    ['405', { answerWith: { status: 405, body: 'none' as const, endpoints: ['import' as const] } }],
    ['406', { answerWith: { status: 406, endpoints: ['import' as const] } }],
    ['415', { answerWith: { status: 415, body: 'text' as const, endpoints: ['import' as const] } }],
    ['301 to https', { redirect: { status: 301 as const } }],
    ['308 with a trailing slash', { redirect: { status: 308 as const, location: 'trailing-slash' } }],
  ])('row 2: submit %s holds, then recovers by itself once the API answers again', async (name, faults) => {
    // Given an API (or a proxy in front of it) that answers the import with `name`
    const emulator = await emulatorWith({ faults })
    const scenario = await createFileScenario(world, `answers-${name.split(' ')[0]}`, emulator, {
      API_HOLD_RECHECK_MS: '1000',
    })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, `hold-${name.split(' ')[0]}`, { broken: 1, repeats: 0 })

    // When the export is produced, then the bridge holds: not ready, one log line, nothing FAILED or committed
    await produceRecords(world, scenario.topics.input, records)
    await expectHeld(bridge, scenario, 'configuration', CHECK_LOCATION)
    if (name.startsWith('3'))
      expect((await readiness(bridge)).problems).toMatch(/a redirect to \S+, not followed/)

    // When the API answers again, then the re-check (1 s) finds it and everything is imported
    emulator.setFaults({ answerWith: null, redirect: null })
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    await waitCommittedAtLogEnd(world, scenario, 30_000)
    const out = await reportFaultRun(world, `${name.split(' ')[0]}-hold`, scenario, records.length)
    expect(out).toMatchObject({ results: records.length, duplicates: 0, dlq: 0, failedForUs: 0, FAILED: 1 })
    expect(values(scenario).find((v) => v.state === 'FAILED')?.reason).toMatch(/^Could not upload file/)
    expect((await readiness(bridge)).status).toBe(200)
    expect(await metric(bridge, 'bridge_api_hold{cause="configuration"}')).toBe(0)
    expect(bridge.logs.find('import API accepts our requests again')).toBeDefined()
  })

  it('row 3: submit 400 {"error": "files[N].id …"} (no error_details) keeps the API’s message in the reason', async () => {
    // Given Livingdocs refusing one file with a body that has only `error`
    const { records } = sampleExport(world, 'bare-error', { broken: 0, repeats: 0 })
    const bad = records[2]?.externalId as string
    const emulator = await emulatorWith({
      faults: { rejectFiles: { externalIds: [bad], status: 400, shape: 'error' } },
    })
    const scenario = await createFileScenario(world, 'answers-400', emulator, { BATCH_LINGER_MS: '1000' })
    await scenario.start()

    // When the export is produced
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')

    // Then the offending file is FAILED with the API's own words, the others imported
    const failed = values(scenario).filter((v) => v.state === 'FAILED')
    expect(failed.map((v) => v.externalId)).toEqual([bad])
    expect(failed[0]?.reason).toBe(
      'rejected by the import API: submit answered HTTP 400: files[0].id Rejected by an emulated validation rule',
    )
    const out = await reportFaultRun(world, '400-bare-error', scenario, records.length)
    expect(out).toMatchObject({ results: records.length, duplicates: 0, failedForUs: 0, FAILED: 1 })
  })

  it('row 4: a token revoked while a job runs holds the job (status 401): no timeout, nothing FAILED; restored, SUCCESS', async () => {
    // Given slow jobs and a 2 s job timeout
    const emulator = await emulatorWith({ jobDurationMs: 1500 })
    const scenario = await createFileScenario(world, 'answers-revoked', emulator, {
      JOB_TIMEOUT_MS: '2000',
      API_HOLD_RECHECK_MS: '1000',
      STATUS_POLL_INTERVAL_MS: '300',
    })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, 'revoked', { broken: 0, repeats: 0 })

    // When the export is submitted and the token is revoked while its job runs
    await produceRecords(world, scenario.topics.input, records)
    await waitUntil(() => emulator.stats().jobsCreated > 0, 30_000, 'a running job')
    emulator.setTokens({})

    // Then the status reads answer 401 and the bridge holds, for far longer than the job timeout
    await expectHeld(bridge, scenario, 'credentials', CHECK_CREDENTIALS)
    await new Promise((r) => setTimeout(r, 5000))
    expect(answered(emulator, 'GET /import/files/status', 401)).toBeGreaterThan(0)
    expect(scenario.results.records).toHaveLength(0)
    expect(await committedTotal(scenario)).toBe(0)

    // When the token works again
    emulator.setTokens({ 'api-token': ['public-api:write'] })

    // Then the jobs' real results arrive, none FAILED timeout
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    await waitCommittedAtLogEnd(world, scenario, 30_000)
    const out = await reportFaultRun(world, 'token-revoked-mid-job', scenario, records.length, {
      timedOutJobs: await metric(bridge, 'bridge_jobs_timed_out_total'),
    })
    expect(out).toMatchObject({
      results: records.length,
      failedForUs: 0,
      SUCCESS: records.length,
      timedOutJobs: 0,
    })
    expect(await metric(bridge, 'bridge_api_hold{cause="credentials"}')).toBe(0)
  })

  it('row 5: a token file rotated in place is read again on the 401 and the new token used at once, never logged', async () => {
    // Given a bridge reading its token from a file, and Livingdocs accepting that token
    const dir = await mkdtemp(join(tmpdir(), 'fib-token-'))
    world.defer(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'token')
    await writeFile(file, 'first-token-8c1f\n')
    const emulator = await emulatorWith({ tokens: { 'first-token-8c1f': ['public-api:write'] } })
    const scenario = await createFileScenario(world, 'answers-rotated', emulator, {
      LIVINGDOCS_ACCESS_TOKEN: '',
      LIVINGDOCS_ACCESS_TOKEN_FILE: file,
    })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, 'rotated', { broken: 0, repeats: 0 })
    const [before, after] = [records.slice(0, 6), records.slice(6)]
    await produceRecords(world, scenario.topics.input, before)
    await scenario.results.waitFor((r) => r.length >= before.length, 60_000, 'the first results')

    // When the Secret is rotated: the file changes in place, then Livingdocs takes only the new token
    await writeFile(file, 'second-token-77aa\n')
    emulator.setTokens({ 'second-token-77aa': ['public-api:write'] })
    await produceRecords(world, scenario.topics.input, after)

    // Then the rest is imported without a hold, and the change is logged without the token
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    expect(
      bridge.logs.withMsg(
        'import API refused the access token; the token file holds a new one, used from now on',
      ).length,
    ).toBeGreaterThanOrEqual(1)
    expect(bridge.logs.text()).not.toMatch(/first-token-8c1f|second-token-77aa/)
    expect(await metric(bridge, 'bridge_api_hold{cause="credentials"}')).toBe(0)
    expect(bridge.logs.lines.filter((l) => String(l.msg).startsWith('import API refused our'))).toHaveLength(
      0,
    )
    const out = await reportFaultRun(world, 'token-file-rotated', scenario, records.length, {
      refused:
        answered(emulator, 'POST /import/files', 401) + answered(emulator, 'GET /import/files/status', 401),
    })
    expect(out).toMatchObject({ results: records.length, failedForUs: 0, SUCCESS: records.length })
    expect(out.refused).toBeGreaterThan(0)
  })

  it.each([
    ['2592000 (30 days)', '2592000', 'seconds'],
    ['an HTTP-date in 2030', 'Tue, 01 Jan 2030 00:00:00 GMT', 'http-date'],
  ])(
    'row 6: Retry-After %s is bounded by API_MAX_HOLD_MS: no timer overflow, asked again, imported',
    async (_name, header, label) => {
      // Given Livingdocs asking the first import to come back in 30 days or in 2030, and a 2 s bound
      const warnings: string[] = []
      const onWarning = (w: Error) => warnings.push(w.name)
      process.on('warning', onWarning)
      world.defer(async () => process.off('warning', onWarning))
      const emulator = await emulatorWith({
        faults: { rateLimit429: { count: 1, retryAfter: header, endpoints: ['import'] } },
      })
      const scenario = await createFileScenario(world, `answers-retry-after-${label}`, emulator, {
        API_MAX_HOLD_MS: '2000',
      })
      const bridge = await scenario.start()
      const { records } = sampleExport(world, `retry-after-${label}`, { broken: 0, repeats: 0 })

      // When the export is produced
      const startedAt = Date.now()
      await produceRecords(world, scenario.topics.input, records)
      await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')

      // Then it waited the bound, not 30 days and not 1 ms in a loop, and everything was imported
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2000)
      expect(warnings.filter((w) => w === 'TimeoutOverflowWarning')).toEqual([])
      expect(bridge.logs.lines.some((l) => l.retryAfterMs === 2000)).toBe(true)
      const out = await reportFaultRun(world, `retry-after-${label}`, scenario, records.length, {
        answered429: answered(emulator, 'POST /import/files', 429),
        submits: emulator.stats().requestTotals['POST /import/files'] ?? 0,
      })
      expect(out).toMatchObject({
        results: records.length,
        failedForUs: 0,
        SUCCESS: records.length,
        answered429: 1,
      })
    },
  )

  it('row 7: a quota 429 without Retry-After backs off up to API_MAX_HOLD_MS, raises the quota gauge, and loses nothing', async () => {
    // Given a plan allowing 4 files a day, batches of 4, and a 1.5 s backoff ceiling
    const emulator = await emulatorWith({ faults: { quota: { filesPerDay: 4 } } })
    const scenario = await createFileScenario(world, 'answers-quota', emulator, {
      BATCH_MAX_FILES: '4',
      BATCH_LINGER_MS: '500',
      API_MAX_HOLD_MS: '1500',
    })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, 'quota', { broken: 0, repeats: 0 })

    // When 12 files are produced: the first batch fits, the next ones hit the quota
    await produceRecords(world, scenario.topics.input, records)
    await waitUntil(() => answered(emulator, 'POST /import/files', 429) >= 1, 30_000, 'a quota 429')
    const quotaAt = Date.now()
    await new Promise((r) => setTimeout(r, 4000))

    // Then submits are spaced (0.75–1.5 s apart, no client retries), the gauge is 1, nothing FAILED
    const refused = answered(emulator, 'POST /import/files', 429)
    expect(refused).toBeLessThanOrEqual(1 + Math.ceil((Date.now() - quotaAt) / 750))
    expect(await metric(bridge, 'bridge_api_hold{cause="quota"}')).toBe(1)
    expect(values(scenario).filter((v) => v.state !== 'SUCCESS')).toEqual([])
    expect((await readiness(bridge)).status).toBe(200)

    // When the quota allows uploads again
    emulator.setFaults({ quota: null })

    // Then every file is imported, none lost, and the gauge is back at 0
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    await waitCommittedAtLogEnd(world, scenario, 30_000)
    const out = await reportFaultRun(world, 'quota-429', scenario, records.length, { quota429: refused })
    expect(out).toMatchObject({
      results: records.length,
      duplicates: 0,
      failedForUs: 0,
      SUCCESS: records.length,
    })
    expect(await metric(bridge, 'bridge_api_hold{cause="quota"}')).toBe(0)
  })

  it('row 7: a 402 Payment Required on submit holds like the quota: nothing FAILED, then every file imported', async () => {
    // Given Livingdocs answering the first three imports 402 (the account's payment), a 1 s backoff ceiling
    const emulator = await emulatorWith({
      faults: { answerWith: { status: 402, count: 3, endpoints: ['import'] } },
    })
    const scenario = await createFileScenario(world, 'answers-402', emulator, { API_MAX_HOLD_MS: '1000' })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, 'payment', { broken: 0, repeats: 0 })

    // When the export is produced
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    await waitCommittedAtLogEnd(world, scenario, 30_000)

    // Then the three 402s held the submits (one warning naming the 402, the gauge back at 0), no file FAILED
    const out = await reportFaultRun(world, 'payment-402', scenario, records.length, {
      answered402: answered(emulator, 'POST /import/files', 402),
    })
    expect(out).toMatchObject({
      results: records.length,
      duplicates: 0,
      failedForUs: 0,
      SUCCESS: records.length,
      answered402: 3,
    })
    const held = bridge.logs.lines.filter((l) => /refuses submits for the account/.test(String(l.msg)))
    expect(held).toHaveLength(1)
    expect(String(held[0]?.err)).toContain('402')
    expect(await metric(bridge, 'bridge_api_answers_total{endpoint="submit",class="quota"}')).toBe(3)
    expect(await metric(bridge, 'bridge_api_hold{cause="quota"}')).toBe(0)
  })

  it('row 8: a 404 for a job created a moment ago is "not visible yet": read again, no resubmit, SUCCESS', async () => {
    // Given Livingdocs whose status endpoint knows a job only 1.5 s after it was created (404 before)
    const emulator = await emulatorWith({
      variants: { unknownJob: '404' },
      faults: { jobVisibilityDelayMs: 1500 },
    })
    const scenario = await createFileScenario(world, 'answers-young-404', emulator)
    await scenario.start()
    const { records } = sampleExport(world, 'young', { broken: 0, repeats: 0 })

    // When the export is produced (its webhook makes the bridge read the job at once)
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')

    // Then the early 404s were read again, each file was submitted once, and all are SUCCESS
    const submitted = emulator.listJobs().flatMap((j) => j.files.map((f) => f.id))
    const out = await reportFaultRun(world, 'young-job-404', scenario, records.length, {
      young404: answered(emulator, 'GET /import/files/status', 404),
      jobs: emulator.stats().jobsCreated,
    })
    expect(out).toMatchObject({ results: records.length, failedForUs: 0, SUCCESS: records.length })
    expect(out.young404).toBeGreaterThan(0)
    expect(submitted).toHaveLength(records.length)
    expect(new Set(submitted).size).toBe(records.length)
  })

  it('row 8: a job lost after the grace window is resubmitted after a delay; its imported files come back SKIPPED with their mediaId', async () => {
    // Given Livingdocs that runs the first job (importing its files) but never knows it on the status endpoint
    const emulator = await emulatorWith({
      variants: { unknownJob: '404' },
      faults: { lostJobs: { count: 1 } },
    })
    const scenario = await createFileScenario(world, 'answers-lost', emulator, {
      JOB_VISIBILITY_GRACE_MS: '1000',
      BATCH_LINGER_MS: '1000',
    })
    await scenario.start()
    const records = sampleExport(world, 'lost-after-grace', { broken: 0, repeats: 0 }).records.slice(0, 4)

    // When four files are produced
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')

    // Then the second job came at least 5 s after the first, and every file is SKIPPED with the mediaId
    // the lost job gave it, never FAILED
    const [lost, resubmitted] = emulator.listJobs()
    expect(lost?.hidden).toBe(true)
    expect((resubmitted?.startedAt.getTime() ?? 0) - (lost?.startedAt.getTime() ?? 0)).toBeGreaterThanOrEqual(
      4900,
    )
    for (const v of values(scenario)) {
      expect(v).toMatchObject({
        state: 'SKIPPED',
        reason: 'already exists',
        mediaId: emulator.getMedia(v.systemName, v.externalId)?.id,
        importJobId: resubmitted?.id,
      })
    }
    const out = await reportFaultRun(world, 'job-lost-resubmitted', scenario, records.length, {
      jobs: emulator.stats().jobsCreated,
    })
    expect(out).toMatchObject({ results: 4, failedForUs: 0, SKIPPED: 4, jobs: 2 })
  })

  it('row 9: null in optional status fields and unknown keys are tolerated: real results, no timeout', async () => {
    // Given Livingdocs putting null in every optional field of its statuses, and slow jobs
    const emulator = await emulatorWith({ jobDurationMs: 800, faults: { nullOptionalFields: true } })
    const scenario = await createFileScenario(world, 'answers-nulls', emulator, { JOB_TIMEOUT_MS: '60000' })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, 'nulls', { broken: 1, repeats: 0 })

    // When the export is produced
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')

    // Then every file has its own result; no status was unreadable
    const out = await reportFaultRun(world, 'null-fields', scenario, records.length)
    expect(out).toMatchObject({
      results: records.length,
      failedForUs: 0,
      SUCCESS: records.length - 1,
      FAILED: 1,
    })
    expect(await metric(bridge, 'bridge_api_answers_total{endpoint="status",class="unreadable"}')).toBe(0)
    expect(values(scenario).every((v) => v.systemName === 'legacy-archive')).toBe(true)
  })

  it('row 9: a status that really cannot be read is logged with its shape (no values), counted, and read again', async () => {
    // Given Livingdocs answering the next three status reads with a 200 of an unknown shape
    const emulator = await emulatorWith({
      faults: { answerWith: { status: 200, body: { weird: 'value-9f3e' }, count: 3, endpoints: ['status'] } },
    })
    const scenario = await createFileScenario(world, 'answers-unreadable', emulator)
    const bridge = await scenario.start()
    const { records } = sampleExport(world, 'unreadable', { broken: 0, repeats: 0 })

    // When the export is produced
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')

    // Then each unreadable answer is counted and logged with its shape, never its values
    const lines = bridge.logs.withMsg(
      'import job status has an unknown shape (logged without its values); the poller reads it again',
    )
    expect(lines.length).toBe(3)
    expect((lines[0]?.err as { context?: { shape?: string } } | undefined)?.context?.shape).toBe(
      '{weird: string}',
    )
    expect(bridge.logs.text()).not.toContain('value-9f3e')
    expect(await metric(bridge, 'bridge_api_answers_total{endpoint="status",class="unreadable"}')).toBe(3)
    const out = await reportFaultRun(world, 'unreadable-status', scenario, records.length, {
      unreadable: await metric(bridge, 'bridge_api_answers_total{endpoint="status",class="unreadable"}'),
    })
    expect(out).toMatchObject({ results: records.length, failedForUs: 0, SUCCESS: records.length })
  })

  it('row 10: a finished job missing two results is read once more before deciding: then all SUCCESS', async () => {
    // Given Livingdocs whose first finished status of each job lists no result for its last two files
    const emulator = await emulatorWith({ faults: { omitResults: { count: 2, reads: 1 } } })
    const scenario = await createFileScenario(world, 'answers-reread', emulator, { BATCH_LINGER_MS: '1000' })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, 'reread', { broken: 0, repeats: 0 })

    // When the export is produced
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')

    // Then the bridge read each finished job once more, and the second read had them all
    expect(
      bridge.logs.withMsg('finished import job lists no result for some files; reading it once more').length,
    ).toBe(emulator.stats().jobsCreated)
    const out = await reportFaultRun(world, 'missing-results-reread', scenario, records.length)
    expect(out).toMatchObject({ results: records.length, failedForUs: 0, SUCCESS: records.length })
    expect(await metric(bridge, 'bridge_job_results_unmatched_total{kind="missing"}')).toBe(0)
  })

  it('row 10: results still missing after the second read are FAILED with that reason; a result for an id not in the batch is counted, never published', async () => {
    // Given Livingdocs whose finished statuses always lack two results and add one for a stranger
    const emulator = await emulatorWith({ faults: { omitResults: { count: 2 }, foreignResults: true } })
    const scenario = await createFileScenario(world, 'answers-missing', emulator, {
      BATCH_MAX_FILES: '12',
      BATCH_LINGER_MS: '1000',
    })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, 'missing', { broken: 0, repeats: 0 })

    // When the export is produced (one job of 12 files)
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    await waitCommittedAtLogEnd(world, scenario, 30_000)

    // Then two files a job are FAILED "no result", counted as the bridge's own FAILED (failedForUs), the
    // stranger's result is counted and not published
    const jobs = emulator.stats().jobsCreated
    const failed = values(scenario).filter((v) => v.state === 'FAILED')
    expect(failed.map((v) => v.reason)).toEqual(Array.from({ length: 2 * jobs }, () => NO_RESULT_REASON))
    expect(values(scenario).some((v) => v.externalId.startsWith('not-in-job-'))).toBe(false)
    const unexpected = await metric(bridge, 'bridge_job_results_unmatched_total{kind="unexpected"}')
    const out = await reportFaultRun(world, 'missing-and-foreign-results', scenario, records.length, {
      missing: await metric(bridge, 'bridge_job_results_unmatched_total{kind="missing"}'),
      unexpected,
    })
    expect(out).toMatchObject({
      results: records.length,
      duplicates: 0,
      failedForUs: 2 * jobs,
      missing: 2 * jobs,
    })
    expect(unexpected).toBe(jobs)
  })
})
