// loadConfig: environment variables to a frozen Config, or one CONFIG_INVALID error naming every problem.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Batcher } from '../../src/batcher/batcher.ts'
import { loadConfig, loadMediaKinds, misspeltSettings } from '../../src/config.ts'
import { envSchema } from '../../src/config-schema.ts'
import { BridgeError } from '../../src/errors.ts'
import { loadMapping } from '../../src/mapping/compile.ts'
import { DEFAULT_MAPPING_TIMEOUT_MS } from '../../src/mapping/guardrails.ts'
import { ENVELOPE_BYTES } from '../../src/model/files.ts'

const TOKEN = 'sekret-token-4f9c1e'

const minimal = {
  KAFKA_BROKERS: 'kafka-1:9092',
  SCHEMA_REGISTRY_URL: 'http://registry:8081',
  LIVINGDOCS_BASE_URL: 'https://server.livingdocs.io',
  LIVINGDOCS_ACCESS_TOKEN: TOKEN,
}

/** The heap limit the tests' configurations see: the Helm chart's flags at 512Mi give 304 MiB. */
const HEAP_LIMIT = 304 * 1024 * 1024

/**
 * {@link loadConfig} as src/main.ts calls it, with the mapping loader of src/mapping/compile.ts (and a
 * fixed heap limit in place of this process's own).
 */
const load = (env: Record<string, string | undefined>) =>
  loadConfig(env, { loadMapping, heapLimitBytes: HEAP_LIMIT })

