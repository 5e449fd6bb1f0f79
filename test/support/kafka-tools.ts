// Kafka's own Java tools as producers this project did not write (scripts/stack kafka-tool: the
// kafka-tools jar from Maven Central, fetched on first use; needs Java and Maven, not the local stack).
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'

const STACK = resolve(import.meta.dirname, '../../scripts/stack')

/**
 * Produces `lines` with Kafka's console producer (`org.apache.kafka.tools.ConsoleProducer`), one record a
 * line, with `args` added (e.g. `--compression-codec lz4`, `--property parse.headers=true`). Resolves once
 * the tool exited 0 (it flushes and waits for the acknowledgements before exiting).
 * @throws Error with the tool's stderr when it exits otherwise, or after `timeoutMs`
 */
export async function consoleProduce(options: {
  brokers: string[]
  topic: string
  lines: string[]
  args?: string[]
  timeoutMs?: number
}): Promise<void> {
  const child = spawn(
    STACK,
    [
      'kafka-tool',
      'org.apache.kafka.tools.ConsoleProducer',
      '--bootstrap-server',
      options.brokers.join(','),
      '--topic',
      options.topic,
      ...(options.args ?? []),
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8')
  })
  child.stdin.end(`${options.lines.join('\n')}\n`)
  const timeoutMs = options.timeoutMs ?? 120_000
  const code = await new Promise<number | null>((done) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      done(null)
    }, timeoutMs)
    child.on('exit', (c) => {
      clearTimeout(timer)
      done(c)
    })
  })
  if (code !== 0) throw new Error(`console producer exited ${code}: ${stderr.slice(-3000)}`)
}
