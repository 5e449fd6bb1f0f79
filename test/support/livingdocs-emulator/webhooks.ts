// The import job's callback: its body and its delivery. [F][D] §2, §9, §10, [DPA].
import { setTimeout as sleep } from 'node:timers/promises'
import type { Dispatcher } from 'undici'
import { request } from 'undici'
import { KINDS } from './kinds.ts'
import type { EmulatorStats, FileOutcome, JobRecord, WebhookBody, WebhookDelivery } from './model.ts'
import type { EmulatorFaults, EmulatorLogger, EmulatorVariants } from './types.ts'

/**
 * The callback body (undocumented shape beyond `id`, `state`, `overview` and `context`; README "Webhook").
 * `source` per import as [DPA] names the image one (`livingdocs-image-import`); `context` under the key
 * `context` unless the variant `webhookContext` is `omit`.
 */
export const webhookBody = (job: JobRecord, variants: EmulatorVariants): WebhookBody => {
  const results = job.results ?? []
  const count = (state: FileOutcome['state']) => results.filter((r) => r.state === state).length
  const failedJob = job.state === 'failed'
  return {
    id: job.id,
    source: KINDS[job.kind].source,
    state: failedJob ? 'failed' : 'success',
    overview: {
      total: job.files.length,
      details: failedJob
        ? { imported: 0, skipped: 0, failed: job.files.length }
        : { imported: count('imported'), skipped: count('skipped'), failed: count('failed') },
    },
    ...(job.context !== undefined && variants.webhookContext === 'echo'
      ? { context: structuredClone(job.context) }
      : {}),
  }
}

/** What a delivery reads from the emulator (live values: faults and variants may change between jobs). */
export type WebhookContext = {
  dispatcher: Dispatcher
  stats: () => EmulatorStats
  faults: () => EmulatorFaults
  variants: () => EmulatorVariants
  logger: EmulatorLogger
  now: () => Date
  timeoutMs: number
  retries: number
  retryDelayMs: number
}

/**
 * Sends the job's webhook, if it has one: once, or twice with `duplicateWebhooks`; each copy retried up to
 * `retries` times on a network error or non-2xx; nothing with `dropWebhooks`. Never throws.
 */
export const sendWebhook = async (
  job: JobRecord,
  signal: AbortSignal,
  ctx: WebhookContext,
): Promise<void> => {
  if (!job.webhook) return
  const stats = ctx.stats()
  const faults = ctx.faults()
  if (faults.dropWebhooks) {
    stats.webhooksDropped++
    ctx.logger.info({ jobId: job.id }, 'livingdocs emulator: webhook dropped (fault)')
    return
  }
  const variants = ctx.variants()
  const body = webhookBody(job, variants)
  const copies = faults.duplicateWebhooks ? 2 : 1
  for (let copy = 0; copy < copies; copy++) {
    for (let attempt = 0; attempt <= ctx.retries; attempt++) {
      if (signal.aborted) return
      if (attempt > 0) await sleep(ctx.retryDelayMs, undefined, { signal }).catch(() => {})
      if (signal.aborted) return
      if (await postWebhook(job, body, variants.webhookContentType, signal, stats, ctx)) break
    }
  }
}

const postWebhook = async (
  job: JobRecord,
  body: WebhookBody,
  contentType: string | null,
  signal: AbortSignal,
  stats: EmulatorStats,
  ctx: WebhookContext,
): Promise<boolean> => {
  const url = job.webhook as string
  const delivery: WebhookDelivery = {
    jobId: job.id,
    url,
    body: structuredClone(body),
    ...(contentType !== null ? { contentType } : {}),
    at: ctx.now(),
  }
  stats.webhooksSent++
  stats.webhookDeliveries.push(delivery)
  const headers: Record<string, string> = { 'user-agent': 'livingdocs-emulator' }
  if (contentType !== null) headers['content-type'] = contentType
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: ctx.dispatcher,
      headers,
      // A Buffer, not a string: undici adds no content-type of its own, so `null` really sends none.
      body: Buffer.from(JSON.stringify(body), 'utf8'),
      signal: AbortSignal.any([signal, AbortSignal.timeout(ctx.timeoutMs)]),
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
    })
    await res.body.dump().catch(() => {})
    delivery.status = res.statusCode
    if (res.statusCode >= 200 && res.statusCode < 300) {
      stats.webhooksDelivered++
      job.webhooksDelivered++
      return true
    }
    stats.webhooksFailed++
    ctx.logger.warn(
      { jobId: job.id, url, status: res.statusCode },
      'livingdocs emulator: webhook answered non-2xx',
    )
    return false
  } catch (error) {
    const err = error as { code?: string; message?: string }
    delivery.error = err.code ?? err.message ?? String(error)
    stats.webhooksFailed++
    ctx.logger.warn(
      { jobId: job.id, url, err: delivery.error },
      'livingdocs emulator: webhook delivery failed',
    )
    return false
  }
}