function configError(env: Record<string, string | undefined>): BridgeError {
  try {
    load(env)
  } catch (err) {
    expect(err).toBeInstanceOf(BridgeError)
    return err as BridgeError
  }
  throw new Error('loadConfig did not throw')
}

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-config-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('valid configuration', () => {
  it('a minimal environment gives the defaults', () => {
    // Given only the required variables
    // When loading
    const config = load(minimal)
    // Then every default is applied
    expect(config).toEqual({
      kafka: { brokers: ['kafka-1:9092'], clientId: 'file-import-bridge' },
      consumer: {
        groupId: 'file-import-bridge',
        topic: 'legacy.file-created',
        sessionTimeoutMs: 30_000,
        fetchMaxBytes: 10_485_760,
        fetchMaxBytesPerPartition: 1_048_576,
      },
      topics: {
        input: 'legacy.file-created',
        result: 'livingdocs.file-import-results',
        dlq: 'legacy.file-created.dlq',
        createMissing: false,
        createdPartitions: 3,
      },
      registry: {
        url: 'http://registry:8081',
        requestTimeoutMs: 10_000,
        retry: { minDelayMs: 500, maxDelayMs: 10_000 },
      },
      decoder: {
        defaultSystemName: undefined,
        mediaKinds: { kindsByMediaType: { image: 'image', video: 'video' }, detectFromFile: true },
        checksumProperty: undefined,
      },
      importClient: {
        baseUrl: 'https://server.livingdocs.io',
        apiVersion: '2026-03',
        accessToken: TOKEN,
        requestTimeoutMs: 30_000,
        maxRetries: 5,
        maxBackoffMs: 30_000,
        rateLimitPerSecond: 0,
      },
      batcher: { maxFiles: 100, maxBytes: 450_000, lingerMs: 1000 },
      backpressure: { maxFilesInFlight: 10_000, maxBytesInFlight: HEAP_LIMIT / 4, resumeRatio: 0.5 },
      memory: { heapLimitBytes: HEAP_LIMIT, maxBytesInFlightFrom: 'heap limit / 4' },
      apiBudget: { scope: 'group', maxJobsInFlight: 10, rateLimitPerSecond: 0 },
      startupTimeoutMs: 60_000,
      jobs: {
        maxJobsInFlight: 10,
        pollIntervalMs: 5000,
        jobTimeoutMs: 3_600_000,
        webhookUrl: undefined,
        webhookSecret: undefined,
        holdRecheckMs: 30_000,
        maxHoldMs: 900_000,
        jobVisibilityGraceMs: 60_000,
      },
      existingEntries: {
        onExisting: 'skip',
        checksumProperty: undefined,
        maxInFlight: 10,
        probeSystemName: 'file-import-bridge',
        holdRecheckMs: 30_000,
        maxHoldMs: 900_000,
      },
      commit: { intervalMs: 1000 },
      publishStallMs: 60000,
      producerLingerMs: 5,
      redrive: { maxAttempts: 3 },
      lag: { topic: 'legacy.file-created', intervalMs: 15_000, rateWindowMs: 300_000 },
      replicas: {
        groupId: 'file-import-bridge',
        jobNotifications: { enabled: false, topic: 'file-import-bridge.job-notifications' },
        jobLog: { enabled: false, topic: 'file-import-bridge.job-log' },
      },
      http: { host: '0.0.0.0', port: 8080, metricsPort: 9464, webhookSecret: undefined },
      admin: { token: undefined, controlTopic: 'file-import-bridge.control' },
      shutdownGraceMs: 30_000,
      logLevel: 'info',
      tracing: { enabled: false, endpoint: undefined },
    })
  })

  it('takes MAX_BYTES_IN_FLIGHT as set, or a quarter of the heap limit; API_LIMITS_SCOPE group or replica', () => {
    // Given the bytes budget and the scope set
    const set = load({ ...minimal, MAX_BYTES_IN_FLIGHT: '50000000', API_LIMITS_SCOPE: 'replica' })
    // Then they are taken as they are, and the start-up log can say where the bytes budget came from
    expect(set.backpressure.maxBytesInFlight).toBe(50_000_000)
    expect(set.memory).toEqual({ heapLimitBytes: HEAP_LIMIT, maxBytesInFlightFrom: 'MAX_BYTES_IN_FLIGHT' })
    expect(set.apiBudget.scope).toBe('replica')
    // And without it, another heap limit gives another default
    const derived = loadConfig(minimal, { loadMapping, heapLimitBytes: 4_000_000_000 })
    expect(derived.backpressure.maxBytesInFlight).toBe(1_000_000_000)
    // And wrong values are named
    const wrong = configError({ ...minimal, API_LIMITS_SCOPE: 'pod', MAX_BYTES_IN_FLIGHT: '10' }).message
    expect(wrong).toMatch(/API_LIMITS_SCOPE: must be group or replica/)
    expect(wrong).toMatch(/MAX_BYTES_IN_FLIGHT: .*1024/)
  })

  it('ON_EXISTING and CHECKSUM_METADATA_PROPERTY go to the existing-entries step and the decoder', () => {
    const config = load({
      ...minimal,
      ON_EXISTING: 'metadata',
      CHECKSUM_METADATA_PROPERTY: 'sourceChecksum',
      MAX_JOBS_IN_FLIGHT: '3',
      DEFAULT_SYSTEM_NAME: 'legacy',
    })
    expect(config.existingEntries).toMatchObject({
      onExisting: 'metadata',
      checksumProperty: 'sourceChecksum',
      maxInFlight: 3,
      probeSystemName: 'legacy',
    })
    expect(config.decoder.checksumProperty).toBe('sourceChecksum')
  })

  it('parses lists and numbers and strips trailing slashes of the base URL', () => {
    const config = load({
      ...minimal,
      KAFKA_BROKERS: 'a:9092, b:9093 ,c:1',
      LIVINGDOCS_BASE_URL: 'https://ld.example/prefix//',
      BATCH_MAX_FILES: '25',
      BATCH_LINGER_MS: '0',
      LIVINGDOCS_API_VERSION: 'beta',
      DEFAULT_SYSTEM_NAME: 'legacy',
      LOG_LEVEL: 'debug',
    })
    expect(config.kafka.brokers).toEqual(['a:9092', 'b:9093', 'c:1'])
    expect(config.importClient.baseUrl).toBe('https://ld.example/prefix')
    expect(config.batcher).toEqual({ maxFiles: 25, maxBytes: 450_000, lingerMs: 0 })
    expect(config.importClient.apiVersion).toBe('beta')
    expect(config.decoder.defaultSystemName).toBe('legacy')
    expect(config.logLevel).toBe('debug')
  })

  it('treats an empty string as unset', () => {
    // Given optional variables set to ''
    const config = load({
      ...minimal,
      BATCH_MAX_FILES: '',
      DEFAULT_SYSTEM_NAME: '',
      LIVINGDOCS_ACCESS_TOKEN_FILE: '',
    })
    // Then the defaults apply, and the empty token file does not conflict with the token
    expect(config.batcher.maxFiles).toBe(100)
    expect(config.decoder.defaultSystemName).toBeUndefined()
    expect(config.importClient.accessToken).toBe(TOKEN)
  })

  it('treats an empty required variable as missing', () => {
    const err = configError({ ...minimal, KAFKA_BROKERS: '' })
    expect(err.message).toContain('KAFKA_BROKERS: is required')
  })

  it('returns a deep-frozen object: assignment throws in strict mode', () => {
    const config = load(minimal)
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.batcher)).toBe(true)
    expect(Object.isFrozen(config.kafka.brokers)).toBe(true)
    expect(() => {
      ;(config as { shutdownGraceMs: number }).shutdownGraceMs = 1
    }).toThrow(TypeError)
    expect(() => {
      ;(config.batcher as { maxFiles: number }).maxFiles = 1
    }).toThrow(TypeError)
    expect(() => {
      ;(config.kafka.brokers as string[]).push('x:1')
    }).toThrow(TypeError)
    expect(config.batcher.maxFiles).toBe(100)
  })
})

