import type { IncomingHttpHeaders } from 'node:http'
import { STATUS_CODES } from 'node:http'
import express, { type ErrorRequestHandler, type Express, type Response, type Router } from 'express'
import helmet from 'helmet'
import { z } from 'zod'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'
import { type ReceivedWebhook, WEBHOOK_PATH } from '../model/webhook.ts'

/**
 * Largest accepted webhook body in bytes. The documented body is small ([F] §2: id, state, overview,
 * context of at most 8192 bytes, [F] §5), but nothing documents that it stays so: a job of many files
 * may report each in it. 2 MiB takes such a body and still bounds what a request can make us hold.
 */
export const WEBHOOK_BODY_LIMIT_BYTES = 2 * 1024 * 1024

/**
 * What the bridge reads of a webhook body, when there is one and it is JSON: the job `id` and `state`
 * ([F] §2). Neither is needed: the URL names the batch, and the status endpoint is the truth.
 */
const webhookHint = z.looseObject({
  id: z
    .union([z.string().min(1).max(200), z.number()])
    .transform(String)
    .optional(),
  state: z.unknown().optional(),
})

/** The part of an echoed `context` that authenticates a webhook on the plain path (see `signBatchId`). */
const webhookAuth = z.looseObject({
  context: z.looseObject({ batchId: z.string().min(1).max(200), signature: z.string().max(200) }),
})

/** What an authenticated webhook tells about its job, handed to `onJobWebhook`. */
export interface WebhookNotice {
  /** The bridge batch id the webhook is authenticated for (its signature verified). */
  batchId: string
  /** The request's route and trace headers, for the webhook's span (src/telemetry/). */
  received: ReceivedWebhook
}

/** A webhook of a known batch: the job id and state its body carried, if it was JSON with them. */
interface AuthenticWebhook {
  batchId: string
  jobId: string | undefined
  state: string | null
  received: ReceivedWebhook
}

/**
 * The public app: receives import job webhooks ([F] §2) and hands each authenticated one to
 * `onJobWebhook`, which reads the job's status (the truth) and returns whether the job is known.
 *
 * Two ways in, both authenticated by `verifySignature` (hex HMAC-SHA256(`webhookSecret`, batchId)
 * compared in constant time, `verifyBatchSignature` of src/import/webhook-signature.ts):
 * - `POST <WEBHOOK_PATH>/<batchId>?sig=<signature>`: the URL each import request hands Livingdocs
 *   (`signedWebhookUrl`). Any body, any content type, or none: it only tells which batch's job to read.
 * - `POST <WEBHOOK_PATH>` with a JSON body whose `context` (echoed by Livingdocs, [F] §2) carries
 *   `batchId` and `signature`, and whose `id` is the job id (requests of older bridge versions).
 * Without a secret (no `WEBHOOK_PUBLIC_URL`) no webhook was asked for, so every one is refused.
 *
 * Answers: 202 for a known job; 200 `{ignored}` for an unknown or already concluded one (so that
 * Livingdocs does not retry a job another process owns, or a late or duplicated webhook); 400 for a plain
 * webhook without a JSON body with a job id; 401 for a missing or wrong signature; 413 over
 * {@link WEBHOOK_BODY_LIMIT_BYTES}. Errors never carry stack traces or details; helmet sets the usual
 * security headers.
 */
