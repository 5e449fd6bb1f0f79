import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { TEST_ADMIN_TOKEN as ADMIN_TOKEN, adminEnv, adminRequest, opsUrl } from '../support/admin.ts'
import { launchChromium } from '../support/chromium.ts'
import {
  createScenario,
  produceRecords,
  sampleExport,
  scrapeMetric,
  useE2eWorld,
  waitUntil,
} from '../support/e2e-world.ts'

/**
 * Where the screenshot goes: docs/images/ with UPDATE_SCREENSHOTS=1 (the README's picture of the page),
 * else a temporary folder.
 */
async function screenshotPath(): Promise<string> {
  if (process.env.UPDATE_SCREENSHOTS === '1')
    return fileURLToPath(new URL('../../docs/images/admin-status-page.png', import.meta.url))
  return join(await mkdtemp(join(tmpdir(), 'fib-screenshot-')), 'admin-status-page.png')
}

/** The status page at GET /admin/ in Debian's headless Chromium, during a run of the demo's kind. */
describe('the status page in a real browser', () => {
  const { world, emulator } = useE2eWorld(
    { images: 12, pdfs: 12 },
    { emulator: { token: 'page-token', jobDurationMs: 10_000 } },
  )

  it('shows progress, the jobs in flight and the holds, and pauses and resumes the bridge', async () => {
    // Given a bridge with an admin token importing an export, measuring the group's progress often
    const { topics, results, start } = await createScenario(world, 'page', emulator, {
      ...adminEnv('page'),
      LAG_INTERVAL_MS: '300',
      BATCH_MAX_FILES: '5',
      BATCH_LINGER_MS: '100',
    })
    const bridge = await start()
    const base = opsUrl(bridge)
    // Chromium is up before the jobs start: its launch (an install on a first run, seconds on a loaded
    // machine) must not eat the 10 s each job is in flight
    const browser = await launchChromium()
    world.defer(() => browser.close())
    const page = await browser.context.newPage()
    const { records } = sampleExport(world, 'page', { broken: 2, repeats: 0 })
    await produceRecords(world, topics.input, records)
    await waitUntil(
      async () => ((await adminRequest(bridge, 'GET', 'status')).json.jobs as unknown[]).length > 0,
      30_000,
      'a job in flight',
    )

    // When the page is opened in Chromium and the token entered once
    await page.goto(`${base}/admin/`)
    await page.fill('#token', ADMIN_TOKEN)
    await page.click('#login button')

    // Then it shows the group's progress per partition and overall, and the jobs in flight with their age
    // (the jobs first: each runs 10 s at the emulator; the progress needs the lag monitor's reading)
    await page.waitForSelector('table#jobs', { timeout: 30_000 })
    expect(await page.locator('table#jobs tr').count()).toBeGreaterThan(1)
    await page.waitForSelector('#progress tr:has-text("all partitions")', { timeout: 30_000 })
    const rows = await page.locator('#progress tr').count()
    expect(rows).toBe(1 + 3)
    expect(await page.textContent('#pause-state')).toContain('Running')
    // And the token is kept in the tab's session storage only, never in the page's URL or local storage
    const stored = await page.evaluate(() => ({ session: sessionStorage.length, local: localStorage.length }))
    expect(stored).toEqual({ session: 1, local: 0 })
    expect(page.url()).toBe(`${base}/admin/`)
    await page.screenshot({ path: await screenshotPath(), fullPage: true })

    // When pause is pressed with a reason, the bridge pauses and the page says so
    await page.fill('#reason', 'demo: Livingdocs upgrade')
    await page.click('#pause')
    await page.waitForSelector('#pause-state[data-paused="true"]', { timeout: 30_000 })
    expect(await page.textContent('#pause-state')).toContain('demo: Livingdocs upgrade')
    expect(await scrapeMetric(bridge, 'bridge_paused')).toBe(1)

    // When resume is pressed, it runs again and every record gets its result
    await page.fill('#reason', 'upgrade done')
    await page.click('#resume')
    await page.waitForSelector('#pause-state[data-paused="false"]', { timeout: 30_000 })
    expect(await scrapeMetric(bridge, 'bridge_paused')).toBe(0)
    await results.waitFor((r) => r.length >= records.length, 90_000, 'a result per record')
    // And the files of the last hour are counted by state, with the FAILED ones by reason
    await page.reload()
    await page.waitForSelector('#recent td[data-state="FAILED"]', { timeout: 30_000 })
    await waitUntil(
      async () => (await page.textContent('#recent td[data-state="SUCCESS"]')) !== '0',
      30_000,
      'successes on the page',
    )
    const failed = Number(await page.textContent('#recent td[data-state="FAILED"]'))
    expect(failed).toBe(results.records.filter((r) => r.value.state === 'FAILED').length)
  })
})
