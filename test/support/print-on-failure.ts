import { onTestFailed } from 'vitest'

/** Most lines one {@link printOnFailure} prints (its last ones). */
const MAX_LINES = 200

/**
 * Prints `title` and the last {@link MAX_LINES} lines of `lines()` when the running test fails, so a
 * failure seen once in CI can be read from its output. Outside a test (a `beforeAll`) it does nothing.
 */
export function printOnFailure(title: string, lines: () => readonly string[]): void {
  try {
    onTestFailed(() => {
      const all = lines()
      console.log(
        `${title} (last ${Math.min(all.length, MAX_LINES)} of ${all.length} lines):\n${all.slice(-MAX_LINES).join('\n')}`,
      )
    })
  } catch {
    // not inside a test
  }
}