describe('access token', () => {
  it('reads the token from LIVINGDOCS_ACCESS_TOKEN_FILE, trimmed', () => {
    const file = join(dir, 'token')
    writeFileSync(file, `  ${TOKEN}\n`)
    const { LIVINGDOCS_ACCESS_TOKEN: _, ...env } = minimal
    expect(load({ ...env, LIVINGDOCS_ACCESS_TOKEN_FILE: file }).importClient.accessToken).toBe(TOKEN)
  })

  it('hands the token file to the import client, which reads it again after a 401', () => {
    const file = join(dir, 'token')
    writeFileSync(file, TOKEN)
    const { LIVINGDOCS_ACCESS_TOKEN: _, ...env } = minimal
    expect(load({ ...env, LIVINGDOCS_ACCESS_TOKEN_FILE: file }).importClient.accessTokenFile).toBe(file)
    expect(load(minimal).importClient.accessTokenFile).toBeUndefined()
  })

  it('rejects both token settings at once', () => {
    const file = join(dir, 'token')
    writeFileSync(file, TOKEN)
    const err = configError({ ...minimal, LIVINGDOCS_ACCESS_TOKEN_FILE: file })
    expect(err.code).toBe('CONFIG_INVALID')
    expect(err.message).toMatch(/LIVINGDOCS_ACCESS_TOKEN: set either .* not both/)
    expect(err.message).not.toContain(TOKEN)
  })

  it('an unreadable token file -> an error naming LIVINGDOCS_ACCESS_TOKEN_FILE', () => {
    const { LIVINGDOCS_ACCESS_TOKEN: _, ...env } = minimal
    const err = configError({ ...env, LIVINGDOCS_ACCESS_TOKEN_FILE: join(dir, 'missing') })
    expect(err.code).toBe('CONFIG_INVALID')
    expect(err.message).toMatch(/LIVINGDOCS_ACCESS_TOKEN_FILE: cannot read the file \(ENOENT\)/)
  })

  it('a token file that is a directory -> an error naming LIVINGDOCS_ACCESS_TOKEN_FILE', () => {
    const { LIVINGDOCS_ACCESS_TOKEN: _, ...env } = minimal
    const err = configError({ ...env, LIVINGDOCS_ACCESS_TOKEN_FILE: dir })
    expect(err.message).toContain('LIVINGDOCS_ACCESS_TOKEN_FILE: cannot read the file')
  })

  it('an empty token file -> an error', () => {
    const file = join(dir, 'token')
    writeFileSync(file, ' \n')
    const { LIVINGDOCS_ACCESS_TOKEN: _, ...env } = minimal
    expect(configError({ ...env, LIVINGDOCS_ACCESS_TOKEN_FILE: file }).message).toContain(
      'LIVINGDOCS_ACCESS_TOKEN_FILE: the file is empty',
    )
  })

  it('no token at all -> an error naming LIVINGDOCS_ACCESS_TOKEN', () => {
    const { LIVINGDOCS_ACCESS_TOKEN: _, ...env } = minimal
    expect(configError(env).message).toContain('LIVINGDOCS_ACCESS_TOKEN: is required')
  })

  it('never puts the token in the error, its context or its cause', () => {
    // Given a valid token and several invalid settings
    const err = configError({ ...minimal, BATCH_MAX_FILES: '0', LIVINGDOCS_API_VERSION: TOKEN })
    // Then the token appears nowhere in what gets logged
    expect(err.message).not.toContain(TOKEN)
    expect(JSON.stringify(err.context)).not.toContain(TOKEN)
    expect(String(err.cause ?? '')).not.toContain(TOKEN)
  })
})

describe('admin token', () => {
  const ADMIN = 'admin-token-5b8e1d27'
  it('is off by default, and the control topic has its default name', () => {
    expect(load(minimal).admin).toEqual({ token: undefined, controlTopic: 'file-import-bridge.control' })
  })

  it('is read from ADMIN_TOKEN or, trimmed, from ADMIN_TOKEN_FILE', () => {
    expect(load({ ...minimal, ADMIN_TOKEN: ADMIN }).admin.token).toBe(ADMIN)
    const file = join(dir, 'admin-token')
    writeFileSync(file, `${ADMIN}\n`)
    expect(load({ ...minimal, ADMIN_TOKEN_FILE: file, CONTROL_TOPIC: 'ops.control' }).admin).toEqual({
      token: ADMIN,
      controlTopic: 'ops.control',
    })
  })

  it('rejects both settings, a short token, and never puts the token in the error', () => {
    const file = join(dir, 'admin-token')
    writeFileSync(file, ADMIN)
    expect(configError({ ...minimal, ADMIN_TOKEN: ADMIN, ADMIN_TOKEN_FILE: file }).message).toContain(
      'ADMIN_TOKEN: set either ADMIN_TOKEN or ADMIN_TOKEN_FILE, not both',
    )
    const err = configError({ ...minimal, ADMIN_TOKEN: 'short-token' })
    expect(err.message).toContain('ADMIN_TOKEN: must be at least 16 characters')
    expect(err.message).not.toContain('short-token')
  })
})

