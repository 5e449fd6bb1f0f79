// `npm run redrive` as a user types it, without a broker: --help of the command and its sub-commands,
// and every usage error: exit 2, a line naming the mistake, the usage, and never a stack trace.
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DLQ_REASONS } from '../../../src/errors.ts'
import { FAILURE_CLASSES } from '../../../src/model/failure-reasons.ts'

const ROOT = resolve(import.meta.dirname, '../../..')

function redrive(args: string[], env: Record<string, string> = { KAFKA_BROKERS: '127.0.0.1:1' }) {
  const run = spawnSync(process.execPath, ['scripts/redrive.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  })
  return { code: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe('npm run redrive', () => {
  it('--help names both sub-commands and the exit codes', () => {
    const run = redrive(['--help'])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^usage: npm run redrive -- <dlq\|results> \[options\]/)
    expect(run.stdout).toMatch(/^ {2}dlq {8}records of the DLQ topic/m)
    expect(run.stdout).toMatch(/^ {2}results {4}the source records of FAILED results/m)
    expect(run.stdout).toContain(
      'exit codes: 0 done, 1 failed, 2 usage error, 3 some selected records could not be sent',
    )
    expect(run.stderr).toBe('')
  })

  it('dlq --help lists every DLQ reason and the selection options; results --help every reason class', () => {
    const dlq = redrive(['dlq', '--help'])
    expect(dlq.code).toBe(0)
    for (const reason of DLQ_REASONS) expect(dlq.stdout).toContain(reason)
    for (const option of [
      '--reason',
      '--since',
      '--until',
      '--partition',
      '--from-offset',
      '--to-offset',
      '--all',
      '--dry-run',
    ])
      expect(dlq.stdout).toContain(`  ${option} `)
    const results = redrive(['results', '-h'])
    expect(results.code).toBe(0)
    for (const cls of FAILURE_CLASSES) expect(results.stdout).toContain(cls)
    expect(results.stdout).toContain('  --class CLASS ')
  })

  it.each([
    [[], {}, 'redrive: a sub-command is required'],
    [['replay'], {}, 'redrive: unknown sub-command "replay"'],
    [['dlq', '--bogus'], {}, "redrive dlq: Unknown option '--bogus'"],
    [['dlq', '--all'], { KAFKA_BROKERS: '' }, 'redrive dlq: KAFKA_BROKERS (or --brokers) is required'],
    [['dlq', '--dry-run'], {}, 'redrive dlq: say what to redrive (a selection option), or --all'],
    [
      ['dlq', '--reason', 'MAPPING_FAILD'],
      {},
      'redrive dlq: --reason: unknown "MAPPING_FAILD"; one of EMPTY_VALUE,',
    ],
    [
      ['dlq', '--all', '--from-offset', '3'],
      {},
      'redrive dlq: --from-offset and --to-offset need --partition',
    ],
    [['dlq', '--partition', 'one'], {}, 'redrive dlq: --partition: "one" is not a whole number'],
    [['dlq', '--since', 'yesterday'], {}, 'redrive dlq: --since: "yesterday" is not a time'],
    [
      ['dlq', '--since', '2026-12-02', '--until', '2026-12-01'],
      {},
      'redrive dlq: --since must be before --until',
    ],
    [
      ['dlq', '--all', '--dlq-topic', 'legacy.files', '--input-topic', 'legacy.files'],
      {},
      'redrive dlq: DLQ_TOPIC (--dlq-topic): names the same topic as INPUT_TOPIC (--input-topic) (legacy.files)',
    ],
    [
      ['dlq', '--all'],
      { INPUT_TOPIC: 'a/b' },
      'redrive dlq: INPUT_TOPIC (--input-topic): must be a valid Kafka topic name',
    ],
    [
      ['results', '--class', 'download'],
      {},
      'redrive results: --class: unknown "download"; one of upload, metadata,',
    ],
    [['results', '--all'], {}, 'redrive results: SCHEMA_REGISTRY_URL (or --registry) is required'],
    [['results', '--reason', 'MAPPING_FAILED'], {}, "redrive results: Unknown option '--reason'"],
  ] as Array<[string[], Record<string, string>, string]>)('%j with %j exits 2: %s', (args, env, message) => {
    const run = redrive(args, { KAFKA_BROKERS: '127.0.0.1:1', ...env })
    expect(run.code).toBe(2)
    expect(run.stderr.split('\n')[0]).toContain(message)
    expect(run.stderr).toMatch(/\nusage: npm run redrive -- /)
    expect(run.stderr).not.toMatch(/\n\s+at /)
    expect(run.stdout).toBe('')
  })
})
