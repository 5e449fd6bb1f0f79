// The emulator CLI: argument parsing and a real process.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { parseCliArgs } from '../../support/livingdocs-emulator/cli.ts'
import { apiClient, fileEntry, startFileServer, waitFor } from './helpers.ts'
import { pdf } from './samples.ts'

const cliPath = fileURLToPath(new URL('../../support/livingdocs-emulator/cli.ts', import.meta.url))

describe('parseCliArgs', () => {
  it('maps options, faults and variants', () => {
    const parsed = parseCliArgs([
      '--port',
      '0',
      '--token',
      'secret',
      '--read-token',
      'ro',
      '--latency-ms',
      '25',
      '--fail-rate',
      '0.5',
      '--variant',
      'per-file-state=success',
      '--variant',
      'unknown-job=404',
      '--fault',
      'server-error=2',
      '--fault',
      'server-error-status=500,502',
      '--fault',
      'retry-after=4',
      '--fault',
      'stuck-jobs',
      '--fault',
      'quota=100',
    ])
    if (parsed.help) throw new Error('unexpected help')
    expect(parsed.options).toMatchObject({
      port: 0,
      token: 'secret',
      tokens: { secret: ['public-api:write'], ro: ['public-api:read'] },
      variants: { perFileSuccessValue: 'success', unknownJob: '404' },
      faults: {
        latencyMs: 25,
        fileFailureRate: 0.5,
        serverError5xx: { count: 2, status: [500, 502], retryAfterSeconds: 4 },
        stuckJobs: true,
        quota: { filesPerDay: 100 },
      },
    })
  })

  it('maps the options and variants of a real server and their switches', () => {
    const parsed = parseCliArgs([
      '--api-versions',
      '2026-09, 2026-11',
      '--too-old-versions',
      '404',
      '--body-limit',
      '3145728',
      '--allowed-mime-types',
      'application/pdf,image/*',
      '--max-file-size',
      '1000',
      '--media-types',
      '[{"handle":"file","type":"mediaFile"}]',
      '--variant',
      'reimport=update',
      '--variant',
      'media-type-required=always',
      '--variant',
      'undetected-mime=octet-stream',
      '--variant',
      'webhook-context=omit',
      '--variant',
      'webhook-content-type=none',
      '--variant',
      'deprecation-header=warning',
      '--variant',
      'lookup-miss=404',
      '--variant',
      'legacy-list-shape=array',
      '--deprecated-version',
      '2025-03',
      '--token-scopes',
      'public-api:write,public-api:read',
      '--fault',
      'jobs-stay-started',
      '--fault',
      'editor-changes=2',
      '--fault',
      'answer-status=403',
      '--fault',
      'for-ms=30000',
    ])
    if (parsed.help) throw new Error('unexpected help')
    expect(parsed.options).toMatchObject({
      apiVersions: ['2026-09', '2026-11'],
      tooOldVersions: 404,
      bodyLimitBytes: 3145728,
      allowedMimeTypes: ['application/pdf', 'image/*'],
      maxFileSize: 1000,
      mediaTypes: [{ handle: 'file', type: 'mediaFile' }],
      variants: {
        reimport: 'update',
        mediaTypeRequired: 'always',
        undetectedMimeType: 'octet-stream',
        webhookContext: 'omit',
        webhookContentType: null,
        deprecationHeader: 'warning',
        lookupMiss: '404',
        legacyListShape: 'array',
      },
      deprecatedVersions: ['2025-03'],
      tokens: { 'emulator-token': ['public-api:write', 'public-api:read'] },
      faults: {
        jobsStayStarted: true,
        editorChanges: { count: 2 },
        answerWith: { status: 403, forMs: 30000 },
      },
    })
    const typed = parseCliArgs(['--variant', 'webhook-content-type=text/plain'])
    if (typed.help) throw new Error('unexpected help')
    expect(typed.options.variants).toEqual({ webhookContentType: 'text/plain' })
    expect(() => parseCliArgs(['--too-old-versions', '500'])).toThrow(/410 or 404/)
  })

  it('maps the switches of other answers (issue 12)', () => {
    const flags = [
      'accept-status=202',
      'redirect=307',
      'redirect-location=trailing-slash',
      'answer-status=415',
      'answer-body=text',
      'job-visibility-delay-ms=1500',
      'lost-jobs=1',
      'null-fields',
      'omit-results=2',
      'omit-results-reads=1',
      'foreign-results',
      'rate-limit-429=1',
      'retry-after=Tue, 01 Jan 2030 00:00:00 GMT',
    ]
    const parsed = parseCliArgs(flags.flatMap((f) => ['--fault', f]))
    if (parsed.help) throw new Error('unexpected help')
    expect(parsed.options.faults).toEqual({
      acceptStatus: 202,
      redirect: { status: 307, location: 'trailing-slash' },
      answerWith: { status: 415, body: 'text', retryAfter: 'Tue, 01 Jan 2030 00:00:00 GMT' },
      jobVisibilityDelayMs: 1500,
      lostJobs: { count: 1 },
      nullOptionalFields: true,
      omitResults: { count: 2, reads: 1 },
      foreignResults: true,
      rateLimit429: { count: 1, retryAfter: 'Tue, 01 Jan 2030 00:00:00 GMT' },
    })
    expect(() => parseCliArgs(['--fault', 'answer-body=html'])).toThrow(/answer-body/)
  })

  it('rejects unknown faults, variants and bad numbers', () => {
    expect(() => parseCliArgs(['--fault', 'nope'])).toThrow(/unknown fault "nope"/)
    expect(() => parseCliArgs(['--variant', 'nope=1'])).toThrow(/unknown variant "nope"/)
    expect(() => parseCliArgs(['--latency-ms', 'soon'])).toThrow(/latency-ms/)
    expect(() => parseCliArgs(['--bogus'])).toThrow()
    expect(parseCliArgs(['--help'])).toEqual({ help: true })
  })
})

describe('cli process', () => {
  it('prints the base URL and token scope, serves requests and stops on SIGTERM', async () => {
    const files = await startFileServer()
    onTestFinished(() => files.close())
    const child = spawn(
      process.execPath,
      [cliPath, '--port', '0', '--token', 'secret', '--variant', 'per-file-key=status'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], {
      timeoutMs: 10_000,
      what: 'cli start',
    })
    expect(out).toContain('token: secret (scopes: public-api:write)')
    expect(out).toContain(`import: POST ${url}/api/2026-09/import/images`)
    expect(out).toContain(`status: GET ${url}/api/2026-09/import/videos/status?id=<jobId>`)
    expect(out).toContain(`media library: GET ${url}/api/2026-09/mediaLibrary?systemName=&externalId=`)
    const api = apiClient({ url, token: 'secret', apiVersion: '2026-09' })
    const done = await api.waitFinished(
      await api.start({ systemName: 'arc', files: [fileEntry('c', files.put('c.pdf', pdf('c')))] }),
    )
    expect((done.files as Record<string, unknown>[])[0]).toMatchObject({ status: 'imported' })
    expect((await api.post({ systemName: 'arc', files: [] }, { token: 'wrong' })).status).toBe(401)
    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
  }, 20_000)
})
