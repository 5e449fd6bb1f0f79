// Every module of src/ loads in Node itself, as `node src/main.ts` loads it: vitest transforms what it
// imports, so a named import Node cannot resolve (a CommonJS package's export its static analysis does
// not see, e.g. kafkajs' error classes) passes every unit test and breaks the bridge at start.
import { execFile } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Entry points: they run when loaded (the bridge; the chart's hook Job that creates the control topic). */
const ENTRY_POINTS = new Set([join('src', 'main.ts'), join('src', 'admin', 'create-control-topic.ts')])

/** Every .ts file under src/ but the entry points. */
async function srcModules(): Promise<string[]> {
  const entries = await readdir(join(ROOT, 'src'), { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((path) => !ENTRY_POINTS.has(relative(ROOT, path)))
    .sort()
}

describe('the modules of src/ in Node without vitest', () => {
  it('all load', async () => {
    const modules = await srcModules()
    expect(modules.length).toBeGreaterThan(100)
    const script = modules.map((m) => `await import(${JSON.stringify(pathToFileURL(m).href)})`).join('\n')
    const outcome = await promisify(execFile)(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script],
      { cwd: ROOT, timeout: 60_000 },
    ).then(
      () => ({ exitCode: 0, stderr: '' }),
      (err: { code?: unknown; stderr?: string; message: string }) => ({
        exitCode: err.code,
        stderr: err.stderr ?? err.message,
      }),
    )
    expect(outcome).toEqual({ exitCode: 0, stderr: '' })
  })
})
