// Express 5 app of the Livingdocs file import API emulator.
// Sheet: [F] §1.1/§1.2 (endpoints), §3 (auth), §4 (versions), §5 (limits, quota), §6 (errors), §9 (choices).
import { setTimeout as sleep } from 'node:timers/promises'
import type { NextFunction, Request, Response } from 'express'
import express from 'express'
import { EmulatorCore, formatStartedAt } from './core.ts'
import { checkRequestFaults, errorBody, type FaultAnswer } from './faults.ts'
import type {
  EmulatorEndpoint,
  EmulatorFaults,
  EmulatorStats,
  EmulatorVariants,
  FileOutcome,
  JobRecord,
  LivingdocsEmulatorOptions,
  MediaEntry,
} from './types.ts'
import { WRITE_SCOPE } from './types.ts'
import { validateImportRequest } from './validation.ts'

/** The emulator without a listening server. */
export type LivingdocsEmulator = {
  /** The Express app; mount it or `listen` it yourself. */
  app: express.Express
  /** The token `startLivingdocsEmulator` reports (has `public-api:write` by default). */
  token: string
  /** The API version `startLivingdocsEmulator` reports. */
  apiVersion: string
  /** Merges faults over the current ones (a `count` set here is the number of next hits). */
  setFaults: (patch: Partial<EmulatorFaults>) => void
  /** The current faults (a copy; counts show what is left). */
  getFaults: () => EmulatorFaults
  /**
   * Merges variants over the current ones; applies to every later status answer, also of finished jobs.
   * @throws Error on an unknown variant name or value
   */
  setVariants: (patch: Partial<EmulatorVariants>) => void
  /** The current variants (a copy). */
  getVariants: () => EmulatorVariants
  /** A snapshot of the counters. */
  stats: () => EmulatorStats
  /** A copy of a job record, or undefined. */
  getJob: (id: string) => JobRecord | undefined
  /** Copies of all job records, in creation order. */
  listJobs: () => JobRecord[]
  /** A copy of the media library entry of a `systemName`/`externalId` pair, or undefined. [IA] §7 */
  getMedia: (systemName: string, externalId: string) => MediaEntry | undefined
  /** Copies of all media library entries. */
  listMedia: () => MediaEntry[]
  /**
   * Replaces the accepted tokens and their scopes ([GS] §3): revoke a token (leave it out) or rotate it
   * (a new one in its place). `reset()` restores the construction's tokens.
   */
  setTokens: (tokens: Record<string, string[]>) => void
  /** Cancels running jobs and clears jobs, media, counters, quota usage; faults/variants/tokens back to construction values. */
  reset: () => Promise<void>
  /** Cancels running jobs (waits until they have settled) and closes the outgoing HTTP agent. */
  shutdown: () => Promise<void>
}

const VARIANT_VALUES: { [K in keyof EmulatorVariants]: EmulatorVariants[K][] } = {
  perFileSuccessValue: ['imported', 'success'],
  perFileStateKey: ['state', 'status'],
  unknownJob: ['lost', '404'],
}

/**
 * Checks a variants patch.
 * @throws Error on an unknown variant name or value
 */
export const checkVariants = (patch: Partial<EmulatorVariants>): void => {
  for (const [name, value] of Object.entries(patch)) {
    const allowed = VARIANT_VALUES[name as keyof EmulatorVariants] as string[] | undefined
    if (!allowed) throw new Error(`unknown variant ${name}; known: ${Object.keys(VARIANT_VALUES).join(', ')}`)
    if (!allowed.includes(value as string)) {
      throw new Error(`variant ${name} must be one of ${allowed.join(', ')}, got ${String(value)}`)
    }
  }
}

const LABELS: Record<EmulatorEndpoint, string> = {
  import: 'POST /import/files',
  status: 'GET /import/files/status',
}

const send = (res: Response, status: number, body: unknown, headers?: Record<string, string>) => {
  if (headers) res.set(headers)
  res.status(status).json(body)
}

/** Sends a fault's answer: a JSON body, a plain text body, or none. */
const sendFault = (res: Response, answer: FaultAnswer) => {
  if (answer.headers) res.set(answer.headers)
  res.status(answer.status)
  if (answer.text !== undefined) res.type('text/plain').send(answer.text)
  else if (answer.body !== undefined) res.json(answer.body)
  else res.end()
}

const notFound = (req: Request, res: Response) =>
  send(res, 404, errorBody(404, { url: req.originalUrl.split('?')[0] ?? req.path }))

/** Renders a stored per-file outcome per the current variants. [F] §1.2, [PR1209], [GIT] */
const renderFile = (outcome: FileOutcome, variants: EmulatorVariants): Record<string, unknown> => {
  const key = variants.perFileStateKey
  const { systemName, externalId } = outcome
  if (outcome.state === 'imported') {
    return { [key]: variants.perFileSuccessValue, mediaId: outcome.mediaId, systemName, externalId }
  }
  if (outcome.state === 'skipped') {
    return { [key]: 'skipped', reason: outcome.reason, systemName, externalId, mediaId: outcome.mediaId }
  }
  return { [key]: 'failed', reason: outcome.reason, systemName, externalId }
}