describe('webhook secret', () => {
  const SECRET = 'webhook-secret-7d2a9c41'
  const withUrl = { ...minimal, WEBHOOK_PUBLIC_URL: 'https://bridge.example' }

  it('is required when WEBHOOK_PUBLIC_URL is set, naming WEBHOOK_SECRET', () => {
    const err = configError(withUrl)
    expect(err.code).toBe('CONFIG_INVALID')
    expect(err.context.problems).toEqual([
      expect.stringMatching(/^WEBHOOK_SECRET: is required when WEBHOOK_PUBLIC_URL/),
    ])
  })

  it('is optional without WEBHOOK_PUBLIC_URL', () => {
    expect(load(minimal).http.webhookSecret).toBeUndefined()
  })

  it('is read from WEBHOOK_SECRET or, trimmed, from WEBHOOK_SECRET_FILE', () => {
    expect(load({ ...withUrl, WEBHOOK_SECRET: SECRET }).http.webhookSecret).toBe(SECRET)
    const file = join(dir, 'webhook-secret')
    writeFileSync(file, `${SECRET}\n`)
    expect(load({ ...withUrl, WEBHOOK_SECRET_FILE: file }).http.webhookSecret).toBe(SECRET)
  })

  it('rejects both settings at once, an unreadable or empty file, and a short secret, by name', () => {
    const file = join(dir, 'webhook-secret')
    writeFileSync(file, SECRET)
    expect(configError({ ...withUrl, WEBHOOK_SECRET: SECRET, WEBHOOK_SECRET_FILE: file }).message).toMatch(
      /WEBHOOK_SECRET: set either WEBHOOK_SECRET or WEBHOOK_SECRET_FILE, not both/,
    )
    expect(configError({ ...withUrl, WEBHOOK_SECRET_FILE: join(dir, 'missing') }).message).toContain(
      'WEBHOOK_SECRET_FILE: cannot read the file (ENOENT)',
    )
    writeFileSync(file, ' \n')
    expect(configError({ ...withUrl, WEBHOOK_SECRET_FILE: file }).message).toContain(
      'WEBHOOK_SECRET_FILE: the file is empty',
    )
    expect(configError({ ...withUrl, WEBHOOK_SECRET: 'short' }).message).toContain(
      'WEBHOOK_SECRET: must be at least 16 characters',
    )
  })

  it('never puts the secret in the error, its context or its cause', () => {
    const err = configError({
      ...withUrl,
      WEBHOOK_SECRET: SECRET,
      BATCH_MAX_FILES: '0',
      LIVINGDOCS_API_VERSION: SECRET,
    })
    expect(err.message).not.toContain(SECRET)
    expect(JSON.stringify(err.context)).not.toContain(SECRET)
    expect(String(err.cause ?? '')).not.toContain(SECRET)
  })
})

