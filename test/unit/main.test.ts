// The entry point as a child process: an invalid configuration exits 78 (EX_CONFIG) naming every
// problem, and never prints the access token.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempFile } from '../support/mapping-example.ts'
import { runProcess } from '../support/run-process.ts'

const ROOT = resolve(import.meta.dirname, '../..')

function runMain(env: Record<string, string>) {
  return runProcess(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
  })
}

describe('main', () => {
  it('exits 78 and names every missing or wrong setting', { timeout: 30_000 }, async () => {
    // Given an environment with only PATH and a non-http Livingdocs URL
    // When the bridge starts
    const run = await runMain({ LIVINGDOCS_BASE_URL: 'ftp://x' })

    // Then it exits with EX_CONFIG and names each problem on stderr
    expect(run.signal).toBeNull()
    expect(run.code).toBe(78)
    expect(run.stderr).toContain('file-import-bridge: invalid configuration')
    expect(run.stderr).toMatch(/KAFKA_BROKERS: is required/)
    expect(run.stderr).toMatch(/SCHEMA_REGISTRY_URL: is required/)
    expect(run.stderr).toMatch(/LIVINGDOCS_BASE_URL: must be an http\(s\) URL/)
    expect(run.stderr).toMatch(/LIVINGDOCS_ACCESS_TOKEN: is required/)
    // And no stack trace
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })

  it('exits 78 for a mapping file with a syntax error, naming the field and the place', {
    timeout: 30_000,
  }, async () => {
    // Given an otherwise valid configuration whose MAPPING_FILE has a broken url expression
    const mappingFile = tempFile(
      'mapping.yaml',
      'externalId: id\nfileName: t\nurl: links[kind = "original"\n',
    )
    // When the bridge starts
    const run = await runMain({
      KAFKA_BROKERS: '127.0.0.1:1',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1',
      LIVINGDOCS_BASE_URL: 'https://x.example',
      LIVINGDOCS_ACCESS_TOKEN: 'token',
      MAPPING_FILE: mappingFile,
    })
    // Then it exits with EX_CONFIG before connecting anywhere, naming the setting, field and place
    expect(run.code).toBe(78)
    expect(run.stderr).toContain(
      `MAPPING_FILE: ${mappingFile}: url: syntax error at line 1, column 23 of its expression: Expected "]" before end of expression (JSONata S0203)`,
    )
    expect(run.stdout).toBe('')
  })

  it('exits 78 before connecting anywhere when the DLQ topic is the input topic, naming both settings', {
    timeout: 30_000,
  }, async () => {
    // Given an otherwise valid configuration whose DLQ_TOPIC names the input topic
    const run = await runMain({
      KAFKA_BROKERS: '127.0.0.1:1',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1',
      LIVINGDOCS_BASE_URL: 'https://x.example',
      LIVINGDOCS_ACCESS_TOKEN: 'token',
      INPUT_TOPIC: 'legacy.files',
      DLQ_TOPIC: 'legacy.files',
    })
    // Then EX_CONFIG, one line naming both settings and the topic, and no stack trace
    expect(run.code).toBe(78)
    expect(run.stderr).toContain('DLQ_TOPIC: names the same topic as INPUT_TOPIC (legacy.files)')
    expect(run.stderr).not.toMatch(/\n\s+at /)
    expect(run.stdout).toBe('')
  })

  it('never prints the access token when the configuration is invalid', { timeout: 30_000 }, async () => {
    // Given a valid token but a missing KAFKA_BROKERS
    const token = 'supersecret-123'

    // When the bridge starts
    const run = await runMain({
      LIVINGDOCS_ACCESS_TOKEN: token,
      SCHEMA_REGISTRY_URL: 'http://registry.example:8081',
      LIVINGDOCS_BASE_URL: 'https://livingdocs.example',
    })

    // Then it exits 78 for KAFKA_BROKERS only, and the token appears nowhere
    expect(run.code).toBe(78)
    expect(run.stderr).toContain('KAFKA_BROKERS')
    expect(run.stderr).not.toContain('LIVINGDOCS_ACCESS_TOKEN')
    expect(run.stderr).not.toContain(token)
    expect(run.stdout).not.toContain(token)
  })

  it('never prints the access token when another setting is malformed', { timeout: 30_000 }, async () => {
    // Given a token and a malformed broker list and port
    const token = 'supersecret-123'

    // When the bridge starts
    const run = await runMain({
      LIVINGDOCS_ACCESS_TOKEN: token,
      KAFKA_BROKERS: 'not a broker',
      SCHEMA_REGISTRY_URL: 'http://registry.example:8081',
      LIVINGDOCS_BASE_URL: 'https://livingdocs.example',
      HTTP_PORT: '99999',
    })

    // Then it exits 78 naming both settings and the token appears nowhere
    expect(run.code).toBe(78)
    expect(run.stderr).toContain('KAFKA_BROKERS')
    expect(run.stderr).toContain('HTTP_PORT')
    expect(`${run.stderr}${run.stdout}`).not.toContain(token)
  })

  it('never prints the webhook secret when another setting is malformed', { timeout: 30_000 }, async () => {
    // Given a webhook secret (and its URL) and a malformed broker list
    const secret = 'webhook-hmac-key-0f3e9a'

    // When the bridge starts
    const run = await runMain({
      LIVINGDOCS_ACCESS_TOKEN: 'tok',
      KAFKA_BROKERS: 'not a broker',
      SCHEMA_REGISTRY_URL: 'http://registry.example:8081',
      LIVINGDOCS_BASE_URL: 'https://livingdocs.example',
      WEBHOOK_PUBLIC_URL: 'https://bridge.example',
      WEBHOOK_SECRET: secret,
    })

    // Then it exits 78 naming the broker setting only, and the secret appears nowhere
    expect(run.code).toBe(78)
    expect(run.stderr).toContain('KAFKA_BROKERS')
    expect(run.stderr).not.toContain('WEBHOOK_SECRET')
    expect(`${run.stderr}${run.stdout}`).not.toContain(secret)
  })
})