export function createWebhookApp(deps: {
  logger: Logger
  metrics: Metrics
  webhookSecret: string | undefined
  /** True when `signature` is the one of `batchId` under `secret` (the check of what `signBatchId` made). */
  verifySignature: (secret: string, batchId: string, signature: string) => boolean
  /**
   * Reads the job's status if it is this replica's: the job `jobId` when the body named one, else the
   * current job of `notice.batchId`. @returns whether the job is known
   */
  onJobWebhook: (jobId: string | undefined, notice: WebhookNotice) => boolean
  /**
   * Several replicas: called (after authentication, and after `onJobWebhook` said the job is not this
   * replica's) to pass the webhook on to the replica that owns the job; resolves true once done.
   * Without it, a webhook for an unknown job is ignored.
   */
  forwardWebhook?: (webhook: ForwardedWebhook) => Promise<boolean>
}): Express {
  const app = express()
  app.disable('x-powered-by')
  // No ETag: nobody caches the answer to a webhook POST, and hashing each answer body costs CPU per job.
  app.set('etag', false)
  // Exact paths only, so that the webhook routes and the invalid-body counter below agree. (Set before
  // the first app.use: Express creates its router with the settings of that moment.)
  app.set('strict routing', true)
  app.set('case sensitive routing', true)
  app.use(helmet())
  let lastRefusalWarnAt = Number.NEGATIVE_INFINITY
  const refuse = (res: Response, status: number, outcome: 'invalid' | 'unauthorized', error: string) => {
    deps.metrics.webhooksReceived.inc({ outcome })
    res.status(status).json({ error })
  }
  const unauthorized = (res: Response, jobId: string | undefined) => {
    // The signature and the secret are never logged; the id is untrusted input, nested under a key.
    // At most one warning a minute, so a flood of forged webhooks cannot flood the logs.
    const now = Date.now()
    const level = now - lastRefusalWarnAt >= 60_000 ? 'warn' : 'debug'
    if (level === 'warn') lastRefusalWarnAt = now
    deps.logger[level]({ webhook: { jobId } }, 'import job webhook refused: missing or wrong signature')
    refuse(res, 401, 'unauthorized', 'webhook signature missing or wrong')
  }
  const dispatch = async (webhook: AuthenticWebhook, res: Response) => {
    const { batchId, jobId, state, received } = webhook
    const known = deps.onJobWebhook(jobId, { batchId, received })
    if (!known && deps.forwardWebhook !== undefined) {
      await forward({ batchId, jobId: jobId ?? null, state }, deps.forwardWebhook, deps.metrics, res)
      return
    }
    deps.metrics.webhooksReceived.inc({ outcome: known ? 'accepted' : 'unknown_job' })
    deps.logger.debug(
      { jobId: webhook.jobId, batchId: webhook.batchId, known },
      'import job webhook received',
    )
    if (known) res.status(202).json({ accepted: true })
    // Unknown job: not ours, already concluded (a late or duplicated webhook), or an orphan of a retried
    // POST. Acknowledged so that Livingdocs does not retry it; the status poller stays the truth.
    else res.status(200).json({ ignored: 'unknown job id' })
  }
  // Any content type, or none: the body is read as bytes and looked at only if it is JSON.
  const rawBody = express.raw({ limit: WEBHOOK_BODY_LIMIT_BYTES, type: () => true })

  const batchRoute = `${WEBHOOK_PATH}/:batchId`
  app.post(batchRoute, rawBody, async (req, res) => {
    const batchId = String(req.params.batchId)
    const sig = req.query.sig
    const hint = webhookHint.safeParse(parseJson(req.body))
    const jobId = hint.success ? hint.data.id : undefined
    if (
      deps.webhookSecret === undefined ||
      typeof sig !== 'string' ||
      batchId.length > 200 ||
      !deps.verifySignature(deps.webhookSecret, batchId, sig)
    ) {
      unauthorized(res, jobId)
      return
    }
    const state = hint.success ? stateOf(hint.data.state) : null
    await dispatch({ batchId, jobId, state, received: receivedOn(batchRoute, req.headers) }, res)
  })

  app.post(WEBHOOK_PATH, rawBody, async (req, res) => {
    const json = parseJson(req.body)
    const hint = webhookHint.safeParse(json)
    if (!hint.success || hint.data.id === undefined) {
      refuse(res, 400, 'invalid', 'webhook body needs a job id')
      return
    }
    const jobId = hint.data.id
    const auth = webhookAuth.safeParse(json)
    if (
      deps.webhookSecret === undefined ||
      !auth.success ||
      !deps.verifySignature(deps.webhookSecret, auth.data.context.batchId, auth.data.context.signature)
    ) {
      unauthorized(res, jobId)
      return
    }
    const { batchId } = auth.data.context
    const received = receivedOn(WEBHOOK_PATH, req.headers)
    await dispatch({ batchId, jobId, state: stateOf(hint.data.state), received }, res)
  })
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' })
  })
  // Oversized webhook bodies (body-parser errors) count as invalid webhooks.
  app.use(((err, req, _res, next) => {
    if (req.path.startsWith(WEBHOOK_PATH)) deps.metrics.webhooksReceived.inc({ outcome: 'invalid' })
    next(err)
  }) as ErrorRequestHandler)
  app.use(errorHandler(deps.logger))
  return app
}