describe('invalid configuration', () => {
  it('reports every problem at once, each naming its variable', () => {
    // Given a missing KAFKA_BROKERS, a non-number BATCH_MAX_FILES and an ftp base URL
    const { KAFKA_BROKERS: _, ...env } = minimal
    const err = configError({ ...env, BATCH_MAX_FILES: 'abc', LIVINGDOCS_BASE_URL: 'ftp://x' })
    // Then one CONFIG_INVALID error names all three, one per line
    expect(err.code).toBe('CONFIG_INVALID')
    expect(err.retryable).toBe(false)
    expect(err.message).toMatch(/^invalid configuration:\n/)
    expect(err.message).toContain('KAFKA_BROKERS: is required')
    expect(err.message).toMatch(/\n {2}BATCH_MAX_FILES: /)
    expect(err.message).toContain('LIVINGDOCS_BASE_URL: must be an http(s) URL')
    expect(err.context.problems).toHaveLength(3)
  })

  it('refuses with a mapping a MAPPING_TIMEOUT_MS whose runaway events would outlast half the session', () => {
    // Given a mapping, and a session of 30 s (the default)
    const mappingFile = join(dir, 'mapping.yaml')
    writeFileSync(mappingFile, 'externalId: id\nurl: link\nfileName: title\n')
    // When one evaluation may take 6 s (3 of them: 18 s), then it is refused, naming both settings
    expect(
      configError({ ...minimal, MAPPING_FILE: mappingFile, MAPPING_TIMEOUT_MS: '6000' }).message,
    ).toContain(
      'MAPPING_TIMEOUT_MS: 6000 is too long for KAFKA_SESSION_TIMEOUT_MS 30000: an event that runs away holds the consumer for up to 3 × MAPPING_TIMEOUT_MS, which must stay within half the session timeout (at most 5000 here)',
    )
    // And 5 s passes, as does 6 s with a session of 36 s, and 6 s without a mapping (it is not used)
    expect(load({ ...minimal, MAPPING_FILE: mappingFile, MAPPING_TIMEOUT_MS: '5000' }).mapping).toBeDefined()
    expect(
      load({
        ...minimal,
        MAPPING_FILE: mappingFile,
        MAPPING_TIMEOUT_MS: '6000',
        KAFKA_SESSION_TIMEOUT_MS: '36000',
      }).consumer.sessionTimeoutMs,
    ).toBe(36_000)
    expect(load({ ...minimal, MAPPING_TIMEOUT_MS: '6000' }).mapping).toBeUndefined()
  })

  it('reports a token problem together with the other problems', () => {
    const { KAFKA_BROKERS: _k, LIVINGDOCS_ACCESS_TOKEN: _t, ...env } = minimal
    const err = configError(env)
    expect(err.message).toContain('KAFKA_BROKERS: is required')
    expect(err.message).toContain('LIVINGDOCS_ACCESS_TOKEN')
  })

  it('rejects a BATCH_MAX_BYTES the Batcher cannot use', () => {
    const value = String(ENVELOPE_BYTES)
    let config: ReturnType<typeof loadConfig> | undefined
    try {
      config = load({ ...minimal, BATCH_MAX_BYTES: value })
    } catch (err) {
      expect((err as BridgeError).message).toContain('BATCH_MAX_BYTES')
      return
    }
    // Accepted: then the Batcher must accept it too
    expect(() => new Batcher({ ...config.batcher }, () => {})).not.toThrow()
  })

  it.each([
    ['KAFKA_BROKERS', 'kafka-1'],
    ['KAFKA_BROKERS', 'kafka-1:9092,'],
    ['BATCH_MAX_FILES', '0'],
    ['BATCH_MAX_FILES', '1.5'],
    ['BATCH_MAX_BYTES', '1023'],
    ['HTTP_PORT', '65536'],
    ['LIVINGDOCS_API_VERSION', 'v2'],
    ['ON_EXISTING', 'replace'],
    ['CHECKSUM_METADATA_PROPERTY', 'source checksum'],
    ['INPUT_TOPIC', 'bad topic'],
    ['LOG_LEVEL', 'verbose'],
    ['SCHEMA_REGISTRY_URL', 'javascript:alert(1)'],
    ['WEBHOOK_PUBLIC_URL', 'not a url'],
    ['API_RATE_LIMIT_PER_SECOND', '-1'],
    ['API_RATE_LIMIT_PER_SECOND', '2.5'],
    ['API_RETRY_MAX_DELAY_MS', 'abc'],
    ['JOB_TIMEOUT_MS', '10'],
    ['API_MAX_HOLD_MS', '999'],
    ['API_MAX_HOLD_MS', '2592000000'],
    ['API_HOLD_RECHECK_MS', '0'],
    ['JOB_VISIBILITY_GRACE_MS', '-1'],
  ])('%s=%s is rejected by name', (name, value) => {
    // (WEBHOOK_SECRET given, since WEBHOOK_PUBLIC_URL requires it)
    const err = configError({ ...minimal, WEBHOOK_SECRET: 'w'.repeat(16), [name]: value })
    expect(err.code).toBe('CONFIG_INVALID')
    expect(err.context.problems).toEqual([expect.stringMatching(new RegExp(`^${name}: `))])
  })
})

describe('the import API’s holds', () => {
  it('reads API_MAX_HOLD_MS, API_HOLD_RECHECK_MS and JOB_VISIBILITY_GRACE_MS into the job tracker', () => {
    const config = load({
      ...minimal,
      API_MAX_HOLD_MS: '120000',
      API_HOLD_RECHECK_MS: '1000',
      JOB_VISIBILITY_GRACE_MS: '0',
    })
    expect(config.jobs).toMatchObject({ maxHoldMs: 120_000, holdRecheckMs: 1000, jobVisibilityGraceMs: 0 })
  })

  it('keeps API_MAX_HOLD_MS below the longest timer (2^31-1 ms): at most one day', () => {
    expect(load({ ...minimal, API_MAX_HOLD_MS: '86400000' }).jobs.maxHoldMs).toBe(86_400_000)
    expect(configError({ ...minimal, API_MAX_HOLD_MS: '86400001' }).message).toContain('API_MAX_HOLD_MS')
  })
})

describe('CREATE_MISSING_TOPICS', () => {
  const env = {
    KAFKA_BROKERS: '127.0.0.1:9092',
    SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
    LIVINGDOCS_BASE_URL: 'http://127.0.0.1:9090',
    LIVINGDOCS_ACCESS_TOKEN: 't',
  }

  it('is off by default with 3 partitions, on with "true"', () => {
    expect(load(env).topics.createMissing).toBe(false)
    expect(load(env).topics.createdPartitions).toBe(3)
    expect(load({ ...env, CREATE_MISSING_TOPICS: 'true' }).topics.createMissing).toBe(true)
  })

  it('rejects a value other than true or false, naming the setting', () => {
    expect(() => load({ ...env, CREATE_MISSING_TOPICS: 'yes' })).toThrow(
      /CREATE_MISSING_TOPICS: must be true or false/,
    )
  })
})

