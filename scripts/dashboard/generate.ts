/**
 * Writes the Grafana dashboard built by scripts/dashboard/dashboard.ts to the chart, or checks it:
 *
 *   npm run dashboard               write helm/file-import-bridge/files/dashboard.json
 *   npm run dashboard -- --check    exit 1 when that file differs from what the code builds (CI)
 *
 * The JSON is generated and committed, never edited by hand: change dashboard.ts and run this.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { dashboardJson } from './dashboard.ts'

const TARGET = new URL('../../helm/file-import-bridge/files/dashboard.json', import.meta.url)

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } })
const wanted = dashboardJson()
if (values.check) {
  const current = await readFile(TARGET, 'utf8').catch(() => '')
  if (current !== wanted) {
    process.stderr.write(
      `dashboard: ${TARGET.pathname} is stale: it is not what scripts/dashboard/dashboard.ts builds; run npm run dashboard and commit it\n`,
    )
    process.exitCode = 1
  } else process.stderr.write('dashboard: helm/file-import-bridge/files/dashboard.json is up to date\n')
} else {
  await writeFile(TARGET, wanted)
  process.stderr.write(`dashboard: wrote ${TARGET.pathname}\n`)
}