/** A body read by `express.raw` as JSON, or undefined when it is none, empty, or not JSON. */
function parseJson(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}

/** The route and the W3C trace headers (`traceparent`, `tracestate`) of a webhook request. */
function receivedOn(route: string, headers: IncomingHttpHeaders): ReceivedWebhook {
  const traceHeaders: Record<string, string> = {}
  for (const name of ['traceparent', 'tracestate'] as const) {
    const value = headers[name]
    if (typeof value === 'string') traceHeaders[name] = value
  }
  return { route, traceHeaders }
}

/** A webhook's `state` for the log and the forwarded notification: a string of at most 100 characters. */
function stateOf(state: unknown): string | null {
  return typeof state === 'string' ? state.slice(0, 100) : null
}

/** An authenticated webhook of a job this replica does not track, to pass on to its owner. */
export interface ForwardedWebhook {
  /** The job id the body named; null when it named none (the owner reads its batch's job). */
  jobId: string | null
  /** The batch id of the webhook's verified `context`. */
  batchId: string
  /** The webhook's `state`, informational; null when absent or not a string. */
  state: string | null
}

/**
 * Forwards a webhook of a job this replica does not track: 202 `{forwarded: true}` once the internal
 * topic acknowledged it, else 503 (Livingdocs may retry; the owner's status poller finishes the job
 * anyway).
 */
async function forward(
  webhook: ForwardedWebhook,
  forwardWebhook: (webhook: ForwardedWebhook) => Promise<boolean>,
  metrics: Metrics,
  res: Response,
): Promise<void> {
  const forwarded = await forwardWebhook(webhook)
  metrics.webhooksReceived.inc({ outcome: 'forwarded' })
  if (forwarded) res.status(202).json({ forwarded: true })
  else res.status(503).json({ error: 'could not forward the webhook to the replica owning the job' })
}

/**
 * The operations app, on its own port: `/metrics` (Prometheus text format), `/healthz` (liveness: 200
 * while every component works; 503 with the problems once one stopped for good, so that Kubernetes
 * restarts the pod even before the process exits), `/readyz` (503 with the reasons until the consumer
 * joined its group and while a problem such as a refused access token stops the bridge), and with
 * `admin` (an `ADMIN_TOKEN` is set) the admin API and status page under `/admin` (src/admin/admin-app.ts).
 */
export function createOpsApp(deps: {
  metrics: Metrics
  readiness: () => string[]
  /** Problems that make the process useless (a component that died); default none. */
  liveness?: () => string[]
  logger: Logger
  /** The admin API's router, mounted under `/admin`; without it no admin route exists (404). */
  admin?: Router
}): Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('strict routing', true)
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics())
  })
  app.get('/healthz', (_req, res) => {
    const problems = deps.liveness?.() ?? []
    if (problems.length === 0) res.json({ status: 'ok' })
    else res.status(503).json({ status: 'failing', problems })
  })
  app.get('/readyz', (_req, res) => {
    const problems = deps.readiness()
    res.status(problems.length === 0 ? 200 : 503).json({ ready: problems.length === 0, problems })
  })
  if (deps.admin !== undefined) {
    // The page's relative URLs need the trailing slash.
    app.get('/admin', (_req, res) => res.redirect(301, '/admin/'))
    app.use('/admin', deps.admin)
  }
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' })
  })
  app.use(errorHandler(deps.logger))
  return app
}

/**
 * Maps errors to a status (body-parser sets `status` on its errors: 400, 413, 415) without leaking
 * stack traces or error details: the answer is the status's reason phrase only.
 */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) {
      next(err)
      return
    }
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500
    if (status === 500) logger.error({ err }, 'request failed')
    res.status(status).json({
      error: status === 500 ? 'internal error' : (STATUS_CODES[status] ?? 'bad request').toLowerCase(),
    })
  }
}