describe('job notifications (several replicas)', () => {
  const webhooks = {
    ...minimal,
    WEBHOOK_PUBLIC_URL: 'https://bridge.example',
    WEBHOOK_SECRET: 'a-webhook-secret-0123',
  }

  it('are on when webhooks are on, with the default topic', () => {
    // Given a public webhook URL and no other setting
    // When loading, then forwarding between replicas is on
    expect(load(webhooks).replicas.jobNotifications).toEqual({
      enabled: true,
      topic: 'file-import-bridge.job-notifications',
    })
  })

  it('are off without webhooks, and with JOB_NOTIFICATIONS_ENABLED=false', () => {
    expect(load(minimal).replicas.jobNotifications.enabled).toBe(false)
    expect(load({ ...webhooks, JOB_NOTIFICATIONS_ENABLED: 'false' }).replicas.jobNotifications.enabled).toBe(
      false,
    )
  })

  it('take the topic from JOB_NOTIFICATIONS_TOPIC', () => {
    expect(load({ ...webhooks, JOB_NOTIFICATIONS_TOPIC: 'ops.notes' }).replicas.jobNotifications.topic).toBe(
      'ops.notes',
    )
  })

  it.each([
    ['JOB_NOTIFICATIONS_TOPIC', 'has space'],
    ['JOB_NOTIFICATIONS_ENABLED', 'yes'],
  ])('reject %s=%s by name', (name, value) => {
    const err = configError({ ...webhooks, [name]: value })
    expect(err.context.problems).toEqual([expect.stringMatching(new RegExp(`^${name}: `))])
  })
})

describe('job log (adoption of running jobs)', () => {
  it('is off by default, on with JOB_LOG_ENABLED=true, on the topic JOB_LOG_TOPIC', () => {
    expect(load(minimal).replicas.jobLog).toMatchObject({
      enabled: false,
      topic: 'file-import-bridge.job-log',
    })
    expect(
      load({ ...minimal, JOB_LOG_ENABLED: 'true', JOB_LOG_TOPIC: 'ops.jobs' }).replicas.jobLog,
    ).toMatchObject({
      enabled: true,
      topic: 'ops.jobs',
    })
  })

  it.each([
    ['JOB_LOG_TOPIC', 'a/b'],
    ['JOB_LOG_ENABLED', '1'],
  ])('rejects %s=%s by name', (name, value) => {
    const err = configError({ ...minimal, [name]: value })
    expect(err.context.problems).toEqual([expect.stringMatching(new RegExp(`^${name}: `))])
  })
})

describe('topic settings: each names a topic of its own', () => {
  const topics = {
    INPUT_TOPIC: 'in',
    DLQ_TOPIC: 'dlq',
    RESULT_TOPIC: 'results',
    JOB_NOTIFICATIONS_TOPIC: 'notes',
    JOB_LOG_TOPIC: 'jobs',
  }

  it('accepts five different topics', () => {
    expect(load({ ...minimal, ...topics }).topics).toMatchObject({
      input: 'in',
      dlq: 'dlq',
      result: 'results',
    })
  })

  // Every pair: an output or internal topic on the input topic, and two of them on one topic. The
  // features that use the internal topics are off here: a collision is refused all the same.
  it.each([
    ['DLQ_TOPIC', 'INPUT_TOPIC', 'the bridge would consume what it writes there as input'],
    ['RESULT_TOPIC', 'INPUT_TOPIC', 'the bridge would consume what it writes there as input'],
    ['JOB_NOTIFICATIONS_TOPIC', 'INPUT_TOPIC', 'the bridge would consume what it writes there as input'],
    ['JOB_LOG_TOPIC', 'INPUT_TOPIC', 'the bridge would consume what it writes there as input'],
    ['RESULT_TOPIC', 'DLQ_TOPIC', 'their records would mix'],
    ['JOB_NOTIFICATIONS_TOPIC', 'DLQ_TOPIC', 'their records would mix'],
    ['JOB_LOG_TOPIC', 'DLQ_TOPIC', 'their records would mix'],
    ['JOB_NOTIFICATIONS_TOPIC', 'RESULT_TOPIC', 'their records would mix'],
    ['JOB_LOG_TOPIC', 'RESULT_TOPIC', 'their records would mix'],
    ['JOB_LOG_TOPIC', 'JOB_NOTIFICATIONS_TOPIC', 'their records would mix'],
  ] as const)('refuses %s equal to %s, naming both settings', (name, other, why) => {
    // Given the two settings naming one topic
    const err = configError({ ...minimal, ...topics, [name]: topics[other] })
    // Then exactly one problem, naming both settings and the topic (src/main.ts exits 78 on it)
    expect(err.code).toBe('CONFIG_INVALID')
    expect(err.context.problems).toEqual([
      `${name}: names the same topic as ${other} (${topics[other]}); each topic setting needs a topic of its own (${why})`,
    ])
  })

  it('names every pair when three settings share one topic, besides the other problems', () => {
    const err = configError({
      ...minimal,
      ...topics,
      DLQ_TOPIC: 'in',
      RESULT_TOPIC: 'in',
      BATCH_MAX_FILES: '0',
    })
    expect(err.context.problems).toEqual([
      expect.stringMatching(/^BATCH_MAX_FILES: /),
      expect.stringMatching(/^DLQ_TOPIC: names the same topic as INPUT_TOPIC \(in\)/),
      expect.stringMatching(/^RESULT_TOPIC: names the same topic as INPUT_TOPIC \(in\)/),
      expect.stringMatching(/^RESULT_TOPIC: names the same topic as DLQ_TOPIC \(in\)/),
    ])
  })
})

