import { Kafka, logLevel } from 'kafkajs'
import { kafkaCause } from '../src/kafka/client.ts'
import { findMissingTopics } from '../src/kafka/topics.ts'

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

/**
 * A mistake of the person running a tool (an argument, a file, a topic, an address): reported as one
 * line `tool: message` and the exit code, never with a stack trace.
 */
export class UserMistake extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode = 1) {
    super(message)
    this.name = 'UserMistake'
    this.exitCode = exitCode
  }
}

/** What a file system error says, in words (the errno codes of Node.js' system errors). */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a folder on its path is a file',
}

/**
 * Runs a tool's `main` and turns what it throws into one line on stderr: a {@link UserMistake} or a file
 * that cannot be read (exit 2) as `tool: message` alone; anything else as `tool: message` (exit 1) with
 * its stack below it, since that is a bug of the tool, not a mistake of its user.
 * @returns the exit code
 */
export async function runTool(name: string, main: () => Promise<number>): Promise<number> {
  try {
    return await main()
  } catch (err) {
    if (err instanceof UserMistake) {
      process.stderr.write(`${name}: ${err.message}\n`)
      return err.exitCode
    }
    const { code, path } = err as NodeJS.ErrnoException
    if (code !== undefined && path !== undefined && FILE_ERRORS[code] !== undefined) {
      process.stderr.write(`${name}: cannot read ${path}: ${FILE_ERRORS[code]}\n`)
      return 2
    }
    process.stderr.write(
      `${name}: ${(err as Error)?.message ?? String(err)}\n${(err as Error)?.stack ?? ''}\n`,
    )
    return 1
  }
}

/**
 * Makes a closed stdout end the process quietly: a reader that stops early (`npm run map … | head`)
 * closes the pipe, and the tool exits with the exit code set so far (0 when none), as Unix tools do,
 * not with a stack trace. Any other error of stdout is thrown.
 */
export function exitQuietlyOnEpipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    process.exit(process.exitCode ?? 0)
  })
}

/** The brokers a tool uses: its `--brokers` option, else `KAFKA_BROKERS`, with the name of the one used. */
export function brokersOf(option: string | undefined): { list: string[]; from: string } | undefined {
  const value = option ?? process.env.KAFKA_BROKERS
  if (value === undefined || value === '') return undefined
  return {
    list: value.split(',').map((b) => b.trim()),
    from: option === undefined ? 'KAFKA_BROKERS' : '--brokers',
  }
}

/**
 * Checks that the brokers answer and every topic of `topics` exists, before a tool reads them: a tool
 * that only reads a topic must not create it (a consumer's metadata request would, on a broker with
 * `auto.create.topics.enable`), and must not wait a minute on brokers nobody listens on.
 * @param brokers the brokers and where they came from, e.g. `KAFKA_BROKERS` or `--brokers`
 * @param hint added to the message of a missing topic, e.g. `; pass --create-topic to create it`
 * @throws UserMistake naming the brokers and their setting, or each missing topic
 */
export async function requireTopics(
  brokers: { list: string[]; from: string },
  topics: string[],
  hint = '',
): Promise<void> {
  // Quiet, and two retries: a tool's user wants the answer, not kafkajs' retry lines.
  const kafka = new Kafka({
    clientId: 'file-import-bridge-tool',
    brokers: brokers.list,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  })
  let missing: string[]
  try {
    missing = await findMissingTopics(kafka, topics)
  } catch (err) {
    throw new UserMistake(
      `Kafka cannot be reached at ${brokers.from}=${brokers.list.join(',')}: ${kafkaCause(err)}`,
    )
  }
  if (missing.length > 0)
    throw new UserMistake(
      `${missing.length === 1 ? 'topic' : 'topics'} ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist on ${brokers.list.join(',')} (${brokers.from})${hint}`,
    )
}
