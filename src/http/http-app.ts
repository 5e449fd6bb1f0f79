import { STATUS_CODES } from 'node:http'
import express, { type ErrorRequestHandler, type Express, type Response } from 'express'
import helmet from 'helmet'
import { z } from 'zod'
import { verifyBatchSignature } from '../import/webhook-signature.ts'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'

import { WEBHOOK_PATH } from './routes.ts'

export { WEBHOOK_PATH }

/** Largest accepted webhook body in bytes; the documented `context` is at most 8192 bytes ([F] §5). */
export const WEBHOOK_BODY_LIMIT_BYTES = 64 * 1024

/**
 * Webhook body: only the job `id` and the echoed `context` are relied upon ([F] §2: id, state,
 * overview, context); the status endpoint is read for the truth, so the rest is informational.
 */
const webhookBody = z.looseObject({ id: z.union([z.string().min(1).max(200), z.number()]).transform(String) })

/** The part of the echoed `context` that authenticates a webhook (see `signBatchId`). */
const webhookAuth = z.looseObject({
  context: z.looseObject({ batchId: z.string().min(1).max(200), signature: z.string().max(200) }),
})

/** What an authenticated webhook tells about its job, handed to `onJobWebhook`. */
export interface WebhookNotice {
  /** The bridge batch id the import request carried in `context.batchId` (its signature verified). */
  batchId: string
}

/**
 * The public app: receives import job webhooks ([F] §2) and hands each authenticated one to
 * `onJobWebhook`, which returns whether the job is known.
 *
 * Authentication: the import request's `context` carried `batchId` and `signature` = hex
 * HMAC-SHA256(`webhookSecret`, batchId); Livingdocs echoes `context` in the webhook body, and the
 * signature is compared in constant time. Without a secret (no `WEBHOOK_PUBLIC_URL`) no webhook was
 * asked for, so every one is refused.
 *
 * Answers: 202 for a known job; 200 `{ignored}` for an unknown or already settled one (so that
 * Livingdocs does not retry a job another process owns, or a late or duplicated webhook); 400 for a body
 * without a job id or malformed JSON; 401 for a missing or wrong signature; 413 over
 * {@link WEBHOOK_BODY_LIMIT_BYTES}; 415 for a content type other than `application/json`. Errors never
 * carry stack traces or details; helmet sets the usual security headers.
 */
export function createWebhookApp(deps: {
  logger: Logger
  metrics: Metrics
  webhookSecret: string | undefined
  onJobWebhook: (jobId: string, notice: WebhookNotice) => boolean
  /**
   * Several replicas: called (after authentication, and after `onJobWebhook` said the job is not this
   * replica's) to pass the webhook on to the replica that owns the job; resolves true once done.
   * Without it, a webhook for an unknown job is ignored.
   */
  forwardWebhook?: (webhook: ForwardedWebhook) => Promise<boolean>
}): Express {
  const app = express()
  app.disable('x-powered-by')
  // Exact paths only, so that the webhook route and the invalid-body counter below agree. (Set before
  // the first app.use: Express creates its router with the settings of that moment.)
  app.set('strict routing', true)
  app.set('case sensitive routing', true)
  app.use(helmet())
  let lastRefusalWarnAt = Number.NEGATIVE_INFINITY
  const refuse = (res: Response, status: number, outcome: 'invalid' | 'unauthorized', error: string) => {
    deps.metrics.webhooksReceived.inc({ outcome })
    res.status(status).json({ error })
  }
  app.post(
    WEBHOOK_PATH,
    (req, res, next) => {
      // `false`: a body of another type (null means no body, which the id check below refuses).
      if (req.is('application/json') === false)
        refuse(res, 415, 'invalid', 'content type must be application/json')
      else next()
    },
    express.json({ limit: WEBHOOK_BODY_LIMIT_BYTES, type: 'application/json' }),
    async (req, res) => {
      const parsed = webhookBody.safeParse(req.body)
      if (!parsed.success) {
        refuse(res, 400, 'invalid', 'webhook body needs a job id')
        return
      }
      const jobId = parsed.data.id
      const auth = webhookAuth.safeParse(req.body)
      if (
        deps.webhookSecret === undefined ||
        !auth.success ||
        !verifyBatchSignature(deps.webhookSecret, auth.data.context.batchId, auth.data.context.signature)
      ) {
        // The signature and the secret are never logged; the id is untrusted input, nested under a key.
        // At most one warning a minute, so a flood of forged webhooks cannot flood the logs.
        const now = Date.now()
        const level = now - lastRefusalWarnAt >= 60_000 ? 'warn' : 'debug'
        if (level === 'warn') lastRefusalWarnAt = now
        deps.logger[level]({ webhook: { jobId } }, 'import job webhook refused: missing or wrong signature')
        refuse(res, 401, 'unauthorized', 'webhook signature missing or wrong')
        return
      }
      const known = deps.onJobWebhook(jobId, { batchId: auth.data.context.batchId })
      if (!known && deps.forwardWebhook !== undefined) {
        const state = typeof parsed.data.state === 'string' ? parsed.data.state.slice(0, 100) : null
        await forward(
          { jobId, batchId: auth.data.context.batchId, state },
          deps.forwardWebhook,
          deps.metrics,
          res,
        )
        return
      }
      deps.metrics.webhooksReceived.inc({ outcome: known ? 'accepted' : 'unknown_job' })
      deps.logger.debug({ jobId, known }, 'import job webhook received')
      if (known) {
        res.status(202).json({ accepted: true })
        return
      }
      // Unknown job: not ours, already settled (a late or duplicated webhook), or an orphan of a retried
      // POST. Acknowledged so that Livingdocs does not retry it; the status poller stays the truth.
      res.status(200).json({ ignored: 'unknown job id' })
    },
  )
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' })
  })
  // Unparseable or oversized webhook bodies (body-parser errors) count as invalid webhooks.
  app.use(((err, req, _res, next) => {
    if (req.path === WEBHOOK_PATH) deps.metrics.webhooksReceived.inc({ outcome: 'invalid' })
    next(err)
  }) as ErrorRequestHandler)
  app.use(errorHandler(deps.logger))
  return app
}

/** An authenticated webhook of a job this replica does not track, to pass on to its owner. */
export interface ForwardedWebhook {
  jobId: string
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
 * joined its group and while a problem such as a refused access token stops the bridge).
 */
export function createOpsApp(deps: {
  metrics: Metrics
  readiness: () => string[]
  /** Problems that make the process useless (a component that died); default none. */
  liveness?: () => string[]
  logger: Logger
}): Express {
  const app = express()
  app.disable('x-powered-by')
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