describe('REDRIVE_MAX_ATTEMPTS', () => {
  it('is 3 by default, read from 1 to 1000, and named outside that range', () => {
    expect(load(minimal).redrive).toEqual({ maxAttempts: 3 })
    expect(load({ ...minimal, REDRIVE_MAX_ATTEMPTS: '1' }).redrive.maxAttempts).toBe(1)
    expect(load({ ...minimal, REDRIVE_MAX_ATTEMPTS: '1000' }).redrive.maxAttempts).toBe(1000)
    for (const wrong of ['0', '1001', 'two'])
      expect(configError({ ...minimal, REDRIVE_MAX_ATTEMPTS: wrong }).context.problems).toEqual([
        expect.stringMatching(/^REDRIVE_MAX_ATTEMPTS: /),
      ])
  })
})

describe('SCHEMA_REGISTRY_RETRY_MIN_MS / SCHEMA_REGISTRY_RETRY_MAX_MS', () => {
  it('sets the decode backoff; a maximum below the minimum is raised to it', () => {
    const config = load({
      ...minimal,
      SCHEMA_REGISTRY_RETRY_MIN_MS: '2000',
      SCHEMA_REGISTRY_RETRY_MAX_MS: '1000',
    })
    expect(config.registry.retry).toEqual({ minDelayMs: 2000, maxDelayMs: 2000 })
  })

  it('rejects values that are not whole numbers of ms, naming each setting', () => {
    const err = configError({
      ...minimal,
      SCHEMA_REGISTRY_RETRY_MIN_MS: 'soon',
      SCHEMA_REGISTRY_RETRY_MAX_MS: '1',
    })
    expect(err.message).toContain('SCHEMA_REGISTRY_RETRY_MIN_MS:')
    expect(err.message).toContain('SCHEMA_REGISTRY_RETRY_MAX_MS:')
  })
})

describe('PRODUCER_LINGER_MS', () => {
  it('reads 0 (no linger) up to 1000 ms, and names the setting outside that range', () => {
    expect(load({ ...minimal, PRODUCER_LINGER_MS: '0' }).producerLingerMs).toBe(0)
    expect(load({ ...minimal, PRODUCER_LINGER_MS: '1000' }).producerLingerMs).toBe(1000)
    expect(configError({ ...minimal, PRODUCER_LINGER_MS: '1001' }).message).toContain('PRODUCER_LINGER_MS:')
    expect(configError({ ...minimal, PRODUCER_LINGER_MS: '-1' }).message).toContain('PRODUCER_LINGER_MS:')
  })
})

describe('backpressure and consumer settings', () => {
  it('reads FILES_IN_FLIGHT_RESUME_RATIO, the session timeout and the fetch sizes', () => {
    const config = load({
      ...minimal,
      FILES_IN_FLIGHT_RESUME_RATIO: '0.8',
      KAFKA_SESSION_TIMEOUT_MS: '10000',
      KAFKA_FETCH_MAX_BYTES: '2097152',
      KAFKA_FETCH_MAX_BYTES_PER_PARTITION: '262144',
    })
    expect(config.backpressure.resumeRatio).toBe(0.8)
    expect(config.consumer).toEqual({
      groupId: 'file-import-bridge',
      topic: 'legacy.file-created',
      sessionTimeoutMs: 10_000,
      fetchMaxBytes: 2_097_152,
      fetchMaxBytesPerPartition: 262_144,
    })
  })

  it.each([
    ['FILES_IN_FLIGHT_RESUME_RATIO', '0'],
    ['FILES_IN_FLIGHT_RESUME_RATIO', '1.5'],
    ['FILES_IN_FLIGHT_RESUME_RATIO', 'half'],
    ['KAFKA_SESSION_TIMEOUT_MS', '1000'],
    ['KAFKA_FETCH_MAX_BYTES', '10'],
    ['KAFKA_FETCH_MAX_BYTES_PER_PARTITION', '-1'],
  ])('%s=%s is rejected by name', (name, value) => {
    const err = configError({ ...minimal, [name]: value })
    expect(err.context.problems).toEqual([expect.stringMatching(new RegExp(`^${name}: `))])
  })
})

