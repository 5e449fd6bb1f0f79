import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BrowserContext, chromium } from 'playwright-core'

/** Debian's Chromium (the `chromium` package); never a browser downloaded through npm. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Flags for a headless Chromium on a machine without network: no background requests (component
 * updates, sync, field trials), which would otherwise hang the start on the closed network.
 */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Starts Debian's Chromium headless with a fresh profile (its `--user-data-dir`, removed on close),
 * installing the package first when it is missing (scripts/install-chromium).
 * @throws Error when Chromium cannot be installed or started
 */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const script = fileURLToPath(new URL('../../scripts/install-chromium', import.meta.url))
  execFileSync(script, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CHROMIUM_PATH } })
  const profile = await mkdtemp(join(tmpdir(), 'fib-chromium-'))
  // Playwright passes the profile as --user-data-dir itself (launchPersistentContext).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1100, height: 1000 },
  })
  return {
    context,
    async close() {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}
