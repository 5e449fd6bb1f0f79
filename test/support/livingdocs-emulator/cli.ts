// Command line entry: `npm run emulator -- --port 9090 --token secret` (see --help).
import { parseArgs } from 'node:util'
import { KINDS } from './kinds.ts'
import type { StartLivingdocsEmulatorOptions } from './server.ts'
import { startLivingdocsEmulator } from './server.ts'
import type {
  EmulatorFaults,
  EmulatorLogger,
  EmulatorVariants,
  LivingdocsEmulatorOptions,
  RequestFault,
} from './types.ts'
import { WRITE_SCOPE } from './types.ts'

/** The --help text. */
export const HELP = `Livingdocs import API emulator: files, images, videos (see test/support/livingdocs-emulator/README.md)
Defaults play a real Livingdocs as its docs describe it; options and variants play the other readings.

Usage: node test/support/livingdocs-emulator/cli.ts [options]
       npm run emulator -- [options]

Options:
  --host <host>              listen address (default 127.0.0.1)
  --port <n>                 port, 0 = random (default 9090)
  --token <token>            bearer token (default emulator-token)
  --token-scopes <s,s..>     its scopes (default public-api:write; the media library reads need
                             public-api:read too: public-api:write,public-api:read)
  --read-token <token>       an extra token with only public-api:read (it may read the media library;
                             its imports answer 403)
  --api-version <v>          version printed in the example URL (default 2026-09, the newest released)
  --api-versions <v,v..>     served versions (default v1,beta,2025-03..2026-09 odd months)
  --removed-version <v>      answer 410 Gone for this version (repeatable)
  --deprecated-version <v>   answers of this version carry a deprecation header (repeatable; default v1
                             and beta; add 2025-03 to play release-2026-11)
  --too-old-versions <410|404>  a date version older than the oldest served one (default 410)
  --max-files <n>            most entries per POST, more answers 400 (default 1000)
  --body-limit <bytes>       largest request body, more answers 413 (default 512000 = '500kb')
  --allowed-mime-types <t,t..>  file import: allowed MIME types (detected from the bytes; type/* allowed;
                             default: all)
  --max-file-size <bytes>    largest download, all imports (default per import: files and videos
                             104857600 = '100mb', images 15728640 = '15mb', webp/gif 10485760 = 10MB)
  --file-concurrency <n>     files processed at once per job (default 8)
  --job-duration-ms <ms>     extra time each job stays "started" (default 0)
  --job-duration-jitter-ms <ms>  plus a random 0..ms per job, so jobs finish out of order (default 0)
  --download-timeout-ms <ms> timeout of one file download (default 10000)
  --media-types <json>       project config mediaTypes, e.g.
                             '[{"handle":"file","type":"mediaFile","metadata":[{"handle":"title","type":"li-text",
                               "config":{"required":true}}]}]' (default: file, image, video with title,
                             caption, source, description)
  --skip-downloads           benchmarks: never download URLs (the URL stands in for the content)
  --rate-limit-rps <n>       answer requests over n per second with 429 and Retry-After: 1
  --latency-ms <ms>          same as --fault latency-ms=<ms>
  --fail-rate <0..1>         same as --fault file-fail-rate=<p>
  --variant <name=value>     repeatable:
                               per-file-state=imported|success   per-file value of an imported file
                               per-file-key=state|status         per-file key
                               unknown-job=lost|404              status answer for an unknown job id
                               reimport=skip|update              a repeated systemName/id pair
                               media-type-required=openapi|always  mediaType required per OpenAPI or always
                               undetected-mime=content-type|octet-stream  MIME type of unrecognised bytes
                               webhook-context=echo|omit         context in the webhook body
                               webhook-content-type=<type>|none  webhook content-type header
                               deprecation-header=deprecation|warning|sunset  how a deprecated version's
                                                                 answers say so (RFC 9745, Warning 299, RFC 8594)
                               lookup-miss=empty|404             GET /mediaLibrary?… that matches nothing
                               legacy-list-shape=object|array    GET /mediaLibrary before 2026-01
  --fault <name[=value]>     repeatable:
                               latency-ms=<ms>                   delay before every response
                               rate-limit-429=<n>                next n requests answer 429 Usage Limit Exceeded
                               rate-limit-429-probability=<p>    each request answers 429 with probability p
                               server-error=<n>                  next n requests answer 5xx
                               server-error-probability=<p>      each request answers 5xx with probability p
                               server-error-status=<s[,s..]>     5xx status(es) to cycle through (default 503)
                               retry-after=<s|HTTP-date>         Retry-After header on 429/5xx faults
                               drop-webhooks[=true|false]        never send job webhooks
                               duplicate-webhooks[=true|false]   send every job webhook twice
                               stuck-jobs[=true|false]           jobs stay "started" forever
                               fail-jobs[=true|false]            jobs end {finished:true,state:"failed"}
                               quota=<files per day>             plan quota, then 429 Usage Limit Exceeded
                               file-fail-rate=<p>                each entry fails "Could not upload <kind>" with probability p
                               accept-status=<n>                 answer an accepted import with n (e.g. 202), body {"id"}
                               redirect[=<301|302|303|307|308>]  answer every request with a redirect (default 308, to https)
                               redirect-location=<url|trailing-slash>  where the redirect points
                               answer-status=<n>                 answer every request with status n (e.g. 405, 406, 415)
                               answer-body=<documented|none|text>  the body of answer-status (default documented)
                               job-visibility-delay-ms=<ms>      the status endpoint knows a job only once it is this old
                               lost-jobs=<n>                     the next n jobs run, but their status is never known
                               null-fields[=true|false]          null in the optional fields of status answers
                               omit-results=<n>                  finished statuses leave out their last n results
                               omit-results-reads=<n>            ... only in a job's first n status answers
                               foreign-results[=true|false]      finished statuses list a result for an id not in the job
                               jobs-stay-started[=true|false]    jobs import their files but report "started" forever
                               editor-changes[=<n>]              an editor changes an entry after each (next n)
                                                                 GET /mediaLibrary/{id}: a PATCH then answers 409
                               for-ms=<ms>                       the request faults above answer only this long
  --verbose                  log job events (webhook errors are always logged to stderr)
  -h, --help                 show this help
`