describe('main: a signal during start-up', () => {
  it('exits at once with 143 and a log line, instead of waiting for start-up to fail', {
    timeout: 30_000,
  }, async () => {
    // Given a bridge whose start-up hangs on an unreachable broker (kafkajs retries for over a minute)
    const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        KAFKA_BROKERS: '127.0.0.1:1',
        SCHEMA_REGISTRY_URL: 'http://127.0.0.1:2',
        LIVINGDOCS_BASE_URL: 'http://127.0.0.1:3',
        LIVINGDOCS_ACCESS_TOKEN: 'x',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        METRICS_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8')
    })
    const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>
    // (its first log line, "starting: connecting to Kafka", shows the signal handlers are in place)
    while (stdout === '') await new Promise((r) => setTimeout(r, 50))

    // When it gets SIGTERM
    child.kill('SIGTERM')
    const [code, signal] = await closed

    // Then it exits by itself with 143 (not killed by the signal), saying why, before start-up failed
    expect(signal).toBeNull()
    expect(code).toBe(143)
    expect(stdout).toContain('"msg":"signal during start-up: exiting now"')
    expect(stdout).not.toContain('"msg":"start-up failed')
  })

  it('warns about a misspelt setting, and names KAFKA_BROKERS in one line when no broker answers', {
    timeout: 60_000,
  }, async () => {
    // Given a valid configuration with a misspelt BATCH_MAX_FILES and brokers nobody listens on
    const run = await runMain({
      KAFKA_BROKERS: '127.0.0.1:1',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:2',
      LIVINGDOCS_BASE_URL: 'https://x.example',
      LIVINGDOCS_ACCESS_TOKEN: 'token',
      BATCH_MAX_FILE: '50',
      STARTUP_TIMEOUT_MS: '2000',
    })
    const lines = run.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { level: number; msg: string; component?: string })
    // Then it warns about the variable, naming the setting it resembles
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        variable: 'BATCH_MAX_FILE',
        didYouMean: 'BATCH_MAX_FILES',
        msg: 'environment variable BATCH_MAX_FILE is not a setting and is ignored; did you mean BATCH_MAX_FILES?',
      }),
    )
    // And it waits for the broker until STARTUP_TIMEOUT_MS, each wait one line naming the setting
    const waits = lines.filter((l) => l.msg === 'start-up: waiting for the Kafka broker')
    expect(waits.length).toBeGreaterThanOrEqual(1)
    expect(waits).toEqual(waits.map(() => expect.objectContaining({ setting: 'KAFKA_BROKERS' })))
    // And it exits 1 with one fatal line naming the service and the setting, without kafkajs' retries
    expect(run.code).toBe(1)
    const fatal = lines.filter((l) => l.level === 60)
    expect(fatal.map((l) => l.msg)).toEqual([
      'start-up failed: Kafka cannot be reached at KAFKA_BROKERS=127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1',
    ])
    expect(lines.filter((l) => l.component === 'kafkajs')).toEqual([])
  })
})
