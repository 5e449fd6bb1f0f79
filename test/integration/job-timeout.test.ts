// A timeout is checked before it fails anything (issue 24, item 3), end to end on the real broker,
// registry and the emulator: a job whose status stays `started` although Livingdocs imported its files
// gives SUCCESS at the timeout (looked up by systemName + externalId), one whose files are not there
// still gets FAILED `timeout`, and the case (status reads answered 403 for 30 s with
// JOB_TIMEOUT_MS 15 s) times out nothing: the job's clock does not run while it cannot be read.
import { describe, expect, it } from 'vitest'
import {
  createScenario,
  produceRecords,
  type Scenario,
  sampleExport,
  scrapeMetric,
  startEmulator,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'
import { reportFaultRun } from '../support/fault-run.ts'
import {
  READ_WRITE_SCOPES,
  type StartLivingdocsEmulatorOptions,
} from '../support/livingdocs-emulator/index.ts'
import type { EmulatorFaults } from '../support/livingdocs-emulator/types.ts'

describe('a job timeout is checked before it fails anything', () => {
  const { world } = useE2eWorld({ images: 0, pdfs: 5 })

  const emulatorWith = (options: StartLivingdocsEmulatorOptions) =>
    startEmulator(world, { token: 'rw-token', tokens: { 'rw-token': READ_WRITE_SCOPES }, ...options })

  /**
   * Produces the sample export (five PDFs) under `prefix` to a bridge with a 2 s job timeout against a
   * read-write emulator with `faults`, and waits for a result per record.
   */
  async function timedOutRun(prefix: string, faults: Partial<EmulatorFaults>) {
    const emulator = await emulatorWith({ faults })
    const scenario: Scenario = await createScenario(world, prefix, emulator, {
      JOB_TIMEOUT_MS: '2000',
      STATUS_POLL_INTERVAL_MS: '300',
    })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, prefix, { broken: 0, repeats: 0 })
    await produceRecords(world, scenario.topics.input, records)
    await scenario.results.waitFor((r) => r.length >= records.length, 60_000, 'a result per record')
    return { emulator, scenario, bridge, records }
  }

  it('a job that stays started although Livingdocs imported its files gives SUCCESS with their mediaIds at the timeout', async () => {
    // Given Livingdocs whose jobs import their files but keep reporting `started`, and a 2 s timeout
    // When the export is produced and its jobs pass the timeout
    const { emulator, scenario, bridge, records } = await timedOutRun('timeout-imported', {
      jobsStayStarted: true,
    })

    // Then every file is SUCCESS with the mediaId of its entry, none FAILED, though every job timed out
    for (const { value } of scenario.results.records) {
      expect(value.state).toBe('SUCCESS')
      expect(value.mediaId).toBe(emulator.getMedia(value.systemName, value.externalId)?.id)
    }
    const timedOut = await scrapeMetric(bridge, 'bridge_jobs_timed_out_total')
    const found = await scrapeMetric(bridge, 'bridge_timeout_lookups_total{outcome="found"}')
    const out = await reportFaultRun(world, 'timeout-stays-started', scenario, records.length, {
      timedOutJobs: timedOut,
      found,
    })
    expect(out).toMatchObject({
      results: records.length,
      duplicates: 0,
      failedForUs: 0,
      SUCCESS: records.length,
    })
    expect(timedOut).toBe(emulator.listJobs().length)
    expect(found).toBe(records.length)
  })

  it('a job whose files are not there still gets FAILED timeout', async () => {
    // Given Livingdocs whose jobs get stuck before importing anything, and a 2 s timeout
    const { scenario, bridge, records } = await timedOutRun('timeout-missing', { stuckJobs: true })

    // Then every file is FAILED timeout, after a look-up that found nothing
    for (const { value } of scenario.results.records)
      expect(value).toMatchObject({ state: 'FAILED', reason: 'timeout' })
    const notFound = await scrapeMetric(bridge, 'bridge_timeout_lookups_total{outcome="not-found"}')
    const out = await reportFaultRun(world, 'timeout-not-imported', scenario, records.length, { notFound })
    expect(out).toMatchObject({
      results: records.length,
      FAILED: records.length,
      failedForUs: records.length,
    })
    expect(notFound).toBe(records.length)
  })

  it("issue 24's case: status reads answered 403 for 30 s with JOB_TIMEOUT_MS 15 s time out no job", async () => {
    // Given a token with the import scope only (as a new user has it), five one-file jobs that Livingdocs
    // runs for 35 s, status reads answered 403 for the first 30 s, a 15 s timeout and the default re-check
    const emulator = await startEmulator(world, {
      token: 'write-only',
      jobDurationMs: 35_000,
      faults: { answerWith: { status: 403, endpoints: ['status'], forMs: 30_000 } },
    })
    const scenario = await createScenario(world, 'timeout-403', emulator, {
      JOB_TIMEOUT_MS: '15000',
      BATCH_MAX_FILES: '1',
      STATUS_POLL_INTERVAL_MS: '1000',
      MEDIA_KIND_DETECTION: 'false',
    })
    const bridge = await scenario.start()
    const { records } = sampleExport(world, 'refused', { broken: 0, repeats: 0 })
    expect(records).toHaveLength(5)

    // When the first file is produced, and the other four once its job's status read was refused (their
    // jobs begin while the status reads are held)
    const [first, ...others] = records
    await produceRecords(world, scenario.topics.input, first === undefined ? [] : [first])
    await waitUntil(
      () => (emulator.stats().requests['GET /import/files/status']?.[403] ?? 0) >= 1,
      30_000,
      'a refused status read',
    )
    await produceRecords(world, scenario.topics.input, others)
    await scenario.results.waitFor((r) => r.length >= records.length, 90_000, 'a result per record')

    // Then the reads were refused and held, and every file got its own SUCCESS: no job timed out
    const timedOut = await scrapeMetric(bridge, 'bridge_jobs_timed_out_total')
    const out = await reportFaultRun(world, 'status-403-30s-timeout-15s', scenario, records.length, {
      timedOutJobs: timedOut,
    })
    expect(out).toMatchObject({ results: 5, duplicates: 0, failedForUs: 0, SUCCESS: 5 })
    expect(timedOut).toBe(0)
  })
})
