// The commands an operator runs during a migration, as child processes against the real broker and
// registry: `npm run status` (one reading, --json, and the live view on a pseudo-terminal until Ctrl-C),
// `npm run consume` (counts, filters), and the messages of a user's mistakes (a missing topic, file, or
// unreachable broker: one line, nothing created).
import { spawn } from 'node:child_process'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { createKafka } from '../../src/kafka/client.ts'
import { ensureTopics, findMissingTopics } from '../../src/kafka/topics.ts'
import { createLogger } from '../../src/logging.ts'
import { buildResultEvent, resultKey } from '../../src/outcome/outcome-event.ts'
import { createSchemaCodec, readSchema } from '../../src/registry/registry.ts'
import { uniqueTopics } from '../support/bridge-harness.ts'
import { freePort } from '../support/free-port.ts'
import { tempFile } from '../support/mapping-example.ts'
import { pendingFile } from '../support/pending-file.ts'
import { projectRoot, runScript } from '../support/run-script.ts'
import { testProducer } from '../support/test-producer.ts'

const { brokers, schemaRegistryUrl } = inject('kafka')
const kafka = createKafka(
  { brokers, clientId: 'operator-cli-test' },
  { logger: createLogger({ level: 'fatal' }) },
)

/** One of the project's commands; `env` adds to the test's broker and registry. */
const run = (script: string, args: string[], env: Record<string, string> = {}) =>
  runScript(script, args, { env })

/**
 * Runs `script` with node on a pseudo-terminal of 120 columns (util-linux' script(1), in Debian's
 * essential set), as an operator's shell would: `screen` is everything it drew (cursor codes included),
 * `until` waits for a screen, `type` sends keys (`\x03` is Ctrl-C, which the terminal turns into SIGINT),
 * `exited` is its exit code. The process is killed when the test ends.
 */
function onTerminal(script: string, args: string[]) {
  const command = [process.execPath, '--disable-warning=TimeoutNegativeWarning', script, ...args]
    .map((a) => `'${a}'`)
    .join(' ')
  const child = spawn(
    'script',
    ['--quiet', '--flush', '--return', '--command', `stty cols 120 rows 30; exec ${command}`, '/dev/null'],
    {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, KAFKA_BROKERS: brokers.join(','), TERM: 'xterm' },
    },
  )
  onTestFinished(() => {
    child.kill('SIGKILL')
  })
  let screen = ''
  const seen = new Set<() => void>()
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk
    for (const check of seen) check()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return {
    get screen() {
      return screen
    },
    /** Resolves once `drawn(screen)` holds; rejects with the screen if the command exits first or 30 s pass. */
    until(drawn: (screen: string) => boolean, what: string): Promise<void> {
      return new Promise((resolve, reject) => {
        const fail = (why: string) => {
          seen.delete(check)
          reject(new Error(`${why} before ${what}; the screen's end:\n${screen.slice(-2000)}`))
        }
        const timer = setTimeout(() => fail('30 s passed'), 30_000)
        const check = () => {
          if (!drawn(screen)) return
          seen.delete(check)
          clearTimeout(timer)
          resolve()
        }
        seen.add(check)
        check()
        void exited.then((code) => {
          clearTimeout(timer)
          fail(`exited ${code}`)
        })
      })
    },
    type(keys: string): void {
      child.stdin.write(keys)
    },
    exited,
  }
}

/** A user's mistake is one line on stderr: no stack trace. */
function expectOneLine(stderr: string, text: string): void {
  expect(stderr.trim().split('\n')).toEqual([expect.stringContaining(text)])
  expect(stderr).not.toMatch(/\n\s+at /)
}

