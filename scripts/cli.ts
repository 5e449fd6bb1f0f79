/**
 * The start every command-line tool here shares: its arguments parsed, a usage error reported, `--help`
 * answered.
 *
 * @param name the tool's name, first on its error line (`map: …`)
 * @param usage the usage text, printed with an error (stderr) or for `--help` (stdout)
 * @param parse parses `process.argv` (node:util `parseArgs` with the tool's options and a `help` flag);
 *   throws on an unknown option or a missing value
 * @returns the parsed arguments, or the exit code when the run ends here: 2 after a usage error, 0
 *   after `--help`
 */
export function readCommandLine<T extends { values: { help?: boolean | undefined } }>(
  name: string,
  usage: string,
  parse: () => T,
): T | number {
  let parsed: T
  try {
    parsed = parse()
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message}\n${usage}\n`)
    return 2
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${usage}\n`)
    return 0
  }
  return parsed
}
