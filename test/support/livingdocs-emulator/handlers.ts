// The import and status handlers, one pair per import. [F] §1.1/§1.2, [I][V] §7, §5 (quota).
import type { Request, Response } from 'express'
import { type EmulatorCore, formatStartedAt } from './core.ts'
import { errorBody, quotaMessage } from './faults.ts'
import { type KindSpec, renderItem } from './kinds.ts'
import { send } from './middleware.ts'
import { validateImportRequest } from './validation.ts'

/**
 * `POST /api/:apiVersion/import/<files|images|videos>`: validates the batch (400), applies `rejectFiles`
 * (422/400) and the quota (429), then answers `200 {"id":"25bzj8j"}` and runs the job in the background.
 */
export const importHandler = (core: EmulatorCore, spec: KindSpec) => (req: Request, res: Response) => {
  if (req.body === undefined) {
    return send(res, 400, errorBody(400, { body: 'Expected a JSON body (Content-Type: application/json)' }))
  }
  const required = spec.mediaTypeRequired || core.variants.mediaTypeRequired === 'always'
  const result = validateImportRequest(req.body, spec, core.settings.maxFilesPerRequest, required)
  if (!result.ok) return send(res, 400, errorBody(400, result.details))
  const reject = core.faults.rejectFiles
  if (reject) {
    const details: Record<string, string> = {}
    result.value.files.forEach((f, i) => {
      if (reject.externalIds.includes(f.id))
        details[`${spec.path}.${i}.id`] = 'Rejected by an emulated validation rule'
    })
    const status = reject.status ?? 422
    if (Object.keys(details).length > 0) return send(res, status, errorBody(status, details))
  }
  const quota = core.faults.quota
  if (quota) {
    const used = core.quotaUsed()
    const tried = result.value.files.length
    if (used + tried > quota.filesPerDay) {
      return send(res, 429, errorBody(429, { message: quotaMessage(quota.filesPerDay, used, tried) }))
    }
  }
  const id = core.createJob(spec.kind, result.value, String(req.params.apiVersion))
  send(res, 200, { id })
}

/**
 * `GET /api/:apiVersion/import/<files|images|videos>/status?id=`: `started` with `startedAt`, `success` with
 * the per-item results under the batch key, or `failed`. A job of another import is unknown here (a guess:
 * the ids share one space, the endpoints do not share jobs).
 */
export const statusHandler = (core: EmulatorCore, spec: KindSpec) => (req: Request, res: Response) => {
  const id = typeof req.query.id === 'string' ? req.query.id : ''
  if (!id) return send(res, 400, errorBody(400, { id: 'Missing required property: id' }))
  const found = core.jobs.get(id)
  const job = found?.kind === spec.kind ? found : undefined
  const variants = core.variants
  if (!job) {
    const message = `no import job found for id "${id}"`
    // [D] §7 documents `lost` with HTTP 200 for documents; a 404 is the other choice (§9).
    if (variants.unknownJob === '404') return send(res, 404, errorBody(404, { message }))
    return send(res, 200, { finished: false, state: 'lost', id: message })
  }
  if (!job.finished) {
    return send(res, 200, {
      finished: false,
      state: 'started',
      id,
      startedAt: formatStartedAt(job.startedAt),
    })
  }
  if (job.state === 'failed') return send(res, 200, { finished: true, state: 'failed', id })
  send(res, 200, {
    finished: true,
    state: 'success',
    id,
    [spec.path]: (job.results ?? []).map((r) => renderItem(spec, r, variants)),
  })
}