/**
 * Creates the emulator app and its controls (no server). See README.md for every behaviour.
 * Endpoints: `POST /api/:apiVersion/import/files` [F] §1.1 and `GET /api/:apiVersion/import/files/status?id=` [F] §1.2.
 * @param options see {@link LivingdocsEmulatorOptions}; all optional
 * @throws Error when `options.apiVersion` is not accepted or `options.variants` has an invalid value
 */
export const createLivingdocsEmulator = (options: LivingdocsEmulatorOptions = {}): LivingdocsEmulator => {
  if (options.variants) checkVariants(options.variants)
  const core = new EmulatorCore(options)
  const { settings } = core
  const faultHits: Record<string, number> = {}
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)

  // Latency fault: added before every response.
  app.use(async (_req, _res, next) => {
    const ms = core.faults.latencyMs
    if (ms > 0) await sleep(ms)
    next()
  })

  // Counters: label each request, count on finish.
  app.use((_req, res, next) => {
    res.on('finish', () => {
      const label = (res.locals.endpointLabel as string | undefined) ?? 'other'
      const stats = core.stats
      stats.requests[label] = stats.requests[label] ?? {}
      const byStatus = stats.requests[label]
      byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1
      stats.requestTotals[label] = (stats.requestTotals[label] ?? 0) + 1
    })
    next()
  })

  // Option rateLimitPerSecond: a fixed one-second window over both endpoints.
  const window = { second: 0, requests: 0 }
  const endpoint = (name: EmulatorEndpoint) => (_req: Request, res: Response, next: NextFunction) => {
    res.locals.endpointLabel = LABELS[name]
    if (settings.rateLimitPerSecond !== undefined) {
      const second = Math.floor(Date.now() / 1000)
      if (second !== window.second) Object.assign(window, { second, requests: 0 })
      if (++window.requests > settings.rateLimitPerSecond) {
        const message = `Rate limit of ${settings.rateLimitPerSecond} requests per second exceeded.`
        return send(res, 429, errorBody(429, { message }), { 'retry-after': '1' })
      }
    }
    const answer = checkRequestFaults(core.faults, name, faultHits, core.random, {
      originalUrl: _req.originalUrl,
      host: _req.get('host') ?? 'localhost',
    })
    if (answer) return sendFault(res, answer)
    next()
  }

  // [VER] §4: removed versions answer 410; unknown ones are unknown paths (404).
  const oldestDateVersion = settings.apiVersions.filter((v) => /^\d{4}-\d{2}$/.test(v)).sort()[0]
  const version = (req: Request, res: Response, next: NextFunction) => {
    const v = String(req.params.apiVersion)
    const olderThanSupported =
      /^\d{4}-\d{2}$/.test(v) && oldestDateVersion !== undefined && v < oldestDateVersion
    if (settings.removedVersions.includes(v) || (olderThanSupported && !settings.apiVersions.includes(v))) {
      return send(res, 410, errorBody(410, { message: `API version ${v} has been removed.` }))
    }
    if (!settings.apiVersions.includes(v)) return notFound(req, res)
    next()
  }

  // [GS] §3, §6: Bearer token; both endpoints need public-api:write.
  const auth = (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization')
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    if (!match) {
      return send(
        res,
        401,
        errorBody(401, { access_token: 'No access token provided. Send Authorization: Bearer <token>.' }),
      )
    }
    const scopes = Object.hasOwn(core.tokens, match[1] as string)
      ? core.tokens[match[1] as string]
      : undefined
    if (!scopes) return send(res, 401, errorBody(401, { access_token: 'The access token is invalid.' }))
    if (!scopes.includes(WRITE_SCOPE)) {
      return send(res, 403, errorBody(403, { access_token: 'The request requires higher privileges' }))
    }
    next()
  }

  const json = express.json({ limit: settings.bodyLimitBytes })

  const importFiles = (req: Request, res: Response) => {
    if (req.body === undefined) {
      return send(res, 400, errorBody(400, { body: 'Expected a JSON body (Content-Type: application/json)' }))
    }
    const result = validateImportRequest(req.body, settings.maxFilesPerRequest)
    if (!result.ok) return send(res, 400, errorBody(400, result.details))
    const reject = core.faults.rejectFiles
    if (reject) {
      const details: Record<string, string> = {}
      result.value.files.forEach((f, i) => {
        if (reject.externalIds.includes(f.id))
          details[`files.${i}.id`] = 'Rejected by an emulated validation rule'
      })
      const status = reject.status ?? 422
      if (Object.keys(details).length > 0) {
        // Other body shapes than the documented one, as other versions or proxies might answer.
        const line = Object.entries(details)
          .map(([path, message]) => `${path.replace(/^files\.(\d+)/, 'files[$1]')} ${message}`)
          .join('; ')
        const shape = reject.shape ?? 'documented'
        if (shape === 'error') return send(res, status, { error: line })
        if (shape === 'message') return send(res, status, { message: line })
        if (shape === 'text') return res.status(status).type('text/plain').send(line)
        return send(res, status, errorBody(status, details))
      }
    }
    const quota = core.faults.quota
    if (quota) {
      const used = core.quotaUsed()
      const tried = result.value.files.length
      if (used + tried > quota.filesPerDay) {
        // [F][OA] §5: plan quota, 429 "Usage Limit Exceeded" with error_details.message.
        return send(
          res,
          429,
          errorBody(429, {
            message: `Your plan allows ${quota.filesPerDay} file uploads per day. You have made ${used} uploads in the last 24 hours and tried to upload ${tried} more.`,
          }),
        )
      }
    }
    const id = core.createJob(result.value, String(req.params.apiVersion))
    send(res, core.faults.acceptStatus, { id })
  }

  const status = (req: Request, res: Response) => {
    const id = typeof req.query.id === 'string' ? req.query.id : ''
    if (!id) return send(res, 400, errorBody(400, { id: 'Missing required property: id' }))
    const found = core.jobs.get(id)
    const variants = core.variants
    const faults = core.faults
    // The lostJobs and jobVisibilityDelayMs faults: the job exists, but this endpoint does not know it (yet).
    const visible =
      found !== undefined &&
      found.hidden !== true &&
      core.now().getTime() - found.startedAt.getTime() >= faults.jobVisibilityDelayMs
    const job = visible ? found : undefined
    if (!job) {
      const message = `no import job found for id "${id}"`
      // [D] §7 documents `lost` with HTTP 200 for documents; a 404 is the other choice (§9).
      if (variants.unknownJob === '404') return send(res, 404, errorBody(404, { message }))
      return send(res, 200, { finished: false, state: 'lost', id: message })
    }
    // nullOptionalFields: null wherever the docs do not forbid it, and a key the docs do not name.
    const nulls = faults.nullOptionalFields
    const extra = nulls ? { finishedAt: null, overview: { emulated: true } } : {}
    if (!job.finished) {
      return send(res, 200, {
        finished: false,
        state: 'started',
        id,
        startedAt: nulls ? null : formatStartedAt(job.startedAt),
        ...(nulls ? { files: null } : {}),
        ...extra,
      })
    }
    if (job.state === 'failed')
      return send(res, 200, {
        finished: true,
        state: 'failed',
        id,
        ...(nulls ? { files: null } : {}),
        ...extra,
      })
    job.finishedReads = (job.finishedReads ?? 0) + 1
    let files = (job.results ?? []).map((r) => renderFile(r, variants))
    if (nulls) {
      files = files.map((f) => ({ mediaId: null, reason: null, ...f, systemName: null, note: null }))
    }
    const omit = faults.omitResults
    if (omit && (omit.reads === undefined || job.finishedReads <= omit.reads)) {
      files = files.slice(0, Math.max(0, files.length - omit.count))
    }
    if (faults.foreignResults) {
      files.push(
        renderFile(
          {
            state: 'imported',
            systemName: job.systemName,
            externalId: `not-in-job-${id}`,
            mediaId: 'foreignMedia1',
          },
          variants,
        ),
      )
    }
    send(res, 200, { finished: true, state: 'success', id, files, ...extra })
  }

  app.post('/api/:apiVersion/import/files', endpoint('import'), version, auth, json, importFiles)
  app.get('/api/:apiVersion/import/files/status', endpoint('status'), version, auth, status)
  app.use(notFound)
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err)
    const e = err as { type?: string; status?: number; message?: string }
    if (e.type === 'entity.too.large') {
      return send(
        res,
        413,
        errorBody(413, { message: `Request body exceeds ${settings.bodyLimitBytes} bytes.` }),
      )
    }
    if (e.type === 'entity.parse.failed') {
      return send(res, 400, errorBody(400, { body: `Invalid JSON: ${e.message ?? 'parse error'}` }))
    }
    if (e.status === 415 || e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
      return send(res, 415, errorBody(415, { message: e.message ?? 'Unsupported Media Type' }))
    }
    core.logger.warn({ err }, 'livingdocs emulator: unexpected error')
    send(res, 500, errorBody(500, { message: 'Internal emulator error.' }))
  })

  const copy = <T>(value: T | undefined): T | undefined =>
    value === undefined ? undefined : structuredClone(value)
  return {
    app,
    token: settings.token,
    apiVersion: settings.apiVersion,
    setFaults: (patch) => {
      core.faults = { ...core.faults, ...structuredClone(patch) }
    },
    getFaults: () => structuredClone(core.faults),
    setVariants: (patch) => {
      checkVariants(patch)
      core.variants = { ...core.variants, ...patch }
    },
    getVariants: () => ({ ...core.variants }),
    setTokens: (tokens) => {
      core.tokens = structuredClone(tokens)
    },
    stats: () => structuredClone(core.stats),
    getJob: (id) => copy(core.jobs.get(id)),
    listJobs: () => structuredClone([...core.jobs.values()]),
    getMedia: (systemName, externalId) => copy(core.media.get(`${systemName}\u0000${externalId}`)),
    listMedia: () => structuredClone([...core.media.values()]),
    reset: () => core.reset(),
    shutdown: () => core.close(),
  }
}