describe('media routing alone (npm run map)', () => {
  it('reads MEDIA_TYPE_KINDS and MEDIA_KIND_DETECTION as the bridge does, with its defaults', () => {
    expect(loadMediaKinds({})).toEqual({
      kindsByMediaType: { image: 'image', video: 'video' },
      detectFromFile: true,
    })
    expect(loadMediaKinds({ MEDIA_TYPE_KINDS: 'photo:image', MEDIA_KIND_DETECTION: 'false' })).toEqual({
      kindsByMediaType: { photo: 'image' },
      detectFromFile: false,
    })
    expect(loadMediaKinds({ MEDIA_TYPE_KINDS: 'image:image', KAFKA_BROKERS: '' })).toEqual(
      load({ ...minimal, MEDIA_TYPE_KINDS: 'image:image' }).decoder.mediaKinds,
    )
  })

  it('names the wrong setting', () => {
    expect(() => loadMediaKinds({ MEDIA_TYPE_KINDS: 'photo:picture' })).toThrow(
      /MEDIA_TYPE_KINDS: each entry/,
    )
    expect(() => loadMediaKinds({ MEDIA_KIND_DETECTION: 'yes' })).toThrow(
      /MEDIA_KIND_DETECTION: must be true or false/,
    )
  })
})

describe('traces (OTEL_*)', () => {
  it('are on only with an OTLP endpoint, and off again with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    const endpoint = 'http://collector:4318'
    expect(load(minimal).tracing).toEqual({ enabled: false, endpoint: undefined })
    expect(load({ ...minimal, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).tracing).toEqual({
      enabled: true,
      endpoint,
    })
    expect(load({ ...minimal, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` }).tracing).toEqual(
      { enabled: true, endpoint: `${endpoint}/v1/traces` },
    )
    expect(
      load({ ...minimal, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' }).tracing.enabled,
    ).toBe(false)
    expect(
      load({ ...minimal, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing
        .enabled,
    ).toBe(false)
    // An empty endpoint counts as unset, as every variable does
    expect(load({ ...minimal, OTEL_EXPORTER_OTLP_ENDPOINT: '' }).tracing.enabled).toBe(false)
  })

  it('rejects what the SDK would ignore or misread, naming the variable', () => {
    const error = configError({
      ...minimal,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'udp',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '1.5',
      OTEL_TRACES_EXPORTER: 'otlp,jaeger',
      OTEL_SDK_DISABLED: 'yes',
    })
    for (const name of [
      'OTEL_EXPORTER_OTLP_ENDPOINT: must be an http(s) URL',
      'OTEL_EXPORTER_OTLP_PROTOCOL: must be http/protobuf, http/json or grpc',
      'OTEL_TRACES_SAMPLER: must be always_on',
      'OTEL_TRACES_SAMPLER_ARG:',
      'OTEL_TRACES_EXPORTER: each entry must be otlp, console or none',
      'OTEL_SDK_DISABLED: must be true or false',
    ])
      expect(error.message).toContain(name)
  })

  it('accepts the standard samplers with a ratio', () => {
    for (const sampler of ['parentbased_traceidratio', 'traceidratio', 'always_off'])
      expect(() =>
        load({ ...minimal, OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: '0.25' }),
      ).not.toThrow()
  })
})

describe('misspeltSettings', () => {
  it('names variables spelt like a setting, with the setting, and leaves other variables alone', () => {
    const env = {
      BATCH_MAX_FILE: '50',
      batch_linger_ms: '10',
      LOGLEVEL: 'debug',
      KAFKA_BROKER: 'k:9092',
      KAFKA_BROKERS: 'k:9092',
      PATH: '/usr/bin',
      HOSTNAME: 'pod-1',
      HTTP_PROXY: 'http://proxy',
      KAFKA_PORT: 'tcp://10.0.0.1:9092',
      NODE_OPTIONS: '--max-old-space-size=256',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
    }
    expect(misspeltSettings(env)).toEqual([
      { variable: 'BATCH_MAX_FILE', didYouMean: 'BATCH_MAX_FILES' },
      { variable: 'KAFKA_BROKER', didYouMean: 'KAFKA_BROKERS' },
      { variable: 'LOGLEVEL', didYouMean: 'LOG_LEVEL' },
      { variable: 'batch_linger_ms', didYouMean: 'BATCH_LINGER_MS' },
    ])
  })
})

describe('defaults the schema shares with a stage (written in both, as config imports no stage values)', () => {
  it('MAPPING_TIMEOUT_MS defaults to the mapping guardrails’ own default', () => {
    expect(envSchema.shape.MAPPING_TIMEOUT_MS.parse(undefined)).toBe(DEFAULT_MAPPING_TIMEOUT_MS)
  })
})
