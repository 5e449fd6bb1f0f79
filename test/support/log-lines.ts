import { Writable } from 'node:stream'
import { createLogger, type Logger } from '../../src/logging.ts'

/** One pino JSON log line, parsed. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number }

/** A logger that writes nothing, for unit tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ level: 'silent' })

/**
 * The JSON log lines of a bridge (in-process or a child process), each parsed once as it arrives, as
 * pino's own test helper (`sink`) does. Partial lines are kept until their newline comes; a line that
 * is not JSON (a crash trace) is kept in {@link text} only.
 */
export class LogLines {
  readonly #lines: LogLine[] = []
  readonly #raw: string[] = []
  #partial = ''

  /** Every parsed line so far. */
  get lines(): readonly LogLine[] {
    return this.#lines
  }

  /** Takes a chunk of output (any split into lines). */
  push(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n')
    this.#partial = parts.pop() ?? ''
    for (const line of parts) {
      if (line === '') continue
      this.#raw.push(line)
      try {
        this.#lines.push(JSON.parse(line) as LogLine)
      } catch {
        // not a log line
      }
    }
  }

  /** A writable stream feeding {@link push}, for `createLogger({destination})`. */
  writable(): Writable {
    return new Writable({
      write: (chunk, _encoding, done) => {
        this.push(String(chunk))
        done()
      },
    })
  }

  /** The lines whose `msg` is `msg`. */
  withMsg(msg: string): LogLine[] {
    return this.#lines.filter((l) => l.msg === msg)
  }

  /** The first line whose `msg` is `msg`, or undefined. */
  find(msg: string): LogLine | undefined {
    return this.#lines.find((l) => l.msg === msg)
  }

  /** Everything written, as text (to check that a secret never appears anywhere). */
  text(): string {
    return [...this.#raw, this.#partial].join('\n')
  }

  /**
   * Resolves once a line's `msg` is `msg`.
   * @param hasEnded checked while waiting: when true, the wait fails at once (e.g. the process exited)
   * @throws Error after `timeoutMs`, or once `hasEnded()` is true
   */
  async waitFor(
    msg: string,
    timeoutMs: number,
    hasEnded: () => string | undefined = () => undefined,
  ): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const line = this.find(msg)
      if (line !== undefined) return line
      const ended = hasEnded()
      if (ended !== undefined) throw new Error(`ended before logging "${msg}": ${ended}`)
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for log "${msg}"`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}