describe('npm run status against a consumer group', () => {
  const topics = uniqueTopics('status')
  const group = topics.group

  beforeAll(async () => {
    // Given an input of 3 partitions with 40, 20 and 0 records, a group committed at 30 and 5 on the first
    // two, and 12 results and 3 DLQ records written just now
    await ensureTopics(kafka, [
      { topic: topics.input, numPartitions: 3 },
      { topic: topics.result, numPartitions: 2 },
      { topic: topics.dlq, numPartitions: 1 },
    ])
    const producer = testProducer(kafka)
    await producer.connect()
    const records = (partition: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ partition, value: `r${i}` }))
    await producer.send({ topic: topics.input, messages: [...records(0, 40), ...records(1, 20)] })
    await producer.send({ topic: topics.result, messages: records(0, 12) })
    await producer.send({ topic: topics.dlq, messages: records(0, 3) })
    await producer.disconnect()
    const admin = kafka.admin()
    await admin.connect()
    await admin.setOffsets({
      groupId: group,
      topic: topics.input,
      partitions: [
        { partition: 0, offset: '30' },
        { partition: 1, offset: '5' },
      ],
    })
    await admin.disconnect()
  })

  const args = () => [
    '--group',
    group,
    '--topic',
    topics.input,
    '--result-topic',
    topics.result,
    '--dlq-topic',
    topics.dlq,
  ]

  it('prints one summary off a terminal: a line per partition and the total with rate and ETA, and exits', () => {
    const status = run('scripts/status.ts', [...args(), '--window-ms', '60000'])
    expect(status.status).toBe(0)
    const lines = status.stdout.trim().split('\n')
    expect(lines[0]).toMatch(new RegExp(`^status: group ${group} on ${topics.input}, 3 partitions, read `))
    expect(lines.slice(1, 4)).toEqual([
      '  partition 0: 30/40 done (75.0%), 10 behind',
      '  partition 1: 5/20 done (25.0%), 15 behind',
      '  partition 2: 0/0 done (100.0%), 0 behind, ETA 0s',
    ])
    // 15 records in the result and DLQ topics within the last minute: 0.25/s, 25 behind: 100 s
    expect(lines[4]).toMatch(
      /^total: 35\/60 done \(58\.3%\), 25 behind, 0\.25\/s, ETA 1m 40s \(about .*\); rate from the result and DLQ topics, last 1 min$/,
    )
  })

  it('prints the same reading as JSON with --json', () => {
    const status = run('scripts/status.ts', [...args(), '--window-ms', '60000', '--json'])
    expect(status.status).toBe(0)
    const json = JSON.parse(status.stdout) as Record<string, unknown>
    expect(json).toMatchObject({
      topic: topics.input,
      groupId: group,
      partitions: [
        { partition: 0, logStart: '0', logEnd: '40', committed: '30', done: 30, behind: 10, total: 40 },
        { partition: 1, logEnd: '20', committed: '5', behind: 15 },
        { partition: 2, logEnd: '0', committed: null, behind: 0, etaSeconds: 0 },
      ],
      total: { done: 35, behind: 25, total: 60, ratePerSecond: 0.25, etaSeconds: 100 },
      rateSource: { kind: 'results', windowMs: 60_000 },
    })
  })

  it('on a terminal draws a bar per partition and the total, redraws with each reading, and on Ctrl-C leaves the summary', async () => {
    // Given a group of its own committed at 30 and 5
    const live = `${group}-live`
    const commit = async (offsets: [string, string]) => {
      const admin = kafka.admin()
      await admin.connect()
      await admin.setOffsets({
        groupId: live,
        topic: topics.input,
        partitions: offsets.map((offset, partition) => ({ partition, offset })),
      })
      await admin.disconnect()
    }
    await commit(['30', '5'])

    // When the status view runs on a terminal, reading Kafka every 200 ms
    const view = onTerminal('scripts/status.ts', [
      ...args().map((a) => (a === group ? live : a)),
      '--window-ms',
      '60000',
      '--interval-ms',
      '200',
    ])

    // Then it draws a bar for the total and for each partition, with their counts
    await view.until((s) => /p2 .*0\/0 \| 0 behind/.test(s), 'the first frame')
    expect(view.screen).toContain(`${live} on ${topics.input} at `)
    expect(view.screen).toMatch(/total +█+░+ +58% \| 35\/60 \| 25 behind \| 0\.25\/s \| ETA 1m 40s/)
    expect(view.screen).toMatch(/p0 +█+░+ +75% \| 30\/40 \| 10 behind/)
    expect(view.screen).toMatch(/p1 +█+░+ +25% \| 5\/20 \| 15 behind/)
    // (drawn in place with cursor codes, the cursor hidden while it runs)
    expect(view.screen).toContain('\u001b[?25l')

    // When the group commits further, the view shows it without a restart
    await commit(['40', '15'])
    await view.until((s) => /total +█+░+ +\d+% \| 55\/60 \| 5 behind/.test(s), 'a frame of the new reading')
    expect(view.screen).toMatch(/p0 +█+ +100% \| 40\/40 \| 0 behind/)

    // When the operator types Ctrl-C, it stops at once with the summary of the last reading
    view.type('\x03')
    expect(await view.exited).toBe(0)
    const summary = view.screen.slice(view.screen.lastIndexOf('status: group'))
    expect(summary.split('\r\n').slice(0, 4)).toEqual([
      expect.stringMatching(new RegExp(`^status: group ${live} on ${topics.input}, 3 partitions, read `)),
      expect.stringMatching(/^ {2}partition 0: 40\/40 done \(100\.0%\), 0 behind(, \S+\/s)?, ETA 0s$/),
      // the committed offsets moved: the live view's rate is theirs, so partition 1 has a rate of its own
      expect.stringMatching(/^ {2}partition 1: 15\/20 done \(75\.0%\), 5 behind, \S+\/s, ETA \S+/),
      expect.stringMatching(/^ {2}partition 2: 0\/0 done \(100\.0%\), 0 behind(, \S+\/s)?, ETA 0s$/),
    ])
    expect(summary).toMatch(/rate from the committed offsets, averaged over 1 min/)
  })

  it('names a topic that does not exist, in one line, and creates nothing', async () => {
    const missing = `${topics.input}.missing`
    const status = run('scripts/status.ts', ['--group', group, '--topic', missing])
    expect(status.status).toBe(1)
    expectOneLine(
      status.stderr,
      `status: topic ${missing} does not exist on ${brokers.join(',')} (KAFKA_BROKERS)`,
    )
    expect(await findMissingTopics(kafka, [missing])).toEqual([missing])
  })
})

