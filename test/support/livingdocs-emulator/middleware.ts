// Express middleware shared by the import endpoints: request faults and counters, versions, auth, errors.
// Sheet: [GS] §3, §6 (auth, error bodies), [VER] §4 (versions), [F][OA] §5 (429), §10 (body limit).
import type { NextFunction, Request, Response } from 'express'
import type { EmulatorCore } from './core.ts'
import { checkRequestFaults, errorBody, type FaultAnswer } from './faults.ts'
import type { MediaKind } from './model.ts'
import type { EmulatorEndpoint } from './types.ts'
import { classifyVersion, deprecationHeader } from './versions.ts'

/** Sends a JSON answer with optional headers. */
export const send = (res: Response, status: number, body: unknown, headers?: Record<string, string>) => {
  if (headers) res.set(headers)
  res.status(status).json(body)
}

/** The generic 404 of an unknown path: `{status:404,error:'Not Found',error_details:{url}}`. [GS] §6 */
/** Sends a fault's answer: a JSON body, a plain text body, or none. */
const sendFault = (res: Response, answer: FaultAnswer) => {
  if (answer.headers) res.set(answer.headers)
  res.status(answer.status)
  if (answer.text !== undefined) res.type('text/plain').send(answer.text)
  else if (answer.body !== undefined) res.json(answer.body)
  else res.end()
}

export const notFound = (req: Request, res: Response) =>
  send(res, 404, errorBody(404, { url: req.originalUrl.split('?')[0] ?? req.path }))

/**
 * Counts every answer by its endpoint label (`other` for unknown paths) and status, and logs each
 * request to an import endpoint with the time it arrived.
 */
export const countRequests = (core: EmulatorCore) => (_req: Request, res: Response, next: NextFunction) => {
  const at = Date.now()
  res.on('finish', () => {
    const label = (res.locals.endpointLabel as string | undefined) ?? 'other'
    const stats = core.stats
    stats.requests[label] = stats.requests[label] ?? {}
    const byStatus = stats.requests[label]
    byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1
    stats.requestTotals[label] = (stats.requestTotals[label] ?? 0) + 1
    if (label !== 'other') stats.requestLog.push({ at, label, status: res.statusCode })
  })
  next()
}

/**
 * Labels a request with its endpoint (`label`, e.g. `POST /import/images`), then applies the option
 * `rateLimitPerSecond` (one fixed one-second window over all endpoints) and the request faults of
 * `name` (and of the import `kind`; the media library's endpoints have none).
 */
export const endpointGate = (core: EmulatorCore) => {
  const window = { second: 0, requests: 0 }
  const limit = core.settings.rateLimitPerSecond
  return (label: string, name: EmulatorEndpoint, kind?: MediaKind) =>
    (_req: Request, res: Response, next: NextFunction) => {
      res.locals.endpointLabel = label
      if (limit !== undefined) {
        const second = Math.floor(Date.now() / 1000)
        if (second !== window.second) Object.assign(window, { second, requests: 0 })
        if (++window.requests > limit) {
          const message = `Rate limit of ${limit} requests per second exceeded.`
          return send(res, 429, errorBody(429, { message }), { 'retry-after': '1' })
        }
      }
      const request = { originalUrl: _req.originalUrl, host: _req.get('host') ?? 'localhost' }
      const now = core.now().getTime()
      const answer = checkRequestFaults(core.faults, name, kind, core.faultHits, core.random, request, now)
      if (answer) return sendFault(res, answer)
      next()
    }
}

/** [VER] §4: a removed (or too old) version answers 410; one that never existed is an unknown path (404). */
export const checkVersion = (core: EmulatorCore) => (req: Request, res: Response, next: NextFunction) => {
  const v = String(req.params.apiVersion)
  const verdict = classifyVersion(v, core.settings)
  if (verdict === 'gone')
    return send(res, 410, errorBody(410, { message: `API version ${v} has been removed.` }))
  if (verdict === 'unknown') return notFound(req, res)
  next()
}

/**
 * The answers of a deprecated version carry the header of the variant `deprecationHeader` (§11.5: "a
 * deprecation warning header", its name not given; README "Undocumented choices").
 */
export const deprecationNotice =
  (core: EmulatorCore) => (req: Request, res: Response, next: NextFunction) => {
    const v = String(req.params.apiVersion)
    if (core.settings.deprecatedVersions.includes(v))
      res.set(deprecationHeader(v, core.variants.deprecationHeader))
    next()
  }

/**
 * [GS] §3, §6: a Bearer token with `scope`: every import endpoint and the media library PATCH need
 * `public-api:write`, the media library reads `public-api:read` ([ML] §11.2).
 */
export const checkAuth =
  (core: EmulatorCore, scope: string) => (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization')
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    if (!match) {
      const details = { access_token: 'No access token provided. Send Authorization: Bearer <token>.' }
      return send(res, 401, errorBody(401, details))
    }
    const tokens = core.tokens
    const scopes = Object.hasOwn(tokens, match[1] as string) ? tokens[match[1] as string] : undefined
    if (!scopes) return send(res, 401, errorBody(401, { access_token: 'The access token is invalid.' }))
    if (!scopes.includes(scope)) {
      return send(res, 403, errorBody(403, { access_token: 'The request requires higher privileges' }))
    }
    next()
  }

/**
 * Errors of the JSON body parser in the generic body [GS] §6. Over the body limit: 413 (the server runs on
 * fastify, whose message this is; the status is an inference, §10).
 */
export const errorHandler =
  (core: EmulatorCore) => (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err)
    const e = err as { type?: string; status?: number; message?: string }
    if (e.type === 'entity.too.large') {
      return send(res, 413, errorBody(413, { message: 'Request body is too large' }))
    }
    if (e.type === 'entity.parse.failed') {
      return send(res, 400, errorBody(400, { body: `Invalid JSON: ${e.message ?? 'parse error'}` }))
    }
    if (e.status === 415 || e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
      return send(res, 415, errorBody(415, { message: e.message ?? 'Unsupported Media Type' }))
    }
    core.logger.warn({ err }, 'livingdocs emulator: unexpected error')
    send(res, 500, errorBody(500, { message: 'Internal emulator error.' }))
  }
