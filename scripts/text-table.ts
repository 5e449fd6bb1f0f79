/**
 * The plain-text tables the tools print (`npm run redrive`'s counts, the bench's report).
 */

/**
 * A table of `rows` under `header`, one line each joined by newlines (no trailing newline), cells two
 * spaces apart, each column as wide as its widest cell (the first left-aligned, the others
 * right-aligned).
 */
export function table(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const all = [header, ...rows.map((r) => r.map(String))]
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)))
  return all
    .map((r) =>
      r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '),
    )
    .join('\n')
}
