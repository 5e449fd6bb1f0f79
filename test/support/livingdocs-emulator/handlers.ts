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
    if (Object.keys(details).length > 0) {
      // Other body shapes than the documented one, as other versions or proxies might answer.
      const line = Object.entries(details)
        .map(([path, message]) => `${path.replace(/^(\w+)\.(\d+)/, '$1[$2]')} ${message}`)
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
      return send(res, 429, errorBody(429, { message: quotaMessage(quota.filesPerDay, used, tried) }))
    }
  }
  const id = core.createJob(spec.kind, result.value, String(req.params.apiVersion))
  send(res, core.faults.acceptStatus, { id })
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
  const variants = core.variants
  const faults = core.faults
  // The lostJobs and jobVisibilityDelayMs faults: the job exists, but this endpoint does not know it (yet).
  const visible =
    found !== undefined &&
    found.kind === spec.kind &&
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
      ...(nulls ? { [spec.path]: null } : {}),
      ...extra,
    })
  }
  if (job.state === 'failed') {
    return send(res, 200, {
      finished: true,
      state: 'failed',
      id,
      ...(nulls ? { [spec.path]: null } : {}),
      ...extra,
    })
  }
  job.finishedReads = (job.finishedReads ?? 0) + 1
  let items = (job.results ?? []).map((r) => renderItem(spec, r, variants))
  if (nulls) items = items.map((f) => ({ mediaId: null, reason: null, ...f, systemName: null, note: null }))
  const omit = faults.omitResults
  if (omit && (omit.reads === undefined || job.finishedReads <= omit.reads)) {
    items = items.slice(0, Math.max(0, items.length - omit.count))
  }
  if (faults.foreignResults) {
    const foreign = {
      state: 'imported' as const,
      systemName: job.systemName,
      externalId: `not-in-job-${id}`,
      mediaId: 'foreignMedia1',
    }
    items.push(renderItem(spec, foreign, variants))
  }
  send(res, 200, { finished: true, state: 'success', id, [spec.path]: items, ...extra })
}