const VARIANT_FLAGS: Record<string, keyof EmulatorVariants> = {
  'per-file-state': 'perFileSuccessValue',
  'per-file-key': 'perFileStateKey',
  'unknown-job': 'unknownJob',
  reimport: 'reimport',
  'media-type-required': 'mediaTypeRequired',
  'undetected-mime': 'undetectedMimeType',
  'webhook-context': 'webhookContext',
  'webhook-content-type': 'webhookContentType',
  'deprecation-header': 'deprecationHeader',
  'lookup-miss': 'lookupMiss',
  'legacy-list-shape': 'legacyListShape',
}

const num = (name: string, value: string): number => {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new Error(`${name} needs a non-negative number, got "${value}"`)
  return n
}

const bool = (name: string, value: string | undefined): boolean => {
  if (value === undefined || value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw new Error(`${name} needs true or false, got "${value}"`)
}

/** Applies `--fault name[=value]` entries to a faults patch. Data-driven: one entry per fault flag. */
const FAULT_FLAGS: Record<
  string,
  (faults: Partial<EmulatorFaults>, value: string | undefined, name: string) => void
> = {
  'latency-ms': (f, v, n) => {
    f.latencyMs = num(n, v ?? '')
  },
  'rate-limit-429': (f, v, n) => {
    f.rateLimit429 = { ...f.rateLimit429, count: num(n, v ?? '') }
  },
  'rate-limit-429-probability': (f, v, n) => {
    f.rateLimit429 = { ...f.rateLimit429, probability: num(n, v ?? '') }
  },
  'server-error': (f, v, n) => {
    f.serverError5xx = { ...f.serverError5xx, count: num(n, v ?? '') }
  },
  'server-error-probability': (f, v, n) => {
    f.serverError5xx = { ...f.serverError5xx, probability: num(n, v ?? '') }
  },
  'server-error-status': (f, v, n) => {
    f.serverError5xx = { ...f.serverError5xx, status: (v ?? '').split(',').map((s) => num(n, s)) }
  },
  'retry-after': () => {
    // applied after all flags, see parseCliArgs
  },
  'drop-webhooks': (f, v, n) => {
    f.dropWebhooks = bool(n, v)
  },
  'duplicate-webhooks': (f, v, n) => {
    f.duplicateWebhooks = bool(n, v)
  },
  'stuck-jobs': (f, v, n) => {
    f.stuckJobs = bool(n, v)
  },
  'fail-jobs': (f, v, n) => {
    f.failJobs = bool(n, v)
  },
  quota: (f, v, n) => {
    f.quota = { filesPerDay: num(n, v ?? '') }
  },
  'file-fail-rate': (f, v, n) => {
    f.fileFailureRate = num(n, v ?? '')
  },
  'accept-status': (f, v, n) => {
    f.acceptStatus = num(n, v ?? '')
  },
  redirect: (f, v, n) => {
    const status = v === undefined ? 308 : num(n, v)
    f.redirect = { ...f.redirect, status: status as 301 | 302 | 303 | 307 | 308 }
  },
  'redirect-location': (f, v) => {
    f.redirect = { ...f.redirect, location: v ?? 'trailing-slash' }
  },
  'answer-status': (f, v, n) => {
    f.answerWith = { ...f.answerWith, status: num(n, v ?? '') }
  },
  'answer-body': (f, v, n) => {
    if (v !== 'documented' && v !== 'none' && v !== 'text')
      throw new Error(`${n} needs documented, none or text, got "${v}"`)
    f.answerWith = { status: 500, ...f.answerWith, body: v }
  },
  'job-visibility-delay-ms': (f, v, n) => {
    f.jobVisibilityDelayMs = num(n, v ?? '')
  },
  'lost-jobs': (f, v, n) => {
    f.lostJobs = { count: num(n, v ?? '') }
  },
  'null-fields': (f, v, n) => {
    f.nullOptionalFields = bool(n, v)
  },
  'omit-results': (f, v, n) => {
    f.omitResults = { ...f.omitResults, count: num(n, v ?? '') }
  },
  'omit-results-reads': (f, v, n) => {
    f.omitResults = { count: 0, ...f.omitResults, reads: num(n, v ?? '') }
  },
  'foreign-results': (f, v, n) => {
    f.foreignResults = bool(n, v)
  },
  'jobs-stay-started': (f, v, n) => {
    f.jobsStayStarted = bool(n, v)
  },
  'editor-changes': (f, v, n) => {
    f.editorChanges = v === undefined ? {} : { count: num(n, v) }
  },
  'for-ms': () => {
    // applied after all flags, see parseCliArgs
  },
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')

const splitPair = (entry: string): [string, string | undefined] => {
  const at = entry.indexOf('=')
  return at === -1 ? [entry, undefined] : [entry.slice(0, at), entry.slice(at + 1)]
}

/**
 * Parses CLI arguments into start options.
 * @returns `{ help: true }` for --help, else the options and whether to log verbosely
 * @throws Error on an unknown option, fault or variant, or a bad value
 */
export const parseCliArgs = (
  args: string[],
): { help: true } | { help: false; options: StartLivingdocsEmulatorOptions; verbose: boolean } => {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '9090' },
      token: { type: 'string', default: 'emulator-token' },
      'token-scopes': { type: 'string' },
      'read-token': { type: 'string' },
      'deprecated-version': { type: 'string', multiple: true },
      'api-version': { type: 'string' },
      'api-versions': { type: 'string' },
      'removed-version': { type: 'string', multiple: true },
      'too-old-versions': { type: 'string' },
      'max-files': { type: 'string' },
      'body-limit': { type: 'string' },
      'allowed-mime-types': { type: 'string' },
      'max-file-size': { type: 'string' },
      'file-concurrency': { type: 'string' },
      'job-duration-ms': { type: 'string' },
      'job-duration-jitter-ms': { type: 'string' },
      'download-timeout-ms': { type: 'string' },
      'media-types': { type: 'string' },
      'skip-downloads': { type: 'boolean', default: false },
      'rate-limit-rps': { type: 'string' },
      'latency-ms': { type: 'string' },
      'fail-rate': { type: 'string' },
      variant: { type: 'string', multiple: true },
      fault: { type: 'string', multiple: true },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return { help: true }
  const faults: Partial<EmulatorFaults> = {}
  const faultEntries = [...(values.fault ?? [])]
  if (values['latency-ms'] !== undefined) faultEntries.unshift(`latency-ms=${values['latency-ms']}`)
  if (values['fail-rate'] !== undefined) faultEntries.unshift(`file-fail-rate=${values['fail-rate']}`)
  let retryAfter: Partial<Pick<RequestFault, 'retryAfter' | 'retryAfterSeconds' | 'forMs'>> | undefined
  for (const entry of faultEntries) {
    const [name, value] = splitPair(entry)
    const apply = FAULT_FLAGS[name]
    if (!apply) throw new Error(`unknown fault "${name}"; known: ${Object.keys(FAULT_FLAGS).join(', ')}`)
    apply(faults, value, name)
    if (name === 'retry-after') {
      // Seconds, or an HTTP-date sent as it is (RFC 9110 §10.2.3).
      retryAfter = /^\d+$/.test(value ?? '')
        ? { retryAfterSeconds: num(name, value ?? '') }
        : { retryAfter: value ?? '' }
      if (retryAfter.retryAfter === '') throw new Error(`${name} needs seconds or an HTTP-date`)
    }
    if (name === 'for-ms') retryAfter = { ...retryAfter, forMs: num(name, value ?? '') }
  }
  if (retryAfter !== undefined) {
    if (faults.rateLimit429) Object.assign(faults.rateLimit429, retryAfter)
    if (faults.serverError5xx) Object.assign(faults.serverError5xx, retryAfter)
    if (faults.answerWith) Object.assign(faults.answerWith, retryAfter)
  }
  const variants: Partial<EmulatorVariants> = {}
  for (const entry of values.variant ?? []) {
    const [name, value] = splitPair(entry)
    const key = VARIANT_FLAGS[name]
    if (!key) throw new Error(`unknown variant "${name}"; known: ${Object.keys(VARIANT_FLAGS).join(', ')}`)
    // `none` sends no content-type header at all.
    const parsed = key === 'webhookContentType' && value === 'none' ? null : value
    ;(variants as Record<string, string | null | undefined>)[key] = parsed
  }
  const scopes = values['token-scopes'] === undefined ? [WRITE_SCOPE] : list(values['token-scopes'])
  const tokens: Record<string, string[]> = { [values.token]: scopes }
  if (values['read-token']) tokens[values['read-token']] = ['public-api:read']
  const options: StartLivingdocsEmulatorOptions = {
    host: values.host,
    port: num('--port', values.port),
    token: values.token,
    tokens,
    faults,
    variants,
  }
  if (values['api-version']) options.apiVersion = values['api-version']
  if (values['api-versions']) options.apiVersions = list(values['api-versions'])
  if (values['removed-version']) options.removedVersions = values['removed-version']
  if (values['deprecated-version']) options.deprecatedVersions = values['deprecated-version']
  if (values['too-old-versions']) {
    const status = Number(values['too-old-versions'])
    if (status !== 410 && status !== 404) throw new Error('--too-old-versions needs 410 or 404')
    options.tooOldVersions = status
  }
  if (values['body-limit']) options.bodyLimitBytes = num('--body-limit', values['body-limit'])
  if (values['allowed-mime-types']) options.allowedMimeTypes = list(values['allowed-mime-types'])
  if (values['max-file-size']) options.maxFileSize = num('--max-file-size', values['max-file-size'])
  if (values['max-files']) options.maxFilesPerRequest = num('--max-files', values['max-files'])
  if (values['file-concurrency'])
    options.fileConcurrency = num('--file-concurrency', values['file-concurrency'])
  if (values['job-duration-ms']) options.jobDurationMs = num('--job-duration-ms', values['job-duration-ms'])
  if (values['job-duration-jitter-ms'])
    options.jobDurationJitterMs = num('--job-duration-jitter-ms', values['job-duration-jitter-ms'])
  if (values['download-timeout-ms']) {
    options.downloadTimeoutMs = num('--download-timeout-ms', values['download-timeout-ms'])
  }
  if (values['skip-downloads']) options.skipDownloads = true
  if (values['rate-limit-rps']) options.rateLimitPerSecond = num('--rate-limit-rps', values['rate-limit-rps'])
  if (values['media-types']) {
    options.mediaTypes = JSON.parse(values['media-types']) as LivingdocsEmulatorOptions['mediaTypes']
  }
  return { help: false, options, verbose: values.verbose }
}

const stderrLogger = (verbose: boolean): EmulatorLogger => ({
  info: (obj, msg) => {
    if (verbose) process.stderr.write(`${JSON.stringify({ level: 'info', msg, ...obj })}\n`)
  },
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...obj })}\n`),
})

const main = async (): Promise<void> => {
  let parsed: ReturnType<typeof parseCliArgs>
  try {
    parsed = parseCliArgs(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${HELP}`)
    process.exitCode = 2
    return
  }
  if (parsed.help) {
    process.stdout.write(HELP)
    return
  }
  let emulator: Awaited<ReturnType<typeof startLivingdocsEmulator>>
  try {
    emulator = await startLivingdocsEmulator({ ...parsed.options, logger: stderrLogger(parsed.verbose) })
  } catch (error) {
    process.stderr.write(`cannot start: ${(error as Error).message}\n`)
    process.exitCode = 1
    return
  }
  const scopes = parsed.options.tokens?.[emulator.token] ?? []
  process.stdout.write(
    [
      `Livingdocs emulator listening on ${emulator.url}`,
      `token: ${emulator.token} (scopes: ${scopes.join(', ')})`,
      ...Object.values(KINDS).flatMap((spec) => {
        const base = `${emulator.url}/api/${emulator.apiVersion}/import/${spec.path}`
        return [`import: POST ${base}`, `status: GET ${base}/status?id=<jobId>`]
      }),
      `media library: GET ${emulator.url}/api/${emulator.apiVersion}/mediaLibrary?systemName=&externalId=, GET|PATCH …/mediaLibrary/<id>`,
      '',
    ].join('\n'),
  )
  const stop = (signal: string) => {
    process.stdout.write(`${signal}: stopping\n`)
    emulator.close().then(
      () => {
        process.exitCode = 0
      },
      (error: unknown) => {
        process.stderr.write(`close failed: ${String(error)}\n`)
        process.exitCode = 1
      },
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

if (import.meta.main) await main()
