import express, { type ErrorRequestHandler, type Express } from 'express'
import { z } from 'zod'
import type { Logger } from '../logging.ts'
import type { Metrics } from '../metrics.ts'

/** Path Livingdocs POSTs import job webhooks to. */
export const WEBHOOK_PATH = '/webhooks/livingdocs/import-jobs'

/** Largest accepted webhook body in bytes; the documented `context` is at most 8192 bytes ([F] §5). */
export const WEBHOOK_BODY_LIMIT_BYTES = 64 * 1024

/**
 * Webhook body: only the job `id` is relied upon ([F] §2: id, state, overview, context); the status
 * endpoint is read for the truth, so the rest is informational.
 */
const webhookBody = z.looseObject({ id: z.union([z.string().min(1).max(200), z.number()]).transform(String) })

/**
 * The public app: receives import job webhooks and hands the job id to `onJobWebhook`, which returns
 * whether the job is known. Answers 202 for a known job, 200 `{ignored}` for an unknown one (so that
 * Livingdocs does not retry a job another process owns), 400 for a body without a job id.
 */
export function createWebhookApp(deps: {
  logger: Logger
  metrics: Metrics
  onJobWebhook: (jobId: string) => boolean
}): Express {
  const app = express()
  app.disable('x-powered-by')
  // Exact paths only, so that the webhook route and the invalid-body counter below agree.
  app.set('strict routing', true)
  app.set('case sensitive routing', true)
  app.post(WEBHOOK_PATH, express.json({ limit: WEBHOOK_BODY_LIMIT_BYTES, type: () => true }), (req, res) => {
    const parsed = webhookBody.safeParse(req.body)
    if (!parsed.success) {
      deps.metrics.webhooksReceived.inc({ outcome: 'invalid' })
      res.status(400).json({ error: 'webhook body needs a job id' })
      return
    }
    const known = deps.onJobWebhook(parsed.data.id)
    deps.metrics.webhooksReceived.inc({ outcome: known ? 'accepted' : 'unknown_job' })
    deps.logger.debug({ jobId: parsed.data.id, known }, 'import job webhook received')
    res.status(known ? 202 : 200).json(known ? { accepted: true } : { ignored: 'unknown job id' })
  })
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

/**
 * The operations app, on its own port: `/metrics` (Prometheus text format), `/healthz` (the process
 * runs), `/readyz` (503 with the reasons until the consumer joined its group and while a problem such
 * as a refused access token stops the bridge).
 */
export function createOpsApp(deps: { metrics: Metrics; readiness: () => string[]; logger: Logger }): Express {
  const app = express()
  app.disable('x-powered-by')
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics())
  })
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
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

/** Maps errors to a status without leaking stack traces (body-parser sets `status` on its errors). */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500
    if (status === 500) logger.error({ err }, 'request failed')
    res
      .status(status)
      .json({ error: status === 500 ? 'internal error' : String(err?.type ?? err?.message ?? 'bad request') })
  }
}