describe('npm run consume: counts and filters', () => {
  const topics = uniqueTopics('consume')

  beforeAll(async () => {
    // Given a result topic with 2 SUCCESS, an upload failure, a timeout and a SKIPPED result
    await ensureTopics(kafka, [{ topic: topics.result, numPartitions: 1 }])
    const codec = createSchemaCodec({ url: schemaRegistryUrl })
    const id = await codec.register(`${topics.result}-value`, await readSchema('fileImportResult'))
    const outcomes = [
      ['a', { state: 'imported', mediaId: 'm-a' }],
      ['b', { state: 'imported', mediaId: 'm-b' }],
      ['c', { state: 'failed', reason: 'Could not upload file: HTTP 404' }],
      ['d', { state: 'failed', reason: 'timeout' }],
      ['e', { state: 'skipped', reason: 'already exists', mediaId: 'm-e' }],
    ] as const
    const messages = await Promise.all(
      outcomes.map(async ([externalId, outcome], i) => {
        const file = {
          ...pendingFile(externalId),
          position: { topic: topics.input, partition: 0, offset: String(i) },
        }
        const event = buildResultEvent(file, outcome as never, 'job1', Date.now())
        return { key: resultKey(event), value: await codec.encode(id, event) }
      }),
    )
    const producer = testProducer(kafka)
    await producer.connect()
    await producer.send({ topic: topics.result, messages })
    await producer.disconnect()
  })

  const consume = (...extra: string[]) =>
    run('scripts/consume.ts', [topics.result, '--idle-ms', '1500', ...extra])
  const printed = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { value: { externalId: string } }).value.externalId)

  it('prints every record and counts them by state, FAILED by reason class', () => {
    const all = consume()
    expect(all.status).toBe(0)
    expect(printed(all.stdout)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(all.stderr.trim()).toBe(
      `consume: 5 records from ${topics.result}: SUCCESS=2 SKIPPED=1 FAILED=2 (timeout=1 upload=1)`,
    )
  })

  it('prints only the records of a state, a reason class, or an externalId; the counts stay whole', () => {
    expect(printed(consume('--state', 'FAILED').stdout)).toEqual(['c', 'd'])
    expect(printed(consume('--reason', 'upload').stdout)).toEqual(['c'])
    expect(printed(consume('--reason', 'already').stdout)).toEqual(['e'])
    const one = consume('--external-id', 'b')
    expect(printed(one.stdout)).toEqual(['b'])
    expect(one.stderr).toContain(`5 records from ${topics.result}, 1 printed: SUCCESS=2`)
  })
})

