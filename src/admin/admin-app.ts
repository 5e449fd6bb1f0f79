import express, { type NextFunction, type Request, type Response, Router } from 'express'
import { z } from 'zod'
import type { Logger } from '../logging.ts'
import type { Progress } from '../progress/progress.ts'
import { bearerMatches } from './admin-token.ts'
import { type AdminSources, findFile, findJob, statusOf } from './admin-views.ts'
import type { PauseState } from './pause-control.ts'
import type { RecentCounts } from './recent-outcomes.ts'
import { STATUS_PAGE_PATH, statusFragment, statusPage } from './status-page.ts'

/** A pause or resume request's body: why (shown on every replica's status, logged, kept in Kafka). */
const pauseBody = z.object({ reason: z.string().trim().min(1).max(500) })

/**
 * The admin API, mounted on the operations port under `/admin` (never on the public webhook port).
 * Every route but the page's shell needs `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time,
 * `bearerMatches`; the header and the token are never logged): 401 without it or with a wrong one, and
 * then nothing changes.
 *
 * - `GET /admin/status`: {@link statusOf}; `GET /admin/jobs/{jobId}`, `GET /admin/files/{systemName}/{externalId}`:
 *   where the job or file is, 404 when this replica does not hold it;
 * - `POST /admin/pause`, `POST /admin/resume` with a JSON body `{reason}`: the whole consumer group,
 *   through the control topic (`PauseControl.request`); 200 with the state in force, 400 without a
 *   reason, 503 when the control record could not be written or read back;
 * - `GET /admin/` (the status page, src/admin/status-page.ts): the shell, without a token; it asks for
 *   `GET /admin/fragment` (token) every few seconds.
 */
export function createAdminRouter(deps: {
  sources: AdminSources
  token: string
  request: (paused: boolean, reason: string) => Promise<PauseState>
  logger: Logger
  /** The group's latest progress reading and this replica's files of the last hour, for the page. */
  pageExtras?: () => { progress: Progress | null; recent: RecentCounts | null }
}): Router {
  const router = Router({ strict: true, caseSensitive: true })
  let lastRefusalWarnAt = Number.NEGATIVE_INFINITY
  router.get(STATUS_PAGE_PATH, (_req, res) => {
    res.set('cache-control', 'no-store').type('html').send(statusPage())
  })
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (bearerMatches(deps.token, req.get('authorization'))) {
      next()
      return
    }
    // Never the header: at most one warning a minute, so a guessing client cannot flood the logs.
    const now = Date.now()
    const level = now - lastRefusalWarnAt >= 60_000 ? 'warn' : 'debug'
    if (level === 'warn') lastRefusalWarnAt = now
    deps.logger[level](
      { admin: { method: req.method, path: req.path } },
      'admin request refused: missing or wrong token',
    )
    res
      .status(401)
      .set('www-authenticate', 'Bearer realm="file-import-bridge admin"')
      .json({ error: 'unauthorized' })
  })
  router.get('/status', (_req, res) => {
    res.json(statusOf(deps.sources, Date.now()))
  })
  router.get('/fragment', (_req, res) => {
    const now = Date.now()
    const extras = deps.pageExtras?.() ?? { progress: null, recent: null }
    const html = statusFragment(statusOf(deps.sources, now), { ...extras, now })
    res.set('cache-control', 'no-store').type('html').send(html)
  })
  router.get('/jobs/:jobId', (req, res) => {
    const job = findJob(deps.sources, String(req.params.jobId), Date.now())
    if (job === null) res.status(404).json({ error: 'this replica does not follow that job' })
    else res.json(job)
  })
  router.get('/files/:systemName/:externalId', (req, res) => {
    const places = findFile(
      deps.sources,
      String(req.params.systemName),
      String(req.params.externalId),
      Date.now(),
    )
    if (places.length === 0) res.status(404).json({ error: 'this replica holds no file of that externalId' })
    else res.json({ places })
  })
  const change = (paused: boolean) => async (req: Request, res: Response) => {
    const body = pauseBody.safeParse(req.body)
    if (!body.success) {
      res.status(400).json({ error: 'a JSON body with a reason is required: {"reason": "..."}' })
      return
    }
    try {
      res.json(await deps.request(paused, body.data.reason))
    } catch (err) {
      deps.logger.error({ err }, paused ? 'pause request failed' : 'resume request failed')
      res
        .status(503)
        .json({ error: 'the control topic could not be written or read back; check GET /admin/status' })
    }
  }
  const json = express.json({ limit: 4096 })
  router.post('/pause', json, change(true))
  router.post('/resume', json, change(false))
  return router
}