describe("a user's mistakes: one line, nothing created", () => {
  it('consume of a topic that does not exist', async () => {
    const { result: missing } = uniqueTopics('absent')
    const consume = run('scripts/consume.ts', [missing])
    expect(consume.status).toBe(1)
    expectOneLine(
      consume.stderr,
      `consume: topic ${missing} does not exist on ${brokers.join(',')} (KAFKA_BROKERS)`,
    )
    expect(await findMissingTopics(kafka, [missing])).toEqual([missing])
  })

  it('map --topic of a topic that does not exist', async () => {
    const { input: missing } = uniqueTopics('absent')
    const mapping = tempFile('mapping.yaml', 'externalId: id\nurl: link\nfileName: name\n')
    const map = run('scripts/map.ts', ['--mapping', mapping, '--topic', missing])
    expect(map.status).toBe(1)
    expectOneLine(map.stderr, `map: topic ${missing} does not exist`)
    expect(await findMissingTopics(kafka, [missing])).toEqual([missing])
  })

  it('produce of an export file that does not exist, and to a topic that does not exist', async () => {
    const noFile = run('scripts/produce.ts', ['/no/such/export.ndjson'])
    expect(noFile.status).toBe(2)
    expectOneLine(noFile.stderr, 'produce: cannot read /no/such/export.ndjson: no such file')
    const { input: missing } = uniqueTopics('absent')
    const file = tempFile(
      'export.ndjson',
      '{"externalId":"a","url":"https://x.example/a.pdf","fileName":"A"}\n',
    )
    const noTopic = run('scripts/produce.ts', [file, '--topic', missing])
    expect(noTopic.status).toBe(1)
    expectOneLine(noTopic.stderr, `topic ${missing} does not exist`)
    expect(noTopic.stderr).toContain('pass --create-topic to create it')
    expect(await findMissingTopics(kafka, [missing])).toEqual([missing])
  })

  it('consume and status against brokers nobody listens on name KAFKA_BROKERS', () => {
    for (const script of ['scripts/consume.ts', 'scripts/status.ts']) {
      const failed = run(script, [], { KAFKA_BROKERS: '127.0.0.1:1' })
      expect(failed.status).toBe(1)
      expectOneLine(
        failed.stderr,
        'Kafka cannot be reached at KAFKA_BROKERS=127.0.0.1:1: connect ECONNREFUSED',
      )
    }
  })
})

// A port nobody listens on (free a moment ago), for a registry that cannot be reached.
const closedPort = await freePort()

describe('the bridge names the schema registry setting at start-up', () => {
  it.each([
    [
      'a URL that is not a registry API (404)',
      (url: string) => url.replace(/\/apis\/ccompat\/v7$/, ''),
      78,
      /the schema registry at SCHEMA_REGISTRY_URL=\S+ answered HTTP 404 .*not a Confluent-compatible schema registry API/,
    ],
    [
      'a registry nobody listens on',
      () => `http://127.0.0.1:${closedPort}/apis/ccompat/v7`,
      1,
      new RegExp(
        `the schema registry at SCHEMA_REGISTRY_URL=http://127\\.0\\.0\\.1:${closedPort}/apis/ccompat/v7 cannot be reached: no answer \\(ECONNREFUSED\\)`,
      ),
    ],
    [
      'a port HTTP clients refuse (the Fetch standard blocks port 1)',
      () => 'http://127.0.0.1:1/apis/ccompat/v7',
      78,
      /the schema registry at SCHEMA_REGISTRY_URL=http:\/\/127\.0\.0\.1:1\/apis\/ccompat\/v7 cannot be reached: a port HTTP clients refuse to use/,
    ],
  ])('%s', (_what, urlOf, code, message) => {
    const topics = uniqueTopics('registry')
    const bridge = run('src/main.ts', [], {
      SCHEMA_REGISTRY_URL: urlOf(schemaRegistryUrl),
      LIVINGDOCS_BASE_URL: 'https://x.example',
      LIVINGDOCS_ACCESS_TOKEN: 'token',
      // (a registry nobody listens on is waited for until then)
      STARTUP_TIMEOUT_MS: '3000',
      CREATE_MISSING_TOPICS: 'true',
      INPUT_TOPIC: topics.input,
      RESULT_TOPIC: topics.result,
      DLQ_TOPIC: topics.dlq,
      HTTP_PORT: '0',
      METRICS_PORT: '0',
    })
    expect(bridge.status).toBe(code)
    const fatal = bridge.stdout
      .split('\n')
      .filter((l) => l.includes('"level":60'))
      .map((l) => (JSON.parse(l) as { msg: string }).msg)
    expect(fatal).toHaveLength(1)
    expect(fatal[0]).toMatch(new RegExp(`^start-up failed: ${message.source}`))
  })
})
